//! The Hyperlight backend: the same JS guest component inside a Hyperlight
//! micro-VM (`hyperlight-wasm`), so that escaping the wasm sandbox still
//! lands inside a VM.
//!
//! The guest is the wasmtime backend's component, compiled ahead of time by
//! `hyperlight-wasm-aot` at build time (`build.rs`) and mapped read-only
//! into every VM. Its imports (`host-call`, `platform`) are Hyperlight host
//! functions generated from `wit/` (`bindings.rs`); there is no WASI.
//! Hyperlight's guest engine meters no fuel and has no epoch: calls are
//! bounded by the wall-clock and CPU monitors and by kills, which interrupt
//! the vCPU. Before the first sandbox a probe starts one VM, so that a
//! hypervisor that cannot run guests is reported, not hit later.

mod bindings;
mod errors;
mod guest;
mod image;
mod imports;
mod probe;

pub(crate) use guest::HyperlightGuest;
