//! Monitors and budgets: what stops a call, what reports it, and recovery.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use polybox::{
    CallLimits, CpuTimeMonitor, EpochDeadline, ErrorCode, ExecutionMonitor, FuelBudget,
    LoadedJSSandbox, MonitorSet, Pool, SandboxBuilder, Strategy, WallClockMonitor,
};
use polybox_tests::{expect_code, kill_after};

const SPIN: &str = "function handler() { for (;;) {} }";
const FAST: &str = "let calls = 0;\nfunction handler() { return ++calls; }";

/// A sandbox with `spin` (never returns), `fast` (counts calls) and `nap`
/// (blocks in a host function for `ms` without using CPU).
fn sandbox(fuel: bool) -> LoadedJSSandbox {
    let mut proto = SandboxBuilder::new().fuel_metering(fuel).build().unwrap();
    proto
        .register("time", "sleep", |ms: u64| {
            std::thread::sleep(Duration::from_millis(ms))
        })
        .unwrap();
    let mut sandbox = proto.load_runtime().unwrap();
    sandbox.add_handler("spin", SPIN).unwrap();
    sandbox.add_handler("fast", FAST).unwrap();
    sandbox
        .add_handler("nap", "import { sleep } from 'host:time';\nfunction handler(e) { sleep(e.ms); return 'rested'; }")
        .unwrap();
    sandbox.get_loaded_sandbox().unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn a_fast_handler_completes_under_every_monitor() {
    let mut loaded = sandbox(true);
    let wall = WallClockMonitor::new(ms(5_000)).unwrap();
    let cpu = CpuTimeMonitor::new(ms(5_000)).unwrap();
    let fuel = FuelBudget::new(10_000_000).unwrap();
    let epoch = EpochDeadline::new(ms(5_000)).unwrap();
    assert_eq!(
        loaded
            .handle_event_with_monitor("fast", "{}", &wall, None)
            .unwrap(),
        "1"
    );
    assert_eq!(
        loaded
            .handle_event_with_monitor("fast", "{}", &cpu, None)
            .unwrap(),
        "2"
    );
    assert_eq!(
        loaded
            .handle_event_with_monitor("fast", "{}", &fuel, None)
            .unwrap(),
        "3"
    );
    assert_eq!(
        loaded
            .handle_event_with_monitor("fast", "{}", &epoch, None)
            .unwrap(),
        "4"
    );
    assert_eq!(
        loaded
            .handle_event_with_monitor("fast", "{}", &(wall, cpu, fuel, epoch), None)
            .unwrap(),
        "5"
    );
    let stats = loaded.last_call_stats().unwrap();
    assert_eq!(stats.terminated_by, None);
}

/// Runs `spin` under `monitor`, checks that `expected` stopped it, and
/// restores the sandbox.
fn expect_stopped_by(loaded: &mut LoadedJSSandbox, monitor: &impl MonitorSet, expected: &str) {
    let snapshot = loaded.snapshot().unwrap();
    let message = expect_code(
        loaded.handle_event_with_monitor("spin", "{}", monitor, None),
        ErrorCode::Cancelled,
    );
    assert!(message.contains(expected), "{message}");
    assert_eq!(
        loaded.last_call_stats().unwrap().terminated_by,
        Some(expected)
    );
    assert!(loaded.poisoned());
    loaded.restore(&snapshot).unwrap();
    assert!(!loaded.poisoned());
    assert_eq!(loaded.handle_event("fast", "{}", None).unwrap(), "1");
    loaded.restore(&snapshot).unwrap();
}

#[test]
fn an_infinite_loop_is_stopped_by_each_monitor_and_budget() {
    let mut loaded = sandbox(true);
    expect_stopped_by(
        &mut loaded,
        &WallClockMonitor::new(ms(50)).unwrap(),
        "wall-clock",
    );
    expect_stopped_by(
        &mut loaded,
        &CpuTimeMonitor::new(ms(50)).unwrap(),
        "cpu-time",
    );
    expect_stopped_by(&mut loaded, &FuelBudget::new(1_000_000).unwrap(), "fuel");
    expect_stopped_by(&mut loaded, &EpochDeadline::new(ms(50)).unwrap(), "epoch");
}

#[test]
fn kill_from_another_thread_stops_an_infinite_loop() {
    let mut loaded = sandbox(false);
    let snapshot = loaded.snapshot().unwrap();
    let killer = kill_after(loaded.interrupt_handle(), ms(100));
    let message = expect_code(
        loaded.handle_event("spin", "{}", None),
        ErrorCode::Cancelled,
    );
    drop(killer);
    assert!(message.contains("killed"), "{message}");
    assert_eq!(
        loaded.last_call_stats().unwrap().terminated_by,
        Some("killed")
    );
    expect_code(loaded.handle_event("fast", "{}", None), ErrorCode::Poisoned);
    loaded.restore(&snapshot).unwrap();
    assert_eq!(loaded.handle_event("fast", "{}", None).unwrap(), "1");
}

#[test]
fn kill_while_idle_does_not_affect_the_next_call() {
    let mut loaded = sandbox(false);
    loaded.interrupt_handle().kill();
    assert_eq!(loaded.handle_event("fast", "{}", None).unwrap(), "1");
    assert!(!loaded.poisoned());
}

#[test]
fn a_tuple_reports_the_monitor_that_actually_fired() {
    let mut loaded = sandbox(false);
    let snapshot = loaded.snapshot().unwrap();
    // Burning CPU: the CPU monitor fires first.
    let monitors = (
        WallClockMonitor::new(ms(10_000)).unwrap(),
        CpuTimeMonitor::new(ms(50)).unwrap(),
    );
    expect_code(
        loaded.handle_event_with_monitor("spin", "{}", &monitors, None),
        ErrorCode::Cancelled,
    );
    assert_eq!(
        loaded.last_call_stats().unwrap().terminated_by,
        Some("cpu-time")
    );
    loaded.restore(&snapshot).unwrap();
    // Blocked in the host without using CPU: the wall clock fires first.
    let monitors = (
        CpuTimeMonitor::new(ms(10_000)).unwrap(),
        WallClockMonitor::new(ms(100)).unwrap(),
    );
    expect_code(
        loaded.handle_event_with_monitor("nap", r#"{"ms":400}"#, &monitors, None),
        ErrorCode::Cancelled,
    );
    let stats = loaded.last_call_stats().unwrap();
    assert_eq!(stats.terminated_by, Some("wall-clock"));
    assert!(stats.cpu_time.unwrap() < ms(200), "{stats:?}");
}

/// A monitor that cannot start.
struct Broken;

impl ExecutionMonitor for Broken {
    fn get_monitor(&self) -> polybox::Result<impl Future<Output = ()> + Send + 'static> {
        Err::<std::future::Pending<()>, _>(polybox::Error::Internal(
            "the broken monitor cannot start".into(),
        ))
    }

    fn name(&self) -> &'static str {
        "broken"
    }
}

