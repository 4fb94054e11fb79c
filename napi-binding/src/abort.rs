//! `AbortSignal` support: an abort becomes a monitor that stops the call.
//!
//! `lib.js` gives each call its own [`NativeAbortToken`] and aborts it when
//! the signal fires. Because it is a monitor, it is armed before the guest
//! runs, so an abort can never slip in between "check" and "start".

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use napi_derive::napi;
use tokio::sync::Notify;

#[derive(Default)]
struct AbortState {
    aborted: AtomicBool,
    notify: Notify,
}

/// A per-call abort flag that `lib.js` sets from an `AbortSignal`.
#[napi]
#[derive(Default)]
pub struct NativeAbortToken {
    state: Arc<AbortState>,
}

#[napi]
impl NativeAbortToken {
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    /// Stops the call this token belongs to (before or while it runs).
    #[napi]
    pub fn abort(&self) {
        self.state.aborted.store(true, Ordering::SeqCst);
        self.state.notify.notify_one();
    }
}

impl NativeAbortToken {
    /// The monitor that fires when the token is aborted.
    pub fn monitor(&self) -> AbortMonitor {
        AbortMonitor(self.state.clone())
    }
}

/// Fires when its token is aborted; reported as `"signal"`.
pub struct AbortMonitor(Arc<AbortState>);

impl polybox::ExecutionMonitor for AbortMonitor {
    fn get_monitor(&self) -> polybox::Result<impl Future<Output = ()> + Send + 'static> {
        let state = self.0.clone();
        Ok(async move {
            // `notify_one` leaves a permit if nobody waits yet: no lost wake-up.
            while !state.aborted.load(Ordering::SeqCst) {
                state.notify.notified().await;
            }
        })
    }

    fn name(&self) -> &'static str {
        "signal"
    }
}
