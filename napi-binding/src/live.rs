//! Every sandbox's interrupt handle, so that `killAll()` can stop every
//! running call when the process exits.
//!
//! Calls run on the addon's workers, which Node.js does not wait for: a
//! runaway call (`while (true) {}` with no limits) would still be running
//! while the process tears itself down. `lib.js` calls [`kill_all`] from the
//! main thread's `'exit'` event: every running call is stopped, and a call
//! that had not started yet refuses to.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use napi_derive::napi;

static EXITING: AtomicBool = AtomicBool::new(false);

fn live() -> MutexGuard<'static, BTreeMap<u64, polybox::InterruptHandle>> {
    static LIVE: Mutex<BTreeMap<u64, polybox::InterruptHandle>> = Mutex::new(BTreeMap::new());
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// A sandbox's place in the registry; leaves it when dropped.
pub struct Registration(u64);

impl Registration {
    /// Registers the sandbox `handle` stops.
    pub fn new(handle: polybox::InterruptHandle) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        live().insert(id, handle);
        Self(id)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        live().remove(&self.0);
    }
}

/// Whether the process is exiting: work that has not started must not.
pub fn exiting() -> bool {
    EXITING.load(Ordering::SeqCst)
}

/// Stops every running call of every sandbox, and every call that starts
/// from now on. For the process's `'exit'` event.
#[napi]
pub fn kill_all() {
    EXITING.store(true, Ordering::SeqCst);
    let handles: Vec<_> = live().values().cloned().collect();
    for handle in handles {
        handle.kill();
    }
}
