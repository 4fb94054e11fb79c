//! Arbitrary JSON arguments for every typed host function and every
//! `textkit` component export: each call returns or throws an error the
//! script can catch, and the host's decoding never fails otherwise.

#![no_main]

use std::cell::RefCell;
use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use polybox::{LoadedJSSandbox, SandboxBuilder, Snapshot, WasmComponent};
use polybox_fuzz::{limit, settle};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Point {
    x: f64,
    y: f64,
    label: Option<String>,
}

const TEXTKIT: &[u8] = include_bytes!(concat!(env!("POLYBOX_FUZZ_COMPONENTS"), "/textkit.wasm"));

thread_local! {
    static SANDBOX: RefCell<(LoadedJSSandbox, Snapshot)> = RefCell::new({
        let mut proto = SandboxBuilder::new().build().unwrap();
        proto
            .host_module("f")
            .unwrap()
            .register("int", |a: i64, b: u8| a.wrapping_add(i64::from(b)))
            .unwrap()
            .register("float", |a: f64| a * 2.0)
            .unwrap()
            .register("text", |s: String, n: usize| s.chars().take(n).collect::<String>())
            .unwrap()
            .register("flag", |b: bool| !b)
            .unwrap()
            .register("list", |v: Vec<i32>| v.into_iter().map(i64::from).sum::<i64>())
            .unwrap()
            .register("maybe", |s: Option<String>| s.map(|s| s.len()))
            .unwrap()
            .register("map", |m: BTreeMap<String, i64>| m.len())
            .unwrap()
            .register("point", |p: Point| Point { x: p.y, y: p.x, label: p.label })
            .unwrap();
        let mut sandbox = proto.load_runtime().unwrap();
        sandbox
            .add_component_module("textkit", WasmComponent::from_bytes(TEXTKIT), None)
            .unwrap();
        sandbox
            .add_handler(
                "h",
                "import * as f from 'host:f';\nimport * as t from 'user:textkit';
                function handler(args) {
                    if (!Array.isArray(args)) args = [args];
                    const out = [];
                    for (const fn of [...Object.values(f), ...Object.values(t)]) {
                        try { out.push(fn(...args)); } catch (e) { out.push(String(e)); }
                    }
                    return out;
                }",
            )
            .unwrap();
        let mut loaded = sandbox.get_loaded_sandbox().unwrap();
        let snapshot = loaded.snapshot().unwrap();
        (loaded, snapshot)
    });
}

fuzz_target!(|data: &[u8]| {
    let args = String::from_utf8_lossy(data);
    if serde_json::from_str::<serde_json::Value>(&args).is_err() {
        return;
    }
    SANDBOX.with_borrow_mut(|(loaded, snapshot)| {
        let result = loaded.handle_event_with_monitor("h", &*args, &limit(), Some(false));
        settle(loaded, snapshot, &result);
    });
});
