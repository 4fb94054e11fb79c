//! The cost of crossing into a component: a JavaScript handler's call to a
//! component module and to a host component, next to its call to a host
//! function, and a component handler next to a JavaScript one.

use polybox::{LoadedJSSandbox, SandboxBuilder, WasmComponent};

use crate::report::{Measurement, Unit};
use crate::stats::{Plan, latency_us};

macro_rules! component {
    ($file:literal) => {
        WasmComponent::from_bytes(include_bytes!(concat!(
            env!("POLYBOX_BENCH_COMPONENTS"),
            "/",
            $file
        )))
    };
}

/// Calls each handler makes, so the per-call cost stands out of the
/// handler's own.
const CALLS: u32 = 10;

fn loaded() -> LoadedJSSandbox {
    let mut proto = SandboxBuilder::new().build().unwrap();
    proto
        .register("bench", "clamp", |x: i64, low: i64, high: i64| {
            x.clamp(low, high)
        })
        .unwrap();
    proto
        .host_component("kv", component!("kv_store.wasm"))
        .unwrap();
    let mut sandbox = proto.load_runtime().unwrap();
    sandbox
        .add_component_module("textkit", component!("textkit.wasm"), None)
        .unwrap();
    sandbox
        .add_component_handler("component-echo", component!("echo_handler.wasm"))
        .unwrap();
    let looped = |import: &str, call: &str| {
        format!(
            "{import}\nfunction handler(e) {{ let r; for (let i = 0; i < {CALLS}; i++) r = {call}; return r; }}"
        )
    };
    for (name, source) in [
        ("none", looped("", "e.x")),
        (
            "host-fn",
            looped("import { clamp } from 'host:bench';", "clamp(e.x, 0, 10)"),
        ),
        (
            "module",
            looped("import { clamp } from 'user:textkit';", "clamp(e.x, 0, 10)"),
        ),
        (
            "host-component",
            looped("import { get } from 'host:kv';", "get('k')"),
        ),
    ] {
        sandbox.add_handler(name, source).unwrap();
    }
    sandbox
        .add_handler("js-echo", "function handler(e) { return { echo: e }; }")
        .unwrap();
    sandbox.get_loaded_sandbox().unwrap()
}

/// Per-call cost of each crossing, and component vs JavaScript echo.
pub fn measure(plan: Plan) -> Vec<Measurement> {
    let mut sandbox = loaded();
    let mut call = |handler: &str| {
        latency_us(plan, || {
            sandbox
                .handle_event(handler, r#"{"x":1}"#, Some(false))
                .unwrap();
        })
    };
    let none = call("none");
    let mut per_call = |handler: &str| call(handler).minus(none).divided_by(f64::from(CALLS));
    let host_fn = per_call("host-fn");
    let module = per_call("module");
    let host_component = per_call("host-component");
    let js_echo = call("js-echo");
    let component_echo = call("component-echo");
    let row = |name: &str, summary| Measurement::new("components", name, Unit::Micros, summary);
    vec![
        row("JS → host function, per call", host_fn),
        row("JS → component module (textkit.clamp), per call", module),
        row("JS → host component (kv.get), per call", host_component),
        row("echo, JavaScript handler, no GC", js_echo),
        row("echo, Rust handler component", component_echo),
    ]
}