/// A monitor that fires after a given number of polls of its own clock.
struct Named(&'static str, Duration);

impl ExecutionMonitor for Named {
    fn get_monitor(&self) -> polybox::Result<impl Future<Output = ()> + Send + 'static> {
        let after = self.1;
        Ok(polybox::monitor::sleep(after))
    }

    fn name(&self) -> &'static str {
        self.0
    }
}

#[test]
fn a_monitor_that_fails_to_start_means_the_handler_never_runs() {
    let mut loaded = sandbox(false);
    let monitors = (WallClockMonitor::new(ms(1_000)).unwrap(), Broken);
    let message = expect_code(
        loaded.handle_event_with_monitor("fast", "{}", &monitors, None),
        ErrorCode::Internal,
    );
    assert!(message.contains("cannot start"), "{message}");
    // `fast` counts its calls: it never ran.
    assert_eq!(loaded.handle_event("fast", "{}", None).unwrap(), "1");
}

#[test]
fn a_custom_monitor_stops_a_call_under_its_own_name() {
    let mut loaded = sandbox(false);
    let monitors = (
        WallClockMonitor::new(ms(10_000)).unwrap(),
        Named("my-limit", ms(50)),
    );
    expect_code(
        loaded.handle_event_with_monitor("spin", "{}", &monitors, None),
        ErrorCode::Cancelled,
    );
    assert_eq!(
        loaded.last_call_stats().unwrap().terminated_by,
        Some("my-limit")
    );
}

