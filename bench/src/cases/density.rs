//! Density: resident memory of many loaded, idle sandboxes.

use polybox::{LoadedJSSandbox, SandboxBuilder};

use super::{ECHO, EVENT};
use crate::report::{Measurement, Target, Unit};
use crate::stats::Summary;

/// RSS growth after 100 and after 1,000 loaded sandboxes (each with a handler
/// called once), and the cost per sandbox; with `ten_thousand` (the full
/// run), also after 10,000, every one of which then answers a call.
pub fn measure(ten_thousand: bool) -> Vec<Measurement> {
    // Warm the engine and runtime image first: they are shared, not per sandbox.
    drop(loaded());
    let base = rss_mib();
    let mut sandboxes: Vec<LoadedJSSandbox> = (0..100).map(|_| loaded()).collect();
    let at_100 = rss_mib() - base;
    sandboxes.extend((100..1000).map(|_| loaded()));
    let at_1000 = rss_mib() - base;
    let once = |value: f64| Summary::of_runs(vec![value]);
    let mut rows = Vec::new();
    if ten_thousand {
        sandboxes.extend((1000..10_000).map(|_| loaded()));
        let at_10000 = rss_mib() - base;
        for sandbox in &mut sandboxes {
            assert_eq!(sandbox.handle_event("echo", EVENT, None).unwrap(), EVENT);
        }
        rows.push(Measurement::new(
            "density",
            "RSS of 10,000 loaded sandboxes in one process (all answering)",
            Unit::Mebibytes,
            once(at_10000),
        ));
    }
    drop(sandboxes);
    rows.splice(
        0..0,
        [
            Measurement::new(
                "density",
                "RSS of 100 loaded sandboxes",
                Unit::Mebibytes,
                once(at_100),
            ),
            Measurement::new(
                "density",
                "RSS of 1,000 loaded sandboxes",
                Unit::Mebibytes,
                once(at_1000),
            )
            .target(Target::AtMost(200.0)),
            Measurement::new(
                "density",
                "RSS per sandbox",
                Unit::Mebibytes,
                once(at_1000 / 1000.0),
            )
            .target(Target::AtMost(0.2)),
        ],
    );
    rows
}

fn loaded() -> LoadedJSSandbox {
    let mut loaded = super::loaded(SandboxBuilder::new(), &[("echo", ECHO)]);
    loaded.handle_event("echo", EVENT, None).unwrap();
    loaded
}

/// This process's resident set, from `/proc/self/statm`.
pub fn rss_mib() -> f64 {
    statm_mib(1)
}

/// The part of the resident set that is file pages (shared with other
/// mappings of the same file: guest images), from `/proc/self/statm`.
pub fn shared_mib() -> f64 {
    statm_mib(2)
}

/// Field `index` of `/proc/self/statm`, in MiB.
fn statm_mib(index: usize) -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(index)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / (1024.0 * 1024.0)
}
