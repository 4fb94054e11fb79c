//! # Polybox
//!
//! A sandbox host for untrusted code. JavaScript handlers run in QuickJS,
//! built as a WebAssembly component, on wasmtime in process (the default) or
//! inside a Hyperlight micro-VM.
//!
//! ```
//! # fn main() -> polybox::Result<()> {
//! use polybox::SandboxBuilder;
//!
//! let mut proto = SandboxBuilder::new().build()?;
//! proto.host_module("math")?.register("add", |a: f64, b: f64| a + b)?;
//! let mut sandbox = proto.load_runtime()?;
//! sandbox.add_handler(
//!     "greet",
//!     r#"import * as math from "host:math";
//!        function handler(event) {
//!            return { message: `Hello, ${event.name}!`, sum: math.add(1, 2) };
//!        }"#,
//! )?;
//! let mut loaded = sandbox.get_loaded_sandbox()?;
//! let result = loaded.handle_event("greet", r#"{"name":"World"}"#, None)?;
//! assert_eq!(result, r#"{"message":"Hello, World!","sum":3}"#);
//! # Ok(()) }
//! ```
//!
//! Guest output (`console.*`) goes to [`tracing`](https://docs.rs/tracing)
//! events with target `polybox::guest` unless
//! [`SandboxBuilder::log_sink`] sends it elsewhere.
//!
//! Layers, top to bottom: the typestate API ([`sandbox`]), monitors
//! ([`monitor`]), capabilities (host functions, [`host_fn`], among them),
//! and backends, which alone know engine types. `docs/ARCHITECTURE.md` in
//! the repository tells how they fit.

// Stable Rust only, although builds set RUSTC_BOOTSTRAP (.cargo/config.toml).
#![deny(unstable_features)]

// Hyperlight's generated bindings name `::alloc`.
#[cfg(feature = "hyperlight")]
extern crate alloc;

mod backend;
mod cache_dir;
mod capability;
mod component;
mod config;
mod error;
#[cfg(fuzzing)]
pub mod fuzzing;
mod http;
mod json_depth;
mod metrics;
pub mod monitor;
mod names;
pub mod permissions;
pub mod pool;
pub mod program;
pub mod sandbox;
pub mod session;
mod snapshot;
mod stats;
pub mod template;

pub use backend::MAX_STACK_SIZE;
pub use capability::fs::{DEFAULT_FS_MEMORY_LIMIT, Mount, SharedFiles};
pub use capability::host_functions as host_fn;
pub use capability::net::{
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_REQUEST_TIMEOUT, HttpHandler, Secret,
};
pub use capability::sockets::Listeners;
pub use capability::tools::{TOOLS_MODULE, Tool, ToolHandler};
pub use capability::{LogLevel, LogSink};
pub use component::WasmComponent;
pub use config::{
    Backend, DEFAULT_HEAP_SIZE, DEFAULT_INPUT_BUFFER_SIZE, DEFAULT_OUTPUT_BUFFER_SIZE,
    DEFAULT_PYTHON_HEAP_SIZE, DEFAULT_STACK_SIZE, Language,
};
pub use error::{Error, ErrorCode, GuestError, GuestErrorKind, Result};
pub use host_fn::{CallContext, HostModule};
pub use http::{HttpRequest, HttpResponse};
pub use monitor::{
    CallLimits, CpuTimeMonitor, EpochDeadline, ExecutionMonitor, FuelBudget, InterruptHandle,
    MonitorSet, Recheck, WallClockMonitor,
};
pub use names::MAX_NAME_LEN;
pub use pool::{Pool, PoolBuilder, SandboxFactory, Strategy};
pub use program::{
    ExecOptions, ExecOutput, Process, ProcessHandle, ProgramKind, RunOutput, Runtime,
    RuntimeBuilder,
};
pub use sandbox::{JSSandbox, LoadError, LoadedJSSandbox, ProtoJSSandbox, SandboxBuilder, Script};
pub use session::{Argument, Session, SessionEvent, SessionTemplate, SessionTemplateBuilder};
pub use snapshot::Snapshot;
pub use stats::CallStats;
pub use template::{CacheStatus, Template, TemplateBuilder};
