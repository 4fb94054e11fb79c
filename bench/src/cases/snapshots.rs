//! Snapshot and restore.

use polybox::SandboxBuilder;

use crate::report::{Measurement, Unit};
use crate::stats::{Plan, latency_us};

/// Taking a snapshot, restoring one, and restoring then calling.
pub fn measure(plan: Plan) -> Vec<Measurement> {
    let mut sandbox = SandboxBuilder::new()
        .build()
        .unwrap()
        .load_runtime()
        .unwrap();
    sandbox
        .add_handler("echo", "function handler(e) { return e; }")
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    loaded.handle_event("echo", "{}", None).unwrap();
    let snapshot = loaded.snapshot().unwrap();
    let row = |name: &str, summary| Measurement {
        group: "snapshots",
        name: name.into(),
        unit: Unit::Micros,
        summary,
    };
    let small = crate::stats::Plan {
        per_run: plan.per_run.min(200),
        ..plan
    };
    vec![
        row(
            "snapshot",
            latency_us(small, || drop(loaded.snapshot().unwrap())),
        ),
        row(
            "restore",
            latency_us(small, || loaded.restore(&snapshot).unwrap()),
        ),
        row(
            "restore + echo",
            latency_us(small, || {
                loaded.restore(&snapshot).unwrap();
                loaded
                    .handle_event("echo", r#"{"x":1}"#, Some(false))
                    .unwrap();
            }),
        ),
    ]
}
