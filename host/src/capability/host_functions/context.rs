//! [`CallContext`]: what a host function knows of the call it serves.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use crate::monitor::InterruptState;

/// The call a host function serves. A host function that waits (for another
/// thread, the network, a Node.js promise) can learn here that a monitor, a
/// budget or `kill()` stopped the call, and give up at once, instead of
/// holding the call until it returns. Given to functions registered with
/// [`HostModule::register_raw_with_context`](super::HostModule::register_raw_with_context).
///
/// ```
/// # fn main() -> polybox::Result<()> {
/// use std::sync::mpsc;
///
/// let mut proto = polybox::SandboxBuilder::new().build()?;
/// proto.host_module("jobs")?.register_raw_with_context("wait", |_args, call| {
///     let (done, wait) = mpsc::channel::<Result<String, String>>();
///     let stopped = done.clone();
///     // Hand `done` to whatever does the work; give up if the call stops.
///     let _stop = call.on_stop(move || {
///         let _ = stopped.send(Err("the call was stopped".into()));
///     });
///     # done.send(Ok("1".into())).unwrap();
///     wait.recv().map_err(|_| "the work was dropped".to_owned())?
/// })?;
/// # Ok(()) }
/// ```
pub struct CallContext<'a> {
    interrupt: &'a Arc<InterruptState>,
    call: u64,
}

impl<'a> CallContext<'a> {
    /// The context of the call running in the sandbox of `interrupt` now.
    pub(crate) fn new(interrupt: &'a Arc<InterruptState>) -> Self {
        Self {
            call: interrupt.running(),
            interrupt,
        }
    }

    /// What stopped the call, once something did (`"wall-clock"`,
    /// `"killed"`, ...), as `CallStats::terminated_by` will name it.
    pub fn stop_reason(&self) -> Option<&'static str> {
        self.interrupt.stop_reason(self.call)
    }

    /// Runs `listener` when the call is told to stop, on the thread that
    /// stops it (at once, on this thread, if it already was). It does not
    /// run if the returned guard is dropped first, and never for a host
    /// function called outside any call.
    pub fn on_stop(&self, listener: impl FnOnce() + Send + 'static) -> OnStop {
        OnStop {
            token: self.interrupt.on_stop(self.call, Box::new(listener)),
            interrupt: self.interrupt.clone(),
        }
    }
}

impl CallContext<'_> {
    /// Waits on `changed` while `waiting` holds for the state `state`
    /// guards, until `deadline` if there is one, or until the call is
    /// stopped (a stop wakes the wait at once); returns the state, locked.
    /// Whoever changes the state notifies `changed`.
    pub(crate) fn wait_while<'m, T: Send + 'static>(
        &self,
        state: &'m Arc<Mutex<T>>,
        changed: &Arc<Condvar>,
        deadline: Option<Instant>,
        waiting: impl Fn(&T) -> bool,
    ) -> MutexGuard<'m, T> {
        // Notified under the lock, so a stop cannot slip in between the
        // check below and the wait.
        let (locked, woken) = (state.clone(), changed.clone());
        let _stop = self.on_stop(move || {
            let _state = locked.lock().unwrap_or_else(|p| p.into_inner());
            woken.notify_all();
        });
        let mut guard = state.lock().unwrap_or_else(|p| p.into_inner());
        while waiting(&guard) && self.stop_reason().is_none() {
            guard = match deadline {
                None => changed.wait(guard).unwrap_or_else(|p| p.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    changed
                        .wait_timeout(guard, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        }
        guard
    }
}

/// A listener registered with [`CallContext::on_stop`]; dropping it
/// unregisters the listener if it has not run.
#[must_use = "dropping the guard unregisters the listener"]
pub struct OnStop {
    interrupt: Arc<InterruptState>,
    token: Option<u64>,
}

impl Drop for OnStop {
    fn drop(&mut self) {
        if let Some(token) = self.token {
            self.interrupt.forget(token);
        }
    }
}

impl std::fmt::Debug for CallContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallContext")
            .field("stop_reason", &self.stop_reason())
            .finish()
    }
}

impl std::fmt::Debug for OnStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnStop").finish_non_exhaustive()
    }
}