#[test]
fn a_monitor_value_can_be_reused_across_calls() {
    let mut loaded = sandbox(false);
    let snapshot = loaded.snapshot().unwrap();
    let monitor = (
        WallClockMonitor::new(ms(100)).unwrap(),
        CpuTimeMonitor::new(ms(100)).unwrap(),
    );
    for round in 0..3 {
        assert_eq!(
            loaded
                .handle_event_with_monitor("fast", "{}", &monitor, None)
                .unwrap(),
            (round + 1).to_string()
        );
    }
    expect_code(
        loaded.handle_event_with_monitor("spin", "{}", &monitor, None),
        ErrorCode::Cancelled,
    );
    loaded.restore(&snapshot).unwrap();
    expect_code(
        loaded.handle_event_with_monitor("spin", "{}", &monitor, None),
        ErrorCode::Cancelled,
    );
}

#[test]
fn a_poisoned_sandbox_refuses_calls_at_once() {
    let mut loaded = sandbox(false);
    let monitor = EpochDeadline::new(ms(20)).unwrap();
    expect_code(
        loaded.handle_event_with_monitor("spin", "{}", &monitor, None),
        ErrorCode::Cancelled,
    );
    let message = expect_code(loaded.handle_event("fast", "{}", None), ErrorCode::Poisoned);
    assert!(message.contains("epoch"), "{message}");
    expect_code(loaded.snapshot(), ErrorCode::Poisoned);
    let stats = loaded.last_call_stats().unwrap();
    assert!(
        stats.wall_clock < ms(20),
        "refused without running: {stats:?}"
    );
    // Unloading also recovers.
    let mut sandbox = loaded.unload().unwrap();
    sandbox
        .add_handler("ok", "function handler() { return 'ok'; }")
        .unwrap();
    assert_eq!(
        sandbox
            .get_loaded_sandbox()
            .unwrap()
            .handle_event("ok", "{}", None)
            .unwrap(),
        r#""ok""#
    );
}

#[test]
fn limits_with_a_zero_value_are_invalid() {
    expect_code(WallClockMonitor::new(Duration::ZERO), ErrorCode::InvalidArg);
    expect_code(CpuTimeMonitor::new(Duration::ZERO), ErrorCode::InvalidArg);
    expect_code(EpochDeadline::new(Duration::ZERO), ErrorCode::InvalidArg);
    expect_code(FuelBudget::new(0), ErrorCode::InvalidArg);
}

#[test]
fn a_fuel_budget_needs_fuel_metering() {
    let mut loaded = sandbox(false);
    let message = expect_code(
        loaded.handle_event_with_monitor("fast", "{}", &FuelBudget::new(1_000).unwrap(), None),
        ErrorCode::InvalidArg,
    );
    assert!(message.contains("fuel_metering"), "{message}");
    assert_eq!(loaded.handle_event("fast", "{}", None).unwrap(), "1");
}

#[test]
fn stats_describe_successful_and_failed_calls() {
    let mut loaded = sandbox(true);
    assert_eq!(loaded.last_call_stats(), None);
    loaded.handle_event("fast", "{}", None).unwrap();
    let ok = loaded.last_call_stats().unwrap();
    assert!(ok.wall_clock > Duration::ZERO && ok.cpu_time.is_some());
    assert!(ok.fuel_consumed.unwrap() > 0);
    assert_eq!(ok.terminated_by, None);

    let budget = FuelBudget::new(2_000_000).unwrap();
    expect_code(
        loaded.handle_event_with_monitor("spin", "{}", &budget, None),
        ErrorCode::Cancelled,
    );
    let stopped = loaded.last_call_stats().unwrap();
    assert_eq!(stopped.terminated_by, Some("fuel"));
    let consumed = stopped.fuel_consumed.unwrap();
    assert!((2_000_000..2_100_000).contains(&consumed), "{consumed}");

    expect_code(loaded.handle_event("fast", "{}", None), ErrorCode::Poisoned);
    assert_eq!(loaded.last_call_stats().unwrap().terminated_by, None);
}

