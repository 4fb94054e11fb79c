//! # `@polybox/node`: the Node.js addon
//!
//! A thin native layer over the `polybox` crate; `lib.js` gives it the exact
//! shape of `@hyperlight/js-host-api` (chaining, getters, options objects,
//! `error.code`). The split keeps JavaScript conventions in JavaScript and
//! engine work in Rust:
//!
//! - everything that touches the engine runs on the addon's worker threads
//!   (`workers.rs`) as a `Job` and returns a Promise, so the event loop
//!   stays free;
//! - host callbacks run on the main thread through threadsafe functions
//!   (`host_functions.rs`); the guest's thread waits for their result;
//! - arguments are checked here, once (`args.rs`), and every error is a
//!   JavaScript `Error` whose `code` is set natively (`error.rs`).

// The modules holding `#[napi]` exports are public: they are the addon's
// surface, which Rust's dead-code analysis cannot otherwise see.
pub mod abort;
mod args;
pub mod blueprint;
pub mod builder;
pub mod capabilities;
mod component;
mod error;
pub mod exchange;
pub mod host_functions;
mod http;
pub mod interrupt;
mod job;
pub mod js_sandbox;
pub mod live;
pub mod loaded;
pub mod log;
pub mod output;
pub mod pool;
pub mod process;
pub mod proto;
pub mod runtime;
pub mod session;
mod settler;
pub mod snapshot;
pub mod template;
pub mod tools;
mod workers;
