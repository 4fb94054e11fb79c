//! Density: the memory of many loaded, idle sandboxes.
//!
//! Two figures per count, because they answer different questions. The
//! resident set (RSS) counts a page once per mapping, so the guest image's
//! pages that every sandbox maps (one physical copy, shared) are counted
//! once per sandbox. What a sandbox really adds to the machine is its
//! private pages, its share of the shared ones and its page tables: the
//! proportional set size (PSS, which divides each shared page among its
//! mappings) plus the page tables, which no set counts. The targets hold to
//! that figure.

use polybox::{LoadedJSSandbox, SandboxBuilder, Template};

use super::{ECHO, EVENT};
use crate::report::{Measurement, Target, Unit};
use crate::stats::Summary;

/// After one sandbox has warmed the shared engine and runtime image: the
/// memory and RSS of 100 and of 1,000 loaded sandboxes (each with a handler
/// called once) and per sandbox, loaded one by one and created from a
/// template (while the others are alive); with `ten_thousand` (the full run), also 10,000, every one of
/// which then answers a call.
pub fn measure(ten_thousand: bool) -> Vec<Measurement> {
    let mut rows = Vec::new();
    let built = || called(super::loaded(SandboxBuilder::new(), &[("echo", ECHO)]));
    drop(built());
    let base = Usage::now();
    let mut sandboxes: Vec<LoadedJSSandbox> = (0..100).map(|_| built()).collect();
    let at_100 = Usage::now().minus(&base);
    sandboxes.extend((100..1000).map(|_| built()));
    let at_1000 = Usage::now().minus(&base);
    rows.push(row("memory of 100 loaded sandboxes", at_100.memory));
    rows.push(
        row("memory of 1,000 loaded sandboxes", at_1000.memory).target(Target::AtMost(200.0)),
    );
    rows.push(row("memory per sandbox", at_1000.memory / 1000.0).target(Target::AtMost(0.2)));
    rows.push(row(
        "RSS per sandbox (shared image pages counted per sandbox)",
        at_1000.rss / 1000.0,
    ));
    if ten_thousand {
        sandboxes.extend((1000..10_000).map(|_| built()));
        let at_10000 = Usage::now().minus(&base);
        for sandbox in &mut sandboxes {
            assert_eq!(sandbox.handle_event("echo", EVENT, None).unwrap(), EVENT);
        }
        rows.push(row(
            "memory of 10,000 loaded sandboxes in one process (all answering)",
            at_10000.memory,
        ));
        rows.push(row("RSS of the same 10,000", at_10000.rss));
    }

    let proto = SandboxBuilder::new().build().unwrap();
    let template = Template::builder(proto)
        .handler("echo", ECHO)
        .build()
        .unwrap();
    let created = || called(template.create().unwrap());
    // The sandboxes above stay alive, so that these cannot take the heap
    // memory they would free and seem smaller.
    sandboxes.push(created());
    let base = Usage::now();
    sandboxes.extend((0..1000).map(|_| created()));
    let at_1000 = Usage::now().minus(&base);
    rows.push(
        row(
            "memory per sandbox created from a template",
            at_1000.memory / 1000.0,
        )
        .target(Target::AtMost(0.2)),
    );
    rows.push(row(
        "RSS per sandbox created from a template",
        at_1000.rss / 1000.0,
    ));
    rows
}

fn row(name: &str, mebibytes: f64) -> Measurement {
    Measurement::new(
        "density",
        name,
        Unit::Mebibytes,
        Summary::of_runs(vec![mebibytes]),
    )
}

/// `sandbox`, after one call of its echo handler with the default GC.
fn called(mut sandbox: LoadedJSSandbox) -> LoadedJSSandbox {
    sandbox.handle_event("echo", EVENT, None).unwrap();
    sandbox
}

/// This process's memory at one moment, in MiB.
struct Usage {
    /// PSS plus page tables.
    memory: f64,
    /// The resident set.
    rss: f64,
}

impl Usage {
    fn now() -> Self {
        Self {
            memory: kib_field("/proc/self/smaps_rollup", "Pss:")
                + kib_field("/proc/self/status", "VmPTE:"),
            rss: rss_mib(),
        }
    }

    fn minus(&self, before: &Usage) -> Usage {
        Usage {
            memory: self.memory - before.memory,
            rss: self.rss - before.rss,
        }
    }
}

/// The `kB` figure of the line starting with `key` in `file`, in MiB (0 when
/// there is none).
fn kib_field(file: &str, key: &str) -> f64 {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let kib: f64 = text
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
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
