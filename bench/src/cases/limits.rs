//! The cost of limits: monitor overhead per call, compute slowdown under
//! fuel and epoch budgets, and how fast a kill lands.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use polybox::{
    CpuTimeMonitor, EpochDeadline, FuelBudget, LoadedJSSandbox, MonitorSet, SandboxBuilder,
    WallClockMonitor,
};

use crate::report::{Measurement, Unit};
use crate::stats::{Plan, Summary, latency_us, micros};

const ECHO: &str = "function handler(e) { return e; }";
const FIB: &str = "function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }\nfunction handler(e) { return fib(e.n); }";
const SPIN: &str = "function handler() { for (;;) {} }";

fn loaded(fuel: bool) -> LoadedJSSandbox {
    let mut sandbox = SandboxBuilder::new()
        .fuel_metering(fuel)
        .build()
        .unwrap()
        .load_runtime()
        .unwrap();
    sandbox.add_handler("echo", ECHO).unwrap();
    sandbox.add_handler("fib", FIB).unwrap();
    sandbox.add_handler("spin", SPIN).unwrap();
    sandbox.get_loaded_sandbox().unwrap()
}

fn long() -> Duration {
    Duration::from_secs(60)
}

/// An echo call (no GC) under each kind of limit.
pub fn monitor_overhead(plan: Plan) -> Vec<Measurement> {
    let mut plain = loaded(false);
    let mut metered = loaded(true);
    let wall = WallClockMonitor::new(long()).unwrap();
    let cpu = CpuTimeMonitor::new(long()).unwrap();
    let row = |name: &str,
               sandbox: &mut LoadedJSSandbox,
               monitor: Option<&dyn Fn(&mut LoadedJSSandbox)>| {
        let summary = latency_us(plan, || match monitor {
            Some(call) => call(sandbox),
            None => {
                sandbox
                    .handle_event("echo", r#"{"x":1}"#, Some(false))
                    .unwrap();
            }
        });
        Measurement {
            group: "monitor overhead",
            name: name.into(),
            unit: Unit::Micros,
            summary,
        }
    };
    fn with<M: MonitorSet>(monitor: M) -> impl Fn(&mut LoadedJSSandbox) {
        move |sandbox| {
            sandbox
                .handle_event_with_monitor("echo", r#"{"x":1}"#, &monitor, Some(false))
                .unwrap();
        }
    }
    let fuel = FuelBudget::new(u64::MAX / 2).unwrap();
    let epoch = EpochDeadline::new(long()).unwrap();
    vec![
        row("echo, no monitor", &mut plain, None),
        row("echo, wall-clock", &mut plain, Some(&with(wall))),
        row("echo, CPU time", &mut plain, Some(&with(cpu))),
        row(
            "echo, wall-clock + CPU time",
            &mut plain,
            Some(&with((wall, cpu))),
        ),
        row(
            "echo, fuel budget (metered sandbox)",
            &mut metered,
            Some(&with(fuel)),
        ),
        row("echo, epoch deadline", &mut plain, Some(&with(epoch))),
    ]
}

/// fib(25) without limits, metered by fuel, and under an epoch deadline.
pub fn compute(plan: Plan) -> Vec<Measurement> {
    let mut plain = loaded(false);
    let mut metered = loaded(true);
    let event = r#"{"n":25}"#;
    let runs = Plan {
        warmup: 1,
        runs: plan.runs,
        per_run: 3,
    };
    let base = latency_us(runs, || {
        plain.handle_event("fib", event, Some(false)).unwrap();
    });
    let fuel = FuelBudget::new(u64::MAX / 2).unwrap();
    let fueled = latency_us(runs, || {
        metered
            .handle_event_with_monitor("fib", event, &fuel, Some(false))
            .unwrap();
    });
    let epoch = EpochDeadline::new(long()).unwrap();
    let epoched = latency_us(runs, || {
        plain
            .handle_event_with_monitor("fib", event, &epoch, Some(false))
            .unwrap();
    });
    let ratio = |s: Summary| Summary {
        median: s.median / base.median,
        p99: s.p99 / base.median,
        min: s.min / base.median,
        max: s.max / base.median,
        samples: s.samples,
    };
    vec![
        Measurement {
            group: "compute",
            name: "fib(25) in the sandbox".into(),
            unit: Unit::Micros,
            summary: base,
        },
        Measurement {
            group: "compute",
            name: "fib(25) slowdown under fuel".into(),
            unit: Unit::Ratio,
            summary: ratio(fueled),
        },
        Measurement {
            group: "compute",
            name: "fib(25) slowdown under epoch".into(),
            unit: Unit::Ratio,
            summary: ratio(epoched),
        },
    ]
}

/// From `kill()` on another thread to the call returning `ERR_CANCELLED`.
pub fn kill_latency(plan: Plan) -> Measurement {
    let mut sandbox = loaded(false);
    let snapshot = sandbox.snapshot().unwrap();
    let handle = sandbox.interrupt_handle();
    let killed_at = Arc::new(Mutex::new(None::<Instant>));
    let samples: Vec<f64> = (0..plan.runs * plan.per_run.min(50))
        .map(|_| {
            let (handle, stamp) = (handle.clone(), killed_at.clone());
            let killer = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(2));
                *stamp.lock().unwrap() = Some(Instant::now());
                handle.kill();
            });
            sandbox.handle_event("spin", "{}", Some(false)).unwrap_err();
            let returned = Instant::now();
            killer.join().unwrap();
            sandbox.restore(&snapshot).unwrap();
            micros(returned - killed_at.lock().unwrap().take().unwrap())
        })
        .collect();
    let runs = samples
        .chunks(samples.len().div_ceil(plan.runs))
        .map(<[f64]>::to_vec)
        .collect();
    Measurement {
        group: "limits",
        name: "kill latency (kill() to error)".into(),
        unit: Unit::Micros,
        summary: Summary::of_samples(runs),
    }
}
