//! Snapshot and restore ("reload").

use polybox::{Backend, SandboxBuilder};

use super::{ECHO, EVENT, loaded};
use crate::report::{Measurement, Target, Unit};
use crate::stats::{Plan, latency_us};

/// Taking a snapshot, restoring one, and restoring then calling.
pub fn measure(backend: Backend, plan: Plan) -> Vec<Measurement> {
    let mut loaded = loaded(SandboxBuilder::new().backend(backend), &[("echo", ECHO)]);
    loaded.handle_event("echo", "{}", None).unwrap();
    let small = Plan {
        per_run: plan.per_run.min(200),
        ..plan
    };
    let snapshot = latency_us(small, || drop(loaded.snapshot().unwrap()));
    let image = loaded.snapshot().unwrap();
    let restore = latency_us(small, || loaded.restore(&image).unwrap());
    let reload = latency_us(small, || {
        loaded.restore(&image).unwrap();
        loaded.handle_event("echo", EVENT, None).unwrap();
    });
    let row = |name: &str, summary| Measurement::new("snapshots", name, Unit::Micros, summary);
    vec![
        row("snapshot", snapshot),
        row("restore", restore),
        row("restore + echo", reload).target(Target::AtMost(5.0)),
    ]
}
