//! The lifecycle modes hyperlight-bench reports, in calls per second:
//! "reuse" calls one sandbox again and again; "reload" restores a snapshot
//! before each call; "new" builds a fresh sandbox for each call.

use std::time::Duration;

use polybox::{LoadedJSSandbox, SandboxBuilder};

use super::{ECHO, EVENT};
use crate::report::{Measurement, Unit};
use crate::stats::{Summary, per_second};

fn loaded() -> LoadedJSSandbox {
    super::loaded(SandboxBuilder::new(), &[("echo", ECHO)])
}

/// Calls per second in each mode, over `runs` runs of `duration`.
pub fn measure(runs: usize, duration: Duration) -> Vec<Measurement> {
    let mut sandbox = loaded();
    let snapshot = sandbox.snapshot().unwrap();
    let repeat = |op: &mut dyn FnMut()| {
        Summary::of_runs((0..runs).map(|_| per_second(duration, &mut *op)).collect())
    };
    let reuse = repeat(&mut || {
        sandbox.handle_event("echo", EVENT, None).unwrap();
    });
    let reload = repeat(&mut || {
        sandbox.restore(&snapshot).unwrap();
        sandbox.handle_event("echo", EVENT, None).unwrap();
    });
    let new = repeat(&mut || {
        loaded().handle_event("echo", EVENT, None).unwrap();
    });
    let row = |name: &str, summary| Measurement::new("lifecycle", name, Unit::PerSecond, summary);
    vec![
        row("reuse", reuse),
        row("reload (restore + call)", reload),
        row("new (fresh sandbox + call)", new),
    ]
}
