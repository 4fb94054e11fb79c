//! The deadline timer: one thread that stops calls at their wall-clock
//! deadline, for monitors that are only a point in time
//! ([`ExecutionMonitor::deadline`](super::ExecutionMonitor::deadline)), or a
//! point a clock can move later
//! ([`ExecutionMonitor::recheck`](super::ExecutionMonitor::recheck): the
//! CPU-time limit, checked when it could first have run out, then again).
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

use std::collections::{BTreeMap, HashMap};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

type Fire = Box<dyn FnOnce() + Send>;

/// A look at a clock, on the timer's thread: when to look next, or `None`
/// to fire now.
pub(crate) type Check = Box<dyn FnMut() -> Option<Instant> + Send>;

struct Entry {
    /// `None` for a plain deadline, which fires when due.
    check: Option<Check>,
    fire: Fire,
}

struct Timer {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    /// Deadlines armed, by time then arming order.
    armed: BTreeMap<(Instant, u64), Entry>,
    /// When each armed deadline is due now (a checked one moves), by id:
    /// what a disarm finds it by.
    due_at: HashMap<u64, Instant>,
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
            // Checks and fires run unlocked: a fire stops a call, whose end
            // disarms its deadlines.
            let again: Vec<_> = due
                .into_iter()
                .filter_map(|((_, id), mut entry)| {
                    match entry.check.as_mut().and_then(|check| check()) {
                        Some(next) => Some((next, id, entry)),
                        None => {
                            (entry.fire)();
                            None
                        }
                    }
                })
                .collect();
            state = timer.lock();
            for (next, id, entry) in again {
                // Unless the call ended (and disarmed it) meanwhile.
                if let Some(at) = state.due_at.get_mut(&id) {
                    *at = next;
                    state.armed.insert((next, id), entry);
                }
            }
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
pub(crate) struct Armed(u64);

/// Calls `fire` (on the timer's thread) at `at`, unless disarmed first.
pub(crate) fn arm(at: Instant, fire: impl FnOnce() + Send + 'static) -> Armed {
    insert(at, None, Box::new(fire))
}

/// Runs `check` (on the timer's thread) at `at`, and again when it says,
/// until it says `None`: then calls `fire`. Unless disarmed first.
pub(crate) fn arm_checked(
    at: Instant,
    check: Check,
    fire: impl FnOnce() + Send + 'static,
) -> Armed {
    insert(at, Some(check), Box::new(fire))
}

fn insert(at: Instant, check: Option<Check>, fire: Fire) -> Armed {
    let timer = timer();
    let mut state = timer.lock();
    let id = state.next_id;
    state.next_id += 1;
    state.armed.insert((at, id), Entry { check, fire });
    state.due_at.insert(id, at);
    if state.sleeping_until.is_none_or(|until| at < until) {
        state.sleeping_until = Some(at);
        timer.wake.notify_one();
    }
    Armed(id)
}

impl Drop for Armed {
    fn drop(&mut self) {
        let entry = {
            let mut state = timer().lock();
            let at = state.due_at.remove(&self.0);
            at.and_then(|at| state.armed.remove(&(at, self.0)))
        };
        // Its closures (and what they hold) go outside the lock.
        drop(entry);
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

    #[test]
    fn a_checked_deadline_fires_when_its_check_says_so_and_never_once_disarmed() {
        let (tx, rx) = mpsc::channel();
        let now = Instant::now();
        let mut looks = 0;
        let check = Box::new(move || {
            looks += 1;
            (looks < 3).then(|| Instant::now() + Duration::from_millis(5))
        });
        let tx2 = tx.clone();
        let _armed = arm_checked(now + Duration::from_millis(5), check, move || {
            tx.send(1).unwrap()
        });
        let disarmed = arm_checked(
            now + Duration::from_millis(5),
            Box::new(|| Some(Instant::now() + Duration::from_millis(5))),
            move || tx2.send(2).unwrap(),
        );
        assert_eq!(rx.recv().unwrap(), 1);
        drop(disarmed);
        assert!(rx.recv_timeout(Duration::from_millis(30)).is_err());
    }
}
