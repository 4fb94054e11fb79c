//! The Python guest beside the JavaScript rows: a new sandbox from a
//! template to its first result, a warm echo call, fib(25) against native
//! CPython (the machine's `python3`, run in the same benchmark), and the
//! memory each idle sandbox adds.

use std::process::Command;

use polybox::{Language, LoadedJSSandbox, SandboxBuilder, Template};

use super::EVENT;
use crate::cases::density::{rss_mib, shared_mib};
use crate::report::{Measurement, Target, Unit};
use crate::stats::{Plan, Summary, latency_us};

const ECHO: &str = "def handler(event):\n    return event\n";
const FIB: &str = "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n";

fn python() -> SandboxBuilder {
    SandboxBuilder::new().language(Language::Python)
}

fn template() -> Template {
    let fib = format!("{FIB}\ndef handler(event):\n    return fib(event['n'])\n");
    Template::builder(python().build().unwrap())
        .handler("echo", ECHO)
        .handler("fib", fib)
        .build()
        .unwrap()
}

/// The Python rows; `calls` for warm calls, `cold` for new sandboxes and
/// `heavy` for fib(25).
pub fn measure(calls: Plan, cold: Plan, heavy: Plan) -> Vec<Measurement> {
    let template = template();
    let created = latency_us(cold, || {
        let mut sandbox = template.create().unwrap();
        sandbox.handle_event("echo", EVENT, None).unwrap();
        sandbox
    });
    let mut warm = template.create().unwrap();
    let echo = latency_us(calls, || warm.handle_event("echo", EVENT, None).unwrap());
    let sandboxed = latency_us(heavy, || {
        warm.handle_event("fib", r#"{"n":25}"#, Some(false))
            .unwrap()
    });
    let mut rows = vec![
        Measurement::new(
            "python",
            "new sandbox from a template to first result",
            Unit::Micros,
            created,
        )
        .target(Target::AtMost(1000.0)),
        Measurement::new("python", "echo call", Unit::Micros, echo).target(Target::AtMost(15.0)),
        Measurement::new("python", "fib(25) in the sandbox", Unit::Micros, sandboxed),
    ];
    match native_fib(heavy) {
        Some((version, native)) => rows.extend([
            Measurement::new(
                "python",
                format!("fib(25), native {version}"),
                Unit::Micros,
                native,
            ),
            Measurement::new(
                "python",
                "sandbox / native CPython",
                Unit::Ratio,
                sandboxed.ratio_to(native),
            )
            .target(Target::AtMost(2.0)),
        ]),
        None => {
            eprintln!("bench: no python3 here, so fib(25) has no native CPython to compare with")
        }
    }
    rows.extend(idle_memory(&template));
    rows
}

/// fib(25) in the machine's CPython (its version, e.g. `CPython 3.11.7`,
/// and each run's median in µs, as the sandboxed figure is taken:
/// `heavy.runs` runs of `heavy.per_run` calls).
fn native_fib(heavy: Plan) -> Option<(String, Summary)> {
    let script = format!(
        "{FIB}\nimport time, statistics, platform\n\
         print(platform.python_implementation(), platform.python_version())\n\
         for _ in range({warmup}): fib(25)\n\
         for _ in range({runs}):\n\
         \x20   samples = []\n\
         \x20   for _ in range({per_run}):\n\
         \x20       t = time.perf_counter(); fib(25); samples.append((time.perf_counter() - t) * 1e6)\n\
         \x20   print(statistics.median(samples))\n",
        warmup = heavy.warmup,
        runs = heavy.runs,
        per_run = heavy.per_run,
    );
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut lines = stdout.lines();
    let version = lines.next()?.trim().to_owned();
    let runs: Vec<f64> = lines.filter_map(|line| line.trim().parse().ok()).collect();
    (!runs.is_empty()).then(|| (version, Summary::of_runs(runs)))
}

/// What each of 100 idle sandboxes (created from the template, called
/// once) adds to this process's resident memory beyond the shared image:
/// resident pages that are not the image's (its pages a sandbox maps are
/// shared with every other sandbox, though each mapping counts in RSS).
fn idle_memory(template: &Template) -> Vec<Measurement> {
    let first = |template: &Template| -> LoadedJSSandbox {
        let mut sandbox = template.create().unwrap();
        sandbox.handle_event("echo", EVENT, None).unwrap();
        sandbox
    };
    drop(first(template));
    let (rss, shared) = (rss_mib(), shared_mib());
    let sandboxes: Vec<LoadedJSSandbox> = (0..100).map(|_| first(template)).collect();
    let count = sandboxes.len() as f64;
    let mapped = (shared_mib() - shared) / count;
    let private = (rss_mib() - rss) / count - mapped;
    drop(sandboxes);
    vec![
        Measurement::new(
            "python",
            "resident memory per idle sandbox, beyond the shared image",
            Unit::Mebibytes,
            Summary::of_runs(vec![private]),
        )
        .target(Target::AtMost(4.0)),
        Measurement::new(
            "python",
            "shared image pages each sandbox maps (counted in RSS once per sandbox)",
            Unit::Mebibytes,
            Summary::of_runs(vec![mapped]),
        ),
    ]
}
