//! Snapshots: restore resets guest state, keeps host state, and recovers a
//! poisoned sandbox after any kind of failure.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use polybox::{ErrorCode, FuelBudget, LoadedJSSandbox, SandboxBuilder, WallClockMonitor};
use polybox_tests::{expect_code, runtime};

fn counters(hits: Arc<AtomicU64>) -> LoadedJSSandbox {
    let mut proto = SandboxBuilder::new().build().unwrap();
    proto
        .register("stats", "hit", move || {
            hits.fetch_add(1, Ordering::SeqCst) + 1
        })
        .unwrap();
    let mut sandbox = proto.load_runtime().unwrap();
    sandbox
        .add_module("counter", "let n = 0;\nexport const inc = () => ++n;", None)
        .unwrap();
    sandbox
        .add_handler(
            "count",
            "import { inc } from 'user:counter';\nimport { hit } from 'host:stats';\n\
             function handler() { return { module: inc(), host: hit() }; }",
        )
        .unwrap();
    sandbox
        .add_handler(
            "recurse",
            "function f(n) { return f(n + 1) + 1; }\nfunction handler() { return f(0); }",
        )
        .unwrap();
    sandbox
        .add_handler("spin", "function handler() { for (;;) {} }")
        .unwrap();
    sandbox.get_loaded_sandbox().unwrap()
}

