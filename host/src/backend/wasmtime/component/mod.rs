//! Components written by users, in any language, against `wit/`: handlers
//! (the `handler` world), modules that JavaScript imports, and host-import
//! providers whose exports become host functions.
//!
//! They run on the sandbox's engine, so kills, epoch deadlines and fuel reach
//! them exactly as they reach the JS guest, each in a store of its own with
//! its own memory limit. They may import WASI, provided by `wasmtime-wasi`
//! with nothing granted, and `host-call`.

mod env;
mod functions;
mod handler;
mod linker;
mod module;
mod state;
mod stdio;
mod values;

pub(super) use env::AuthorEnv;
pub(super) use handler::ComponentHandler;
pub(super) use linker::Authors;
pub(super) use module::ComponentModule;
