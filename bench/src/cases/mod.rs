//! The measurements, one concept per file. Each takes a [`Plan`](crate::Plan)
//! for how long to run and returns rows for the report.

use polybox::{LoadedJSSandbox, SandboxBuilder};

pub mod calls;
pub mod cold_start;
pub mod components;
pub mod compute;
pub mod density;
pub mod lifecycle;
pub mod limits;
pub mod mcp;
pub mod pools;
pub mod programs;
pub mod python;
pub mod serving;
pub mod snapshots;
pub mod templates;
pub mod throughput;

/// The echo handler most measurements call.
const ECHO: &str = "function handler(e) { return e; }";

/// The small event the echo measurements send.
const EVENT: &str = r#"{"x":1}"#;

/// A sandbox from `builder`, loaded with `handlers` (name and source).
fn loaded(builder: SandboxBuilder, handlers: &[(&str, &str)]) -> LoadedJSSandbox {
    let mut sandbox = builder.build().unwrap().load_runtime().unwrap();
    for &(name, source) in handlers {
        sandbox.add_handler(name, source).unwrap();
    }
    sandbox.get_loaded_sandbox().unwrap()
}
