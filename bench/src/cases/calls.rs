//! Warm calls on a loaded sandbox.

use polybox::{Backend, LoadedJSSandbox, SandboxBuilder};

use crate::report::{Measurement, Target, Unit};
use crate::stats::{Plan, latency_us};

fn loaded(backend: Backend) -> LoadedJSSandbox {
    let mut proto = SandboxBuilder::new().backend(backend).build().unwrap();
    proto.register("bench", "id", |x: i64| x).unwrap();
    let mut sandbox = proto.load_runtime().unwrap();
    sandbox
        .add_module("math", "export const add = (a, b) => a + b;", None)
        .unwrap();
    sandbox
        .add_handler("echo", "function handler(e) { return e; }")
        .unwrap();
    sandbox
        .add_handler(
            "module",
            "import { add } from 'user:math';\nfunction handler(e) { return add(e.x, 1); }",
        )
        .unwrap();
    sandbox
        .add_handler(
            "host2",
            "import { id } from 'host:bench';\nfunction handler(e) { return id(e.x) + id(e.x); }",
        )
        .unwrap();
    sandbox.get_loaded_sandbox().unwrap()
}

/// Echo without and with GC, a user-module call, two host calls, and a
/// 64 KiB event round trip.
pub fn measure(backend: Backend, plan: Plan) -> Vec<Measurement> {
    let mut sandbox = loaded(backend);
    let mut call = |handler: &str, event: &str, gc: Option<bool>| {
        latency_us(plan, || {
            sandbox.handle_event(handler, event, gc).unwrap();
        })
    };
    let big = format!(r#"{{"blob":"{}"}}"#, "x".repeat(64 * 1024));
    let row = |name: &str, summary| Measurement::new("warm calls", name, Unit::Micros, summary);
    let big_trip = call("echo", &big, Some(false));
    vec![
        row("echo, no GC", call("echo", r#"{"x":1}"#, Some(false))).target(Target::AtMost(2.0)),
        row("echo, default GC", call("echo", r#"{"x":1}"#, None)).target(Target::AtMost(8.0)),
        row(
            "user-module call, no GC",
            call("module", r#"{"x":1}"#, Some(false)),
        ),
        row(
            "two host calls, no GC",
            call("host2", r#"{"x":1}"#, Some(false)),
        ),
        row("64 KiB event round trip, no GC", big_trip),
        Measurement::new(
            "warm calls",
            "64 KiB event round trip, event bytes per second",
            Unit::MegabytesPerSecond,
            big_trip.throughput(big.len() as f64),
        )
        .target(Target::AtLeast(500.0)),
    ]
}
