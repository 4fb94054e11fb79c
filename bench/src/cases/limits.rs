//! The cost of limits: monitor overhead per call, and how fast a kill lands.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use polybox::{
    Backend, CpuTimeMonitor, EpochDeadline, FuelBudget, LoadedJSSandbox, MonitorSet,
    SandboxBuilder, WallClockMonitor,
};

use super::ECHO;
use crate::report::{Measurement, Target, Unit};
use crate::stats::Summary;
use crate::stats::{Plan, latency_us, micros};

fn loaded(backend: Backend, fuel: bool) -> LoadedJSSandbox {
    super::loaded(
        SandboxBuilder::new().backend(backend).fuel_metering(fuel),
        &[
            ("echo", ECHO),
            ("spin", "function handler() { for (;;) {} }"),
        ],
    )
}

fn long() -> Duration {
    Duration::from_secs(60)
}

/// An echo call (no GC) under each kind of limit, and what the recommended
/// wall-clock + CPU pair adds.
pub fn monitor_overhead(plan: Plan) -> Vec<Measurement> {
    let mut plain = loaded(Backend::Wasmtime, false);
    let mut metered = loaded(Backend::Wasmtime, true);
    fn under(sandbox: &mut LoadedJSSandbox, plan: Plan, monitor: &impl MonitorSet) -> Summary {
        latency_us(plan, || {
            sandbox
                .handle_event_with_monitor("echo", r#"{"x":1}"#, monitor, Some(false))
                .unwrap();
        })
    }
    let wall = WallClockMonitor::new(long()).unwrap();
    let cpu = CpuTimeMonitor::new(long()).unwrap();
    let none = under(&mut plain, plan, &None::<WallClockMonitor>);
    let both = under(&mut plain, plan, &(wall, cpu));
    let row =
        |name: &str, summary| Measurement::new("monitor overhead", name, Unit::Micros, summary);
    vec![
        row("echo, no monitor", none),
        row("echo, wall-clock", under(&mut plain, plan, &wall)),
        row("echo, CPU time", under(&mut plain, plan, &cpu)),
        row("echo, wall-clock + CPU time", both),
        row("added by wall-clock + CPU time", both.minus(none)).target(Target::AtMost(3.0)),
        row("added by wall-clock + CPU time, p99", both.minus(none))
            .target(Target::P99AtMost(10.0)),
        row(
            "echo, fuel budget (metered sandbox)",
            under(&mut metered, plan, &FuelBudget::new(u64::MAX / 2).unwrap()),
        ),
        row(
            "echo, epoch deadline",
            under(&mut plain, plan, &EpochDeadline::new(long()).unwrap()),
        ),
    ]
}

/// From `kill()` on another thread to the call returning `ERR_CANCELLED`.
pub fn kill_latency(backend: Backend, plan: Plan) -> Measurement {
    let mut sandbox = loaded(backend, false);
    let snapshot = sandbox.snapshot().unwrap();
    let handle = sandbox.interrupt_handle();
    let killed_at = Arc::new(Mutex::new(None::<Instant>));
    let samples: Vec<f64> = (0..plan.runs * plan.per_run)
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
    let runs = samples.chunks(plan.per_run).map(<[f64]>::to_vec).collect();
    Measurement::new(
        "limits",
        "kill latency (kill() to error)",
        Unit::Micros,
        Summary::of_samples(runs),
    )
    .target(Target::P99AtMost(1000.0))
}
