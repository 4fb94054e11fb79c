//! Time a guest's thread spends in host functions, which the CPU-time
//! monitor counts as the call's.
//!
//! A host function works on the call's behalf, but not always on the
//! guest's thread: a Node.js callback runs on the main thread while the
//! guest's thread waits for it. The thread's CPU clock does not see that
//! work, so a CPU limit alone would let a call wait forever on a host
//! function that never returns. So [`CpuTimeMonitor`](super::CpuTimeMonitor)
//! adds the wall-clock time of host functions to the thread's CPU time. (A
//! host function that computes on the guest's thread is counted twice for
//! those microseconds: the limit errs towards stopping, never towards
//! running on.) Host functions are timed only while a CPU monitor watches
//! their thread.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// One thread's time in host functions.
#[derive(Default)]
pub(crate) struct HostTime {
    /// CPU monitors watching this thread.
    watchers: AtomicUsize,
    /// Nanoseconds spent in host functions that have returned.
    total: AtomicU64,
    /// When the host function running now started (nanoseconds since
    /// [`origin`], plus one); 0 when none runs.
    since: AtomicU64,
}

thread_local! {
    static HOST_TIME: Arc<HostTime> = Arc::default();
}

fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

fn now() -> u64 {
    u64::try_from(origin().elapsed().as_nanos())
        .unwrap_or(u64::MAX - 1)
        .saturating_add(1)
}

/// The calling thread's host time, watched from anywhere until dropped.
pub(crate) struct Watch(Arc<HostTime>);

impl Watch {
    /// Watches the calling thread.
    pub fn current() -> Self {
        let time = HOST_TIME.with(Arc::clone);
        time.watchers.fetch_add(1, Ordering::SeqCst);
        Self(time)
    }

    /// Time spent in host functions so far, the one running included.
    pub fn spent(&self) -> Duration {
        let since = self.0.since.load(Ordering::SeqCst);
        let running = if since == 0 {
            0
        } else {
            now().saturating_sub(since)
        };
        Duration::from_nanos(self.0.total.load(Ordering::SeqCst).saturating_add(running))
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.0.watchers.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs the host function `f` on this thread, timing it if a CPU monitor
/// watches the thread.
pub(crate) fn timed<R>(f: impl FnOnce() -> R) -> R {
    let started = HOST_TIME.with(|time| {
        let watched = time.watchers.load(Ordering::Relaxed) > 0;
        // A host function inside a host function is already being timed.
        (watched && time.since.load(Ordering::Relaxed) == 0).then(|| {
            let started = now();
            time.since.store(started, Ordering::SeqCst);
            started
        })
    });
    let result = f();
    if let Some(started) = started {
        HOST_TIME.with(|time| {
            time.total
                .fetch_add(now().saturating_sub(started), Ordering::SeqCst);
            time.since.store(0, Ordering::SeqCst);
        });
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_functions_are_timed_only_while_watched() {
        timed(|| std::thread::sleep(Duration::from_millis(5)));
        let watch = Watch::current();
        assert_eq!(watch.spent(), Duration::ZERO);
        timed(|| std::thread::sleep(Duration::from_millis(5)));
        assert!(watch.spent() >= Duration::from_millis(5));
    }

    #[test]
    fn a_host_function_still_running_counts_while_it_runs() {
        let watch = Watch::current();
        let before = watch.spent();
        let (tx, rx) = std::sync::mpsc::channel();
        let observer = std::thread::spawn(move || {
            rx.recv().unwrap();
            std::thread::sleep(Duration::from_millis(5));
            watch.spent()
        });
        let seen = timed(|| {
            tx.send(()).unwrap();
            observer.join().unwrap()
        });
        assert!(seen >= before + Duration::from_millis(5), "{seen:?}");
    }
}
