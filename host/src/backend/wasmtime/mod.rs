//! The wasmtime backend: the JS guest component in process.
//!
//! One [`Engine`](::wasmtime::Engine) per distinct engine configuration is
//! shared process-wide, with the guest compiled once for it (and cached on
//! disk, `artifact.rs`) and pre-linked into one `InstancePre`. Each sandbox
//! owns a `Store` and an instance; memory growth is capped by the sandbox's
//! heap size without trapping, so running out of memory is a JavaScript error.
//! The guest has no filesystem, environment or network: its only imports are
//! the host functions and the platform interface (`state.rs`).

mod artifact;
mod bindings;
mod component;
mod dispatch;
mod engine;
mod guest;
mod memory;
mod state;
mod thread_stack;
mod ticker;
mod trap;

pub(crate) use guest::WasmtimeGuest;
