//! The epoch ticker: one process-wide thread that advances every guest
//! engine's epoch each millisecond, but only while some call has an epoch
//! deadline. Otherwise it sleeps, and epochs advance only when `kill()`
//! wakes a guest.
//!
//! Each advance makes running guests check, in their epoch callback, whether
//! they were told to stop or have passed their deadline.
//!
//! A kill also keeps the ticker running for a few ticks ([`after_stop`]).
//! The kill's own advance can reach a guest whose callback is already
//! running for an earlier advance (another sandbox's kill on the same
//! engine) and has looked for a stop before this one was recorded: that
//! callback lets the guest go on, with a deadline one past the advance the
//! kill made, and without a later advance the guest would never look again.
//! The ticks after a stop are those later advances.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use wasmtime::Engine;

/// How often the epoch advances while deadlines are pending.
pub(super) const TICK: Duration = Duration::from_millis(1);

/// How long the ticker keeps running after a stop request.
const AFTER_STOP: Duration = Duration::from_millis(5);

struct Ticker {
    engines: Mutex<Vec<Engine>>,
    pending: AtomicUsize,
    /// Until when it runs after the last stop request.
    after_stop: Mutex<Option<Instant>>,
    thread: Thread,
}

fn ticker() -> &'static Ticker {
    static TICKER: OnceLock<Ticker> = OnceLock::new();
    TICKER.get_or_init(|| {
        let thread = thread::Builder::new()
            .name("polybox-epoch".into())
            .spawn(run)
            .expect("cannot start the epoch ticker thread");
        Ticker {
            engines: Mutex::new(Vec::new()),
            pending: AtomicUsize::new(0),
            after_stop: Mutex::new(None),
            thread: thread.thread().clone(),
        }
    })
}

fn run() {
    loop {
        let ticker = ticker();
        let stopping = ticker
            .after_stop
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|until| Instant::now() < until);
        if ticker.pending.load(Ordering::Acquire) == 0 && !stopping {
            thread::park();
            continue;
        }
        thread::sleep(TICK);
        for engine in ticker
            .engines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            engine.increment_epoch();
        }
    }
}

/// Adds an engine whose epoch the ticker advances.
pub(super) fn register(engine: &Engine) {
    ticker()
        .engines
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(engine.clone());
}

/// Keeps the ticker running for a few ticks: called on every stop request
/// (see the module docs).
pub(super) fn after_stop() {
    let ticker = ticker();
    *ticker.after_stop.lock().unwrap_or_else(|p| p.into_inner()) =
        Some(Instant::now() + AFTER_STOP);
    ticker.thread.unpark();
}

/// Keeps the ticker running while alive.
pub(super) struct Deadline(());

impl Deadline {
    pub fn hold() -> Self {
        let ticker = ticker();
        if ticker.pending.fetch_add(1, Ordering::AcqRel) == 0 {
            ticker.thread.unpark();
        }
        Self(())
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        ticker().pending.fetch_sub(1, Ordering::AcqRel);
    }
}
