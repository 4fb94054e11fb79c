//! Pools: calls over a fixed set of sandboxes, each strategy keeping what
//! it says between calls, a bounded queue, and poisoned sandboxes
//! recovered without the caller's help.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use polybox::{CallLimits, ErrorCode, LoadedJSSandbox, Pool, SandboxBuilder, Strategy};
use polybox_tests::expect_code;

/// A handler counting its calls in a global, and one that spins.
const COUNTER: &str = "function handler() { globalThis.n = (globalThis.n ?? 0) + 1; return n; }";
const SPIN: &str = "function handler() { for (;;) {} }";

fn sandbox(built: &AtomicUsize) -> polybox::Result<LoadedJSSandbox> {
    built.fetch_add(1, Ordering::SeqCst);
    let mut sandbox = SandboxBuilder::new().build()?.load_runtime()?;
    sandbox.add_handler("count", COUNTER)?;
    sandbox.add_handler("spin", SPIN)?;
    Ok(sandbox.get_loaded_sandbox()?)
}

/// A pool of `size` counters; how many sandboxes its factory built.
fn pool(strategy: Strategy, size: usize) -> (Pool, Arc<AtomicUsize>) {
    let built = Arc::new(AtomicUsize::new(0));
    let counted = built.clone();
    let pool = Pool::builder(move || sandbox(&counted))
        .size(size)
        .strategy(strategy)
        .build()
        .unwrap();
    (pool, built)
}

fn counts(pool: &Pool, calls: usize) -> Vec<String> {
    (0..calls)
        .map(|_| pool.call("count", "{}").unwrap())
        .collect()
}

#[test]
fn reuse_keeps_state_restore_and_new_keep_none() {
    let (reuse, built) = pool(Strategy::Reuse, 1);
    assert_eq!(counts(&reuse, 3), ["1", "2", "3"]);
    assert_eq!(built.load(Ordering::SeqCst), 1);
    let (restore, built) = pool(Strategy::Restore, 1);
    assert_eq!(counts(&restore, 3), ["1", "1", "1"]);
    assert_eq!(built.load(Ordering::SeqCst), 1);
    let (new, built) = pool(Strategy::New, 1);
    assert_eq!(counts(&new, 3), ["1", "1", "1"]);
    assert_eq!(built.load(Ordering::SeqCst), 3);
}

#[test]
fn a_poisoned_sandbox_is_recovered_before_the_next_call() {
    for strategy in [Strategy::Reuse, Strategy::Restore, Strategy::New] {
        let (pool, _) = pool(strategy, 1);
        pool.call("count", "{}").unwrap();
        let limits = CallLimits {
            wall_clock: Some(Duration::from_millis(30)),
            ..Default::default()
        };
        expect_code(
            pool.call_with_limits("spin", "{}", &limits),
            ErrorCode::Cancelled,
        );
        // Back at its start: the count the reused sandbox had is gone too.
        assert_eq!(pool.call("count", "{}").unwrap(), "1", "{strategy:?}");
    }
}

#[test]
fn a_pool_whose_sandboxes_are_all_poisoned_serves_the_next_calls() {
    for strategy in [Strategy::Reuse, Strategy::Restore, Strategy::New] {
        let (pool, _) = pool(strategy, 2);
        let limits = CallLimits {
            wall_clock: Some(Duration::from_millis(30)),
            ..Default::default()
        };
        // Both sandboxes are stopped mid-call at once.
        std::thread::scope(|scope| {
            let spins: Vec<_> = (0..2)
                .map(|_| scope.spawn(|| pool.call_with_limits("spin", "{}", &limits)))
                .collect();
            for spin in spins {
                expect_code(spin.join().unwrap(), ErrorCode::Cancelled);
            }
        });
        let mut counts: Vec<String> = std::thread::scope(|scope| {
            let calls: Vec<_> = (0..2)
                .map(|_| scope.spawn(|| pool.call("count", "{}").unwrap()))
                .collect();
            calls.into_iter().map(|c| c.join().unwrap()).collect()
        });
        // Each restored to its start (under Reuse both calls may meet the
        // same sandbox, which then counts on from there).
        counts.sort();
        assert_eq!(counts[0], "1", "{strategy:?}");
        assert!(
            counts[1] == "1" || counts[1] == "2",
            "{strategy:?}: {counts:?}"
        );
    }
}

#[test]
fn calls_run_side_by_side_up_to_the_size_and_wait_up_to_the_queue_limit() {
    // Calls hold their sandbox until the test lets them go.
    let (release, held) = mpsc::channel::<()>();
    let held = Arc::new(Mutex::new(held));
    let (started, running) = mpsc::channel::<()>();
    let started = Mutex::new(started);
    let pool = Pool::builder(move || {
        let mut proto = SandboxBuilder::new().build()?;
        let (held, started) = (held.clone(), started.lock().unwrap().clone());
        proto.host_module("gate")?.register_raw("hold", move |_| {
            let _ = started.send(());
            let _ = held.lock().unwrap().recv();
            Ok("null".into())
        })?;
        let mut sandbox = proto.load_runtime()?;
        sandbox.add_handler(
            "held",
            "import * as gate from 'host:gate'; function handler() { gate.hold(); return 'done'; }",
        )?;
        Ok(sandbox.get_loaded_sandbox()?)
    })
    .size(2)
    .queue_limit(1)
    .build()
    .unwrap();
    let call = |pool: &Pool| {
        let pool = pool.clone();
        std::thread::spawn(move || pool.call("held", "{}"))
    };
    let first = [call(&pool), call(&pool)];
    running.recv().unwrap();
    running.recv().unwrap();
    // Both sandboxes are busy: one call may wait, the next is refused.
    let queued = call(&pool);
    while pool.queued() == 0 {
        std::thread::yield_now();
    }
    let refused = pool.call("held", "{}").unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Busy, "{refused}");
    for _ in 0..3 {
        release.send(()).unwrap();
    }
    for handle in first.into_iter().chain([queued]) {
        assert_eq!(handle.join().unwrap().unwrap(), "\"done\"");
    }
    assert_eq!(pool.queued(), 0);
}

#[test]
fn a_pool_needs_a_sandbox_and_a_factory_that_works() {
    let empty = Pool::builder(|| sandbox(&AtomicUsize::new(0)))
        .size(0)
        .build();
    expect_code(empty.map(drop), ErrorCode::InvalidArg);
    let failing = Pool::builder(|| {
        let mut sandbox = SandboxBuilder::new().build()?.load_runtime()?;
        sandbox.add_handler("broken", "function handler( {")?;
        Ok(sandbox.get_loaded_sandbox()?)
    })
    .build();
    expect_code(failing.map(drop), ErrorCode::GuestError);
}
