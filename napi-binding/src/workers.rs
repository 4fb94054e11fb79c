//! The threads that run the addon's work off the main thread.
//!
//! libuv's thread pool costs a Node call two thread wake-ups, and waking a
//! sleeping thread is the dearest step of a short call on a virtual machine
//! (an echo spent about 45 of its 50 µs there, against 3 µs in the guest).
//! These workers stay awake for a moment after each job instead: one of
//! them spins for [`SPIN`] waiting for the next, so a caller that calls
//! again soon hands its work to a running thread. Past that, workers sleep.
//!
//! Spinning pays only with another CPU to run the thread being waited for
//! ([`spin_pays`]): with one (a container limited to one CPU, `taskset`),
//! the spinning thread takes the CPU from that very thread, and an echo
//! took 162 µs instead of 7.6; there, workers and waits sleep at once.
//!
//! The pool grows when every worker is busy (a call waiting for a JavaScript
//! host callback holds its thread, and libuv's fixed four threads could all
//! be held so), up to [`MOST`], and the workers above [`KEEP`] leave after
//! [`IDLE`] asleep.
//! Keeping engine work off libuv's pool also leaves that pool to the host
//! application's file system and DNS work.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// How long a worker that ran out of work stays awake for more.
const SPIN: Duration = Duration::from_micros(50);

/// Workers that never leave.
const KEEP: usize = 2;

/// Workers at most: past this many busy ones, jobs wait for one to finish
/// (as they wait for one of libuv's four).
const MOST: usize = 256;

/// How long a worker beyond [`KEEP`] sleeps before it leaves.
const IDLE: Duration = Duration::from_secs(10);

/// Each worker's stack: guest code runs on it (`builder.rs` bounds the
/// guest stack by it), as libuv's 8 MiB.
pub const STACK: usize = 8 * 1024 * 1024;

/// Work for a worker.
pub type Work = Box<dyn FnOnce() + Send>;

struct Pool {
    queue: Mutex<VecDeque<Work>>,
    ready: Condvar,
    /// Jobs queued and not yet taken: what a spinning worker watches.
    queued: AtomicUsize,
    /// Workers spinning (at most one) and asleep; `threads` counts all.
    spinning: AtomicUsize,
    sleeping: AtomicUsize,
    threads: AtomicUsize,
}

static POOL: Pool = Pool {
    queue: Mutex::new(VecDeque::new()),
    ready: Condvar::new(),
    queued: AtomicUsize::new(0),
    spinning: AtomicUsize::new(0),
    sleeping: AtomicUsize::new(0),
    threads: AtomicUsize::new(0),
};

/// Whether a thread that waits should spin first: only when this process
/// may run on more than one CPU (affinity and cgroup quota counted), since
/// on one the spin keeps the awaited thread from running.
pub fn spin_pays() -> bool {
    static PAYS: OnceLock<bool> = OnceLock::new();
    *PAYS.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1))
}

/// Runs `work` on a worker thread.
pub fn submit(work: Work) {
    POOL.lock().push_back(work);
    POOL.queued.fetch_add(1, Ordering::SeqCst);
    POOL.call_worker();
}

/// Waits on this thread for `future` (a reply from the JavaScript thread),
/// spinning for up to [`SPIN`] before sleeping, for the same reason the
/// workers spin.
pub fn wait<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(std::task::Waker::noop());
    let start = Instant::now();
    while spin_pays() && start.elapsed() < SPIN {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::hint::spin_loop();
    }
    futures::executor::block_on(future)
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, VecDeque<Work>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Gets a worker onto the queue: a spinning worker will see it; else
    /// wake a sleeper; else every worker is busy: add one.
    fn call_worker(&'static self) {
        if self.spinning.load(Ordering::SeqCst) > 0 {
            return;
        }
        if self.sleeping.load(Ordering::SeqCst) > 0 {
            self.ready.notify_one();
        } else {
            self.spawn();
        }
    }

    fn spawn(&'static self) {
        if self.threads.fetch_add(1, Ordering::SeqCst) >= MOST {
            self.threads.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        let spawned = std::thread::Builder::new()
            .name("polybox-worker".into())
            .stack_size(STACK)
            .spawn(|| POOL.work());
        if spawned.is_err() {
            // No thread to be had: the queued job waits for a worker that
            // is running or asleep, as it would in a fixed pool.
            self.threads.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// The next job; if more wait, another worker is called for them
    /// first (this job may hold this thread for long: a call waiting for a
    /// host callback).
    fn take(&'static self) -> Option<Work> {
        let (work, more) = {
            let mut queue = self.lock();
            let work = queue.pop_front()?;
            (work, !queue.is_empty())
        };
        self.queued.fetch_sub(1, Ordering::SeqCst);
        if more {
            self.call_worker();
        }
        Some(work)
    }

    /// A worker's life: run what is queued, spin a moment for more, sleep.
    fn work(&'static self) {
        loop {
            while let Some(work) = self.take() {
                work();
            }
            if self.spin() {
                continue;
            }
            if !self.sleep() {
                self.threads.fetch_sub(1, Ordering::SeqCst);
                return;
            }
        }
    }

    /// Waits up to [`SPIN`] for a job without sleeping, if no other worker
    /// already does; whether one came.
    fn spin(&self) -> bool {
        if !spin_pays() {
            return false;
        }
        if self
            .spinning
            .compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return false;
        }
        let start = Instant::now();
        while self.queued.load(Ordering::SeqCst) == 0 && start.elapsed() < SPIN {
            std::hint::spin_loop();
        }
        self.spinning.store(0, Ordering::SeqCst);
        self.queued.load(Ordering::SeqCst) > 0
    }

    /// Sleeps until a job is queued; false if this worker should leave
    /// instead (it slept [`IDLE`] and is beyond [`KEEP`]).
    fn sleep(&self) -> bool {
        let mut queue = self.lock();
        // Checked under the lock a submitter pushes under: a job queued
        // after the spin ended is seen here, or its submitter sees this
        // worker asleep and wakes it.
        self.sleeping.fetch_add(1, Ordering::SeqCst);
        while queue.is_empty() {
            let (next, timeout) = self
                .ready
                .wait_timeout(queue, IDLE)
                .unwrap_or_else(|p| p.into_inner());
            queue = next;
            if timeout.timed_out() && queue.is_empty() && self.threads.load(Ordering::SeqCst) > KEEP
            {
                self.sleeping.fetch_sub(1, Ordering::SeqCst);
                return false;
            }
        }
        self.sleeping.fetch_sub(1, Ordering::SeqCst);
        true
    }
}
