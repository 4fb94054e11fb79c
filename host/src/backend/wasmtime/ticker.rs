//! The epoch ticker: one process-wide thread that advances every guest
//! engine's epoch each millisecond, but only while some call has an epoch
//! deadline. Otherwise it sleeps, and epochs advance only when `kill()`
//! wakes a guest.
//!
//! Each advance makes running guests check, in their epoch callback, whether
//! they were told to stop or have passed their deadline.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::{self, Thread};
use std::time::Duration;

use wasmtime::Engine;

/// How often the epoch advances while deadlines are pending.
pub(super) const TICK: Duration = Duration::from_millis(1);

struct Ticker {
    engines: Mutex<Vec<Engine>>,
    pending: AtomicUsize,
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
            thread: thread.thread().clone(),
        }
    })
}

fn run() {
    loop {
        let ticker = ticker();
        if ticker.pending.load(Ordering::Acquire) == 0 {
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
