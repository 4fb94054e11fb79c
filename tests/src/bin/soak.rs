//! The soak: `cargo run -p polybox-tests --bin soak -- --calls N`.
//!
//! N calls spread over several sandboxes, each checked against a model of
//! what it must return, with 1% kills, 1% timeouts and 1% restores mixed in.
//! Prints resident memory at start, after warm-up (the first 10% of calls)
//! and at the end, and fails if memory grew more than 5% after warm-up or
//! any call returned a wrong result.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use polybox::{ErrorCode, LoadedJSSandbox, SandboxBuilder, Snapshot, WallClockMonitor};
use serde_json::{Value, json};

const SANDBOXES: usize = 4;
/// Allowed growth of resident memory after warm-up.
const MAX_GROWTH: f64 = 0.05;

const COUNTER: &str = "let calls = 0;\nexport const next = () => ++calls;";
const WORK: &str = "import { next } from 'user:counter';
function handler(e) {
    let sum = 0;
    for (const v of e.values) sum += v * e.k;
    return { sum, text: e.text.toUpperCase(), calls: next(), junk: new Array(e.k).fill(e.text).length };
}";
const SPIN: &str = "function handler() { for (;;) {} }";

/// A sandbox and what the model says its next call returns.
struct Subject {
    loaded: LoadedJSSandbox,
    snapshot: Snapshot,
    /// Calls of `work` since the snapshot.
    calls: u64,
}

impl Subject {
    fn new() -> Self {
        let mut sandbox = SandboxBuilder::new()
            .build()
            .unwrap()
            .load_runtime()
            .unwrap();
        sandbox.add_module("counter", COUNTER, None).unwrap();
        sandbox.add_handler("work", WORK).unwrap();
        sandbox.add_handler("spin", SPIN).unwrap();
        let mut loaded = sandbox.get_loaded_sandbox().unwrap();
        let snapshot = loaded.snapshot().unwrap();
        Self {
            loaded,
            snapshot,
            calls: 0,
        }
    }

    fn restore(&mut self) {
        self.loaded.restore(&self.snapshot).unwrap();
        self.calls = 0;
    }
}

#[derive(Default)]
struct Tally {
    calls: u64,
    kills: u64,
    timeouts: u64,
    restores: u64,
    wrong: u64,
}

fn main() -> ExitCode {
    let calls = match parse_calls() {
        Ok(calls) => calls,
        Err(message) => {
            eprintln!("{message}\nusage: soak --calls N [--seed N]");
            return ExitCode::FAILURE;
        }
    };
    let seed = std::env::args()
        .skip_while(|a| a != "--seed")
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed);
    let mut rng = fastrand::Rng::with_seed(seed);
    let start_rss = rss_mib();
    let mut subjects: Vec<Subject> = (0..SANDBOXES).map(|_| Subject::new()).collect();
    let warm_up = calls / 10;
    let mut tally = Tally::default();
    let mut warm_rss = start_rss;
    let began = Instant::now();
    for i in 0..calls {
        if i == warm_up {
            warm_rss = rss_mib();
        }
        let subject = &mut subjects[rng.usize(..SANDBOXES)];
        match rng.u32(..100) {
            0 => {
                kill_spin(subject);
                tally.kills += 1;
            }
            1 => {
                let limit = WallClockMonitor::new(Duration::from_millis(2)).unwrap();
                let result = subject
                    .loaded
                    .handle_event_with_monitor("spin", "{}", &limit, None);
                expect_stopped(subject, result, "wall-clock");
                tally.timeouts += 1;
            }
            2 => {
                subject.restore();
                tally.restores += 1;
            }
            _ => {
                if !work(subject, &mut rng) {
                    tally.wrong += 1;
                }
            }
        }
        tally.calls += 1;
    }
    let end_rss = rss_mib();
    let growth = end_rss / warm_rss - 1.0;
    println!(
        "soak: {} calls ({} kills, {} timeouts, {} restores) over {SANDBOXES} sandboxes in {:.1} s, seed {seed}",
        tally.calls,
        tally.kills,
        tally.timeouts,
        tally.restores,
        began.elapsed().as_secs_f64()
    );
    println!(
        "soak: RSS {start_rss:.1} MiB at start, {warm_rss:.1} MiB after warm-up ({warm_up} calls), {end_rss:.1} MiB at the end ({:+.2}% after warm-up)",
        growth * 100.0
    );
    println!("soak: {} wrong results", tally.wrong);
    if tally.wrong > 0 || growth > MAX_GROWTH {
        eprintln!(
            "soak failed: {} wrong results, memory grew {:.2}% after warm-up (limit {:.0}%)",
            tally.wrong,
            growth * 100.0,
            MAX_GROWTH * 100.0
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn parse_calls() -> Result<u64, String> {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--calls" {
            let value = args.next().ok_or("--calls needs a number")?;
            return value.parse().map_err(|e| format!("--calls {value}: {e}"));
        }
    }
    Err("--calls is required".into())
}

/// One `work` call with random inputs, checked against the model.
fn work(subject: &mut Subject, rng: &mut fastrand::Rng) -> bool {
    let values: Vec<i64> = (0..rng.usize(0..20))
        .map(|_| rng.i64(-1000..1000))
        .collect();
    let k = rng.i64(1..50);
    let text: String = (0..rng.usize(0..30)).map(|_| rng.alphanumeric()).collect();
    let event = json!({ "values": values, "k": k, "text": text });
    let result = subject.loaded.handle_event("work", event.to_string(), None);
    subject.calls += 1;
    let expected = json!({
        "sum": values.iter().map(|v| v * k).sum::<i64>(),
        "text": text.to_uppercase(),
        "calls": subject.calls,
        "junk": k,
    });
    match result.map(|json| serde_json::from_str::<Value>(&json)) {
        Ok(Ok(value)) if value == expected => true,
        other => {
            eprintln!("wrong result: {other:?}, expected {expected}");
            false
        }
    }
}

/// Spins, and kills the call from another thread until it stops.
fn kill_spin(subject: &mut Subject) {
    let handle = subject.loaded.interrupt_handle();
    let done = Arc::new(AtomicBool::new(false));
    let killer = {
        let done = done.clone();
        std::thread::spawn(move || {
            while !done.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(1));
                handle.kill();
            }
        })
    };
    let result = subject.loaded.handle_event("spin", "{}", None);
    done.store(true, Ordering::Release);
    killer.join().unwrap();
    expect_stopped(subject, result, "killed");
}

/// Asserts a spin was stopped by `by`, and restores. (A stop that lands
/// before the call enters the guest leaves the sandbox unpoisoned.)
fn expect_stopped(subject: &mut Subject, result: polybox::Result<String>, by: &str) {
    let error = result.expect_err("a spin cannot finish");
    assert_eq!(error.code(), ErrorCode::Cancelled, "{error}");
    assert_eq!(
        subject.loaded.last_call_stats().unwrap().terminated_by,
        Some(by)
    );
    subject.restore();
}

/// This process's resident memory, in MiB.
fn rss_mib() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("statm has a resident field");
    let page = rustix::param::page_size() as f64;
    pages * page / (1024.0 * 1024.0)
}
