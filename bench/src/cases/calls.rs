//! Warm calls on a loaded sandbox.

use polybox::permissions::Permissions;
use polybox::{Backend, HttpRequest, HttpResponse, LoadedJSSandbox, SandboxBuilder};

use crate::report::{Measurement, Target, Unit};
use crate::stats::{Plan, Summary, latency_us};

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

/// A sentence with an em dash, repeated to make the prose event.
const PROSE: &str =
    "Polybox runs code nobody trusts — written by strangers, or by a model — safely and fast. ";

/// Echo without and with GC, a user-module call, two host calls, round
/// trips of a 64 KiB event of ASCII and of prose and of an array of 1,000
/// integers, and a fetch decided by the network policy.
pub fn measure(backend: Backend, plan: Plan) -> Vec<Measurement> {
    let mut sandbox = loaded(backend);
    let mut call = |handler: &str, event: &str, gc: Option<bool>| {
        latency_us(plan, || {
            sandbox.handle_event(handler, event, gc).unwrap();
        })
    };
    let big = format!(r#"{{"blob":"{}"}}"#, "x".repeat(64 * 1024));
    // Text as people and models write it: ASCII with a few characters past
    // U+00FF (here an em dash), which make QuickJS hold it as UTF-16.
    let prose = format!(r#"{{"blob":"{}"}}"#, PROSE.repeat(64 * 1024 / PROSE.len()));
    let row = |name: &str, summary| Measurement::new("warm calls", name, Unit::Micros, summary);
    let rate = |name: &str, summary: Summary, bytes: usize| {
        Measurement::new(
            "warm calls",
            name,
            Unit::MegabytesPerSecond,
            summary.throughput(bytes as f64),
        )
        .target(Target::AtLeast(500.0))
    };
    // Numbers as events carry them: 1,000 integers of up to five digits.
    let integers = format!(
        "[{}]",
        (0..1000u32)
            .map(|i| (i * 7919 % 100_000).to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let big_trip = call("echo", &big, Some(false));
    let prose_trip = call("echo", &prose, Some(false));
    let integers_trip = call("echo", &integers, Some(false));
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
        rate(
            "64 KiB event round trip, event bytes per second",
            big_trip,
            big.len(),
        ),
        row("64 KiB prose event round trip, no GC", prose_trip),
        rate(
            "64 KiB prose event round trip, event bytes per second",
            prose_trip,
            prose.len(),
        ),
        row("1,000-integer array event round trip, no GC", integers_trip),
        row("fetch through the policy, a handler answering", {
            let mut fetching = fetching(backend);
            latency_us(plan, || {
                fetching.handle_event("fetch", "{}", Some(false)).unwrap();
            })
        }),
    ]
}

/// A sandbox whose handler fetches under a policy of four network rules
/// (the request matches the third), a caller's handler answering: the
/// guest's `fetch`, the host's decision on the parsed URL and the answer,
/// without a network.
fn fetching(backend: Backend) -> LoadedJSSandbox {
    let policy = Permissions::from_json(
        r#"{"network": {"rules": [
            {"mode": "allow", "patterns": ["https://*.example.org"]},
            {"mode": "allow", "patterns": ["10.0.0.0/8:8080"]},
            {"mode": "allow", "patterns": ["https://api.example.com/v1"]},
            {"mode": "deny", "patterns": ["https://api.example.com/v1/admin"]}
        ]}}"#,
    )
    .unwrap();
    let builder = SandboxBuilder::new()
        .backend(backend)
        .permissions(policy)
        .http_handler(|_: &HttpRequest| Ok(HttpResponse::new(200, "ok")));
    let mut sandbox = builder.build().unwrap().load_runtime().unwrap();
    sandbox
        .add_handler(
            "fetch",
            "async function handler() { const r = await fetch('https://api.example.com/v1/items?page=2'); return r.status; }",
        )
        .unwrap();
    sandbox.get_loaded_sandbox().unwrap()
}