#[test]
fn restore_resets_module_state_and_keeps_host_state() {
    let hits = Arc::new(AtomicU64::new(0));
    let mut loaded = counters(hits.clone());
    let snapshot = loaded.snapshot().unwrap();
    assert_eq!(
        loaded.handle_event("count", "{}", None).unwrap(),
        r#"{"module":1,"host":1}"#
    );
    assert_eq!(
        loaded.handle_event("count", "{}", None).unwrap(),
        r#"{"module":2,"host":2}"#
    );
    loaded.restore(&snapshot).unwrap();
    assert_eq!(
        loaded.handle_event("count", "{}", None).unwrap(),
        r#"{"module":1,"host":3}"#
    );
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[test]
fn a_snapshot_can_be_restored_many_times_and_taken_mid_way() {
    let mut loaded = counters(Arc::new(AtomicU64::new(0)));
    loaded.handle_event("count", "{}", None).unwrap();
    let after_one = loaded.snapshot().unwrap();
    for _ in 0..5 {
        loaded.handle_event("count", "{}", None).unwrap();
        loaded.handle_event("count", "{}", None).unwrap();
        loaded.restore(&after_one).unwrap();
        let result: serde_json::Value =
            serde_json::from_str(&loaded.handle_event("count", "{}", None).unwrap()).unwrap();
        assert_eq!(result["module"], 2);
        loaded.restore(&after_one).unwrap();
    }
}

#[test]
fn restore_works_after_a_stack_overflow() {
    let mut loaded = counters(Arc::new(AtomicU64::new(0)));
    let snapshot = loaded.snapshot().unwrap();
    assert_eq!(
        loaded.handle_event("count", "{}", None).unwrap(),
        r#"{"module":1,"host":1}"#
    );
    expect_code(
        loaded.handle_event("recurse", "{}", None),
        ErrorCode::StackOverflow,
    );
    loaded.restore(&snapshot).unwrap();
    assert_eq!(
        loaded.handle_event("count", "{}", None).unwrap(),
        r#"{"module":1,"host":2}"#
    );
}

#[test]
fn restore_recovers_from_cancellation_and_budgets() {
    let mut proto_loaded = {
        let mut sandbox = runtime(SandboxBuilder::new().fuel_metering(true));
        sandbox
            .add_handler("spin", "function handler() { for (;;) {} }")
            .unwrap();
        sandbox
            .add_handler("ok", "let n = 0;\nfunction handler() { return ++n; }")
            .unwrap();
        sandbox.get_loaded_sandbox().unwrap()
    };
    let snapshot = proto_loaded.snapshot().unwrap();
    let wall = WallClockMonitor::new(Duration::from_millis(30)).unwrap();
    let fuel = FuelBudget::new(100_000).unwrap();
    for _ in 0..3 {
        expect_code(
            proto_loaded.handle_event_with_monitor("spin", "{}", &wall, None),
            ErrorCode::Cancelled,
        );
        proto_loaded.restore(&snapshot).unwrap();
        expect_code(
            proto_loaded.handle_event_with_monitor("spin", "{}", &fuel, None),
            ErrorCode::Cancelled,
        );
        proto_loaded.restore(&snapshot).unwrap();
        assert_eq!(proto_loaded.handle_event("ok", "{}", None).unwrap(), "1");
        proto_loaded.restore(&snapshot).unwrap();
    }
}

#[test]
fn restore_brings_back_the_handlers_of_the_snapshot() {
    let mut sandbox = runtime(SandboxBuilder::new());
    sandbox
        .add_handler("first", "function handler() { return 1; }")
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    let snapshot = loaded.snapshot().unwrap();
    assert_eq!(snapshot.handlers().collect::<Vec<_>>(), ["first"]);

    // Another sandbox with the same configuration accepts it.
    let mut sandbox = runtime(SandboxBuilder::new());
    sandbox
        .add_handler("second", "function handler() { return 2; }")
        .unwrap();
    let mut other = sandbox.get_loaded_sandbox().unwrap();
    other.restore(&snapshot).unwrap();
    assert_eq!(other.handle_event("first", "{}", None).unwrap(), "1");
    expect_code(
        other.handle_event("second", "{}", None),
        ErrorCode::InvalidArg,
    );
}

#[test]
fn a_snapshot_from_another_configuration_is_rejected() {
    let mut metered = runtime(SandboxBuilder::new().fuel_metering(true))
        .get_loaded_sandbox()
        .unwrap();
    let snapshot = metered.snapshot().unwrap();
    let mut default = runtime(SandboxBuilder::new()).get_loaded_sandbox().unwrap();
    let message = expect_code(default.restore(&snapshot), ErrorCode::InvalidArg);
    assert!(message.contains("different configuration"), "{message}");

    // The heap size may differ, as long as it holds the captured memory.
    let mut grown = runtime(SandboxBuilder::new());
    grown
        .add_handler("grow", "function handler() { globalThis.kept = new Uint8Array(12 << 20); return kept.length; }")
        .unwrap();
    let mut grown = grown.get_loaded_sandbox().unwrap();
    grown.handle_event("grow", "{}", None).unwrap();
    let big = grown.snapshot().unwrap();
    let mut small = runtime(SandboxBuilder::new().heap_size(8 << 20))
        .get_loaded_sandbox()
        .unwrap();
    let message = expect_code(small.restore(&big), ErrorCode::InvalidArg);
    assert!(message.contains("heap size"), "{message}");
    small.restore(&default.snapshot().unwrap()).unwrap();

    let mut proto = SandboxBuilder::new().build().unwrap();
    proto.register("m", "f", || 1).unwrap();
    let mut with_host_fn = proto.load_runtime().unwrap().get_loaded_sandbox().unwrap();
    let plain = default.snapshot().unwrap();
    expect_code(with_host_fn.restore(&plain), ErrorCode::InvalidArg);
}

#[test]
fn restore_after_heap_growth_returns_to_the_smaller_heap() {
    let mut sandbox = runtime(SandboxBuilder::new().heap_size(64 << 20));
    sandbox
        .add_handler("grow", "let keep = [];\nfunction handler(e) { keep.push(new Uint8Array(e.mb << 20)); return keep.length; }")
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    let snapshot = loaded.snapshot().unwrap();
    for _ in 0..3 {
        assert_eq!(
            loaded.handle_event("grow", r#"{"mb":10}"#, None).unwrap(),
            "1"
        );
        assert_eq!(
            loaded.handle_event("grow", r#"{"mb":10}"#, None).unwrap(),
            "2"
        );
        loaded.restore(&snapshot).unwrap();
    }
    // Growth after a restore is limited exactly as before.
    for expected in 1..=5 {
        assert_eq!(
            loaded.handle_event("grow", r#"{"mb":10}"#, None).unwrap(),
            expected.to_string()
        );
    }
    expect_code(
        loaded.handle_event("grow", r#"{"mb":20}"#, None),
        ErrorCode::GuestError,
    );
}

/// A random walk over calls, memory growth, snapshots and restores, checked
/// against a model of what the guest's state must be. Restoring the snapshot
/// the memory was last mapped from copies back only the pages written since,
/// so this is what proves that exact: the handler hashes a 64 KiB array it
/// writes at pseudo-random places, and any page not put back changes the hash.
#[test]
fn snapshots_and_restores_in_any_order_give_exactly_the_saved_state() {
    const SIZE: usize = 64 * 1024;
    let mut sandbox = runtime(SandboxBuilder::new().heap_size(64 << 20));
    sandbox
        .add_handler(
            "step",
            "const SIZE = 65536;\nconst data = new Uint8Array(SIZE);\nconst extra = [];\nlet counter = 0;\n\
             function handler(e) {\n\
               for (const p of e.writes) data[p] = (counter + p) & 255;\n\
               if (e.grow) extra.push(new Uint8Array(e.grow).fill(counter & 255));\n\
               counter += 1;\n\
               let hash = 2166136261;\n\
               for (let i = 0; i < SIZE; i++) hash = Math.imul(hash ^ data[i], 16777619) >>> 0;\n\
               return { counter, hash, extra: extra.map((c) => c[c.length - 1]) };\n\
             }",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();

    #[derive(Clone)]
    struct Model {
        counter: u64,
        data: Vec<u8>,
        extra: Vec<u64>,
    }
    let mut model = Model {
        counter: 0,
        data: vec![0; SIZE],
        extra: vec![],
    };
    let mut saved: Vec<(polybox::Snapshot, Model)> = Vec::new();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..400 {
        match next() % 30 {
            0..3 => saved.push((loaded.snapshot().unwrap(), model.clone())),
            3..9 if !saved.is_empty() => {
                // Mostly the latest snapshot (restored in place), sometimes any.
                let pick = if next() % 4 == 0 {
                    (next() % saved.len() as u64) as usize
                } else {
                    saved.len() - 1
                };
                let (snapshot, state) = &saved[pick];
                loaded.restore(snapshot).unwrap();
                model = state.clone();
            }
            roll => {
                let writes: Vec<usize> = (0..1 + next() % 64)
                    .map(|_| (next() % SIZE as u64) as usize)
                    .collect();
                let grow = if roll == 29 {
                    [4096u64, 100_000, 1 << 20][(next() % 3) as usize]
                } else {
                    0
                };
                for &p in &writes {
                    model.data[p] = ((model.counter + p as u64) & 255) as u8;
                }
                if grow > 0 {
                    model.extra.push(model.counter & 255);
                }
                model.counter += 1;
                let mut hash: u32 = 2_166_136_261;
                for &byte in &model.data {
                    hash = (hash ^ u32::from(byte)).wrapping_mul(16_777_619);
                }
                let event = serde_json::json!({ "writes": writes, "grow": grow });
                let result: serde_json::Value = serde_json::from_str(
                    &loaded
                        .handle_event("step", event.to_string(), None)
                        .unwrap(),
                )
                .unwrap();
                assert_eq!(
                    result,
                    serde_json::json!({"counter": model.counter, "hash": hash, "extra": model.extra})
                );
            }
        }
    }
}
