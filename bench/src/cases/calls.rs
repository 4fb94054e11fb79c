//! Warm calls on a loaded sandbox.

use polybox::{LoadedJSSandbox, SandboxBuilder};

use crate::report::{Measurement, Unit};
use crate::stats::{Plan, latency_us};

const ECHO: &str = "function handler(e) { return e; }";
const TWO_HOST_CALLS: &str =
    "import { id } from 'host:bench';\nfunction handler(e) { return id(e.x) + id(e.x); }";

fn loaded() -> LoadedJSSandbox {
    let mut proto = SandboxBuilder::new().build().unwrap();
    proto.register("bench", "id", |x: i64| x).unwrap();
    let mut sandbox = proto.load_runtime().unwrap();
    sandbox.add_handler("echo", ECHO).unwrap();
    sandbox.add_handler("host2", TWO_HOST_CALLS).unwrap();
    sandbox.get_loaded_sandbox().unwrap()
}

/// Echo without and with GC, and a call making two host calls.
pub fn measure(plan: Plan) -> Vec<Measurement> {
    let mut sandbox = loaded();
    let mut call = |name: &str, handler: &str, gc: bool| {
        let summary = latency_us(plan, || {
            sandbox
                .handle_event(handler, r#"{"x":1}"#, Some(gc))
                .unwrap();
        });
        Measurement {
            group: "warm calls",
            name: name.into(),
            unit: Unit::Micros,
            summary,
        }
    };
    vec![
        call("echo, no GC", "echo", false),
        call("echo, GC (default)", "echo", true),
        call("two host calls, no GC", "host2", false),
    ]
}
