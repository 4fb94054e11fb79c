//! Components written by users, in any language, against `wit/`: handlers
//! (the `handler` world, or `wasi:http/proxy` for HTTP: `incoming.rs`), modules that JavaScript imports, and host-import
//! providers whose exports become host functions.
//!
//! They run on the sandbox's engine, so kills, epoch deadlines and fuel reach
//! them exactly as they reach the JS guest, each in a store of its own with
//! its own memory limit. They may import WASI and `host-call`. WASI reaches
//! only what the sandbox's capabilities grant: its filesystem (`files.rs`,
//! the same tree and policy as JavaScript's `node:fs`) and the environment
//! variables the policy lets through, and outgoing `wasi:http` requests,
//! which the sandbox's network capability decides and sends (`http.rs`);
//! wasmtime-wasi serves the rest (clocks,
//! random, stdio to the log) with nothing else granted: no sockets, no
//! arguments, no host directories.

mod env;
mod file_streams;
mod files;
mod functions;
mod handler;
mod http;
mod incoming;
mod linker;
mod module;
mod state;
mod stdio;
mod values;

pub(super) use env::{AuthorEnv, Grants};
pub(super) use handler::ComponentHandler;
pub(super) use linker::Authors;
pub(super) use module::ComponentModule;
