//! The deadline timer: one thread that stops calls at their wall-clock
//! deadline, for monitors that are only a point in time
//! ([`ExecutionMonitor::deadline`](super::ExecutionMonitor::deadline)).
//!
//! # Why not a task per call
//!
//! A watcher task on the monitor runtime costs every call two thread
//! wake-ups (spawning it, aborting it), about as much as a small call
//! itself. Here arming a deadline is an insertion into a sorted map, and
//! the thread is woken only when the new deadline is earlier than the one
//! it sleeps until. Calls with the same timeout arrive in deadline order,
//! so under load the thread sleeps on; when a call ends its entry goes,
//! and the thread, waking at a deadline whose call is gone, finds the next.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

type Fire = Box<dyn FnOnce() + Send>;

struct Timer {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    /// Deadlines armed, by time then arming order.
    armed: BTreeMap<(Instant, u64), Fire>,
    next_id: u64,
    /// What the thread sleeps until; `None` while it waits for any.
    sleeping_until: Option<Instant>,
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<&'static Timer> = OnceLock::new();
    TIMER.get_or_init(|| {
        let timer: &'static Timer = Box::leak(Box::new(Timer {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("polybox-deadlines".into())
            .spawn(move || run(timer))
            .expect("cannot start the deadline timer thread");
        timer
    })
}

impl Timer {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn run(timer: &'static Timer) {
    let mut state = timer.lock();
    loop {
        let now = Instant::now();
        let later = state.armed.split_off(&(now, u64::MAX));
        let due = std::mem::replace(&mut state.armed, later);
        if !due.is_empty() {
            drop(state);
            for fire in due.into_values() {
                fire();
            }
            state = timer.lock();
            continue;
        }
        let next = state.armed.keys().next().map(|(at, _)| *at);
        state.sleeping_until = next;
        state = match next {
            Some(at) => {
                timer
                    .wake
                    .wait_timeout(state, at.saturating_duration_since(now))
                    .unwrap_or_else(|p| p.into_inner())
                    .0
            }
            None => timer.wake.wait(state).unwrap_or_else(|p| p.into_inner()),
        };
    }
}

/// A deadline armed; dropping it disarms it.
pub(crate) struct Armed((Instant, u64));

/// Calls `fire` (on the timer's thread) at `at`, unless disarmed first.
pub(crate) fn arm(at: Instant, fire: impl FnOnce() + Send + 'static) -> Armed {
    let timer = timer();
    let mut state = timer.lock();
    let id = state.next_id;
    state.next_id += 1;
    state.armed.insert((at, id), Box::new(fire));
    if state.sleeping_until.is_none_or(|until| at < until) {
        state.sleeping_until = Some(at);
        timer.wake.notify_one();
    }
    Armed((at, id))
}

impl Drop for Armed {
    fn drop(&mut self) {
        timer().lock().armed.remove(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[test]
    fn deadlines_fire_in_order_and_disarmed_ones_never() {
        let (tx, rx) = mpsc::channel();
        let now = Instant::now();
        let send = |n: u32| {
            let tx = tx.clone();
            move || tx.send(n).unwrap()
        };
        let _late = arm(now + Duration::from_millis(40), send(3));
        let _early = arm(now + Duration::from_millis(10), send(1));
        let disarmed = arm(now + Duration::from_millis(20), send(2));
        drop(disarmed);
        assert_eq!(rx.recv().unwrap(), 1);
        assert_eq!(rx.recv().unwrap(), 3);
        assert!(rx.recv_timeout(Duration::from_millis(30)).is_err());
    }
}