#[test]
fn fuel_is_deterministic() {
    let mut loaded = sandbox(true);
    let snapshot = loaded.snapshot().unwrap();
    let mut consumed = Vec::new();
    for _ in 0..3 {
        loaded.restore(&snapshot).unwrap();
        loaded.handle_event("fast", "{}", None).unwrap();
        consumed.push(loaded.last_call_stats().unwrap().fuel_consumed.unwrap());
    }
    assert!(consumed.windows(2).all(|w| w[0] == w[1]), "{consumed:?}");
}

#[test]
fn terminations_are_counted_in_metrics() {
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let mut loaded = sandbox(false);
        let monitor = CpuTimeMonitor::new(ms(20)).unwrap();
        expect_code(
            loaded.handle_event_with_monitor("spin", "{}", &monitor, None),
            ErrorCode::Cancelled,
        );
    });
    let counted = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .any(|(key, _, _, value)| {
            let key = key.key();
            key.name() == "monitor_terminations_total"
                && key
                    .labels()
                    .any(|l| l.key() == "monitor_type" && l.value() == "cpu-time")
                && value == metrics_util::debugging::DebugValue::Counter(1)
        });
    assert!(
        counted,
        "monitor_terminations_total{{monitor_type=\"cpu-time\"}} was not counted"
    );
}

#[test]
fn concurrent_sandboxes_are_stopped_independently() {
    let stopped = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..2)
        .map(|i| {
            let stopped = stopped.clone();
            std::thread::spawn(move || {
                let mut loaded = sandbox(false);
                if i == 0 {
                    let monitor = CpuTimeMonitor::new(ms(50)).unwrap();
                    expect_code(
                        loaded.handle_event_with_monitor("spin", "{}", &monitor, None),
                        ErrorCode::Cancelled,
                    );
                    stopped.fetch_add(1, Ordering::SeqCst);
                } else {
                    for n in 1..=200 {
                        assert_eq!(
                            loaded.handle_event("fast", "{}", None).unwrap(),
                            n.to_string()
                        );
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(stopped.load(Ordering::SeqCst), 1);
}

#[test]
fn stops_of_sandboxes_on_one_engine_at_the_same_moment_are_never_lost() {
    // Two sandboxes of one engine (a pool's), each call stopped by its own
    // wall clock at about the same moment, round after round. A stop whose
    // epoch advance reached a guest whose callback was already running for
    // the other sandbox's stop used to be lost: that guest ran on forever.
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for strategy in [Strategy::Restore, Strategy::Reuse, Strategy::Restore] {
            let pool = Pool::builder(|| Ok(sandbox(false)))
                .size(2)
                .strategy(strategy)
                .build()
                .unwrap();
            let limits = CallLimits {
                wall_clock: Some(ms(5)),
                ..CallLimits::default()
            };
            for _ in 0..150 {
                std::thread::scope(|scope| {
                    let calls: Vec<_> = (0..2)
                        .map(|_| scope.spawn(|| pool.call_with_limits("spin", "{}", &limits)))
                        .collect();
                    for call in calls {
                        expect_code(call.join().unwrap(), ErrorCode::Cancelled);
                    }
                });
            }
        }
        done.send(()).unwrap();
    });
    finished
        .recv_timeout(Duration::from_secs(120))
        .expect("a spinning call was never stopped: a stop was lost");
}

#[test]
fn a_timeout_longer_than_the_clock_can_express_does_not_end_the_call() {
    let mut loaded = polybox_tests::load_handler("ok", "function handler() { return 'ok'; }");
    let forever = WallClockMonitor::new(Duration::MAX).unwrap();
    assert_eq!(
        loaded
            .handle_event_with_monitor("ok", "{}", &forever, None)
            .unwrap(),
        r#""ok""#
    );
}
