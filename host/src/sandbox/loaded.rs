//! [`LoadedJSSandbox`]: call handlers, bounded by monitors; snapshot and
//! restore; kill. Its way back, [`unload`](LoadedJSSandbox::unload), is
//! defined beside [`JSSandbox`](super::JSSandbox), the state it returns to,
//! so that the two states' files do not import each other.

use std::collections::BTreeSet;

use super::core::SandboxCore;
use crate::backend::HandlerCall;
use crate::error::{Error, Result};
use crate::json_depth::{max_event_depth, nests_deeper_than};
use crate::metrics::ActiveSandbox;
use crate::monitor::{Arming, InterruptHandle, MonitorSet};
use crate::snapshot::Snapshot;
use crate::stats::{CallStats, measure};

/// A sandbox with its handlers loaded, ready for events.
pub struct LoadedJSSandbox {
    core: SandboxCore,
    handlers: BTreeSet<String>,
    last_call_stats: Option<CallStats>,
    _active: ActiveSandbox,
}

impl LoadedJSSandbox {
    pub(crate) fn new(core: SandboxCore, handlers: BTreeSet<String>) -> Self {
        Self {
            core,
            handlers,
            last_call_stats: None,
            _active: ActiveSandbox::new("loaded"),
        }
    }

    /// Calls handler `name` with `event` (JSON text) and returns its result as
    /// JSON text. An async handler's promise is awaited. The garbage
    /// collector runs afterwards unless `gc` is `Some(false)`. Bytes cross
    /// both ways as an object with the single key `"\u0000bytes"` holding
    /// their base64: a `Uint8Array` in a JavaScript handler, `bytes` in a
    /// Python one.
    ///
    /// Fails with `ERR_INVALID_ARG` for an unknown handler, invalid JSON (or
    /// a bytes value that is not base64), an
    /// event nested deeper than the stack allows (one level per 512 bytes of
    /// stack size: 2,048 by default), or an event or result larger than the
    /// input or output buffer; with
    /// `ERR_GUEST_ERROR` when the handler throws or returns something that is
    /// not JSON; with `ERR_POISONED` at once when the sandbox is poisoned.
    pub fn handle_event(
        &mut self,
        name: &str,
        event: impl AsRef<str>,
        gc: Option<bool>,
    ) -> Result<String> {
        let arming = self.core.unarmed();
        self.call(name, event.as_ref(), gc, Ok(arming))
    }

    /// [`handle_event`](Self::handle_event) bounded by `monitor`: one monitor
    /// or budget, or a tuple of up to five racing with OR semantics.
    ///
    /// When a monitor fires or a budget runs out the call fails with
    /// `ERR_CANCELLED`, [`last_call_stats`](Self::last_call_stats) names what
    /// stopped it, and the sandbox is poisoned until [`restore`](Self::restore)
    /// or [`unload`](Self::unload) (unless the stop came before the call
    /// entered the guest, which then is untouched). If any monitor fails to start, the handler
    /// never runs and its error is returned (fail closed).
    ///
    /// ```
    /// # fn main() -> polybox::Result<()> {
    /// use std::time::Duration;
    /// use polybox::{CpuTimeMonitor, ErrorCode, SandboxBuilder, WallClockMonitor};
    ///
    /// let mut sandbox = SandboxBuilder::new().build()?.load_runtime()?;
    /// sandbox.add_handler("spin", "function handler() { for (;;) {} }")?;
    /// let mut loaded = sandbox.get_loaded_sandbox()?;
    /// let snapshot = loaded.snapshot()?;
    ///
    /// let limits = (
    ///     WallClockMonitor::new(Duration::from_secs(5))?,
    ///     CpuTimeMonitor::new(Duration::from_millis(50))?,
    /// );
    /// let error = loaded.handle_event_with_monitor("spin", "{}", &limits, None).unwrap_err();
    /// assert_eq!(error.code(), ErrorCode::Cancelled);
    /// assert_eq!(loaded.last_call_stats().unwrap().terminated_by, Some("cpu-time"));
    /// assert!(loaded.poisoned());
    /// loaded.restore(&snapshot)?;
    /// assert!(!loaded.poisoned());
    /// # Ok(()) }
    /// ```
    pub fn handle_event_with_monitor<M: MonitorSet + ?Sized>(
        &mut self,
        name: &str,
        event: impl AsRef<str>,
        monitor: &M,
        gc: Option<bool>,
    ) -> Result<String> {
        let armed = self.core.armed(monitor);
        self.call(name, event.as_ref(), gc, armed)
    }

    /// Runs one call and records its stats, whatever the outcome.
    fn call(
        &mut self,
        name: &str,
        event: &str,
        gc: Option<bool>,
        arming: Result<Arming>,
    ) -> Result<String> {
        let (result, stats) = measure(|| match arming {
            Ok(arming) => self.run(name, event, gc.unwrap_or(true), arming),
            Err(error) => (Err(error), None),
        });
        self.last_call_stats = Some(stats);
        result
    }

    fn run(
        &mut self,
        name: &str,
        event: &str,
        gc: bool,
        arming: Arming,
    ) -> (Result<String>, Option<u64>) {
        if let Err(error) = self.check_call(name, event) {
            return (Err(error), None);
        }
        let outcome = self.core.bounded(arming, |guest, id, budgets| {
            Ok(guest.call_handler(HandlerCall {
                name,
                event,
                gc,
                id,
                budgets,
            }))
        });
        match outcome {
            Ok(outcome) => (
                outcome.result.and_then(|result| self.check_result(result)),
                outcome.fuel_consumed,
            ),
            Err(error) => (Err(error), None),
        }
    }

    fn check_call(&self, name: &str, event: &str) -> Result<()> {
        if let Some(cause) = self.core.guest.poisoned_by() {
            return Err(Error::Poisoned(cause));
        }
        if !self.handlers.contains(name) {
            return Err(Error::invalid_arg(format!(
                "no handler is registered as {name:?}; loaded handlers: {:?}",
                self.handlers
            )));
        }
        if event.len() > self.core.config.input_buffer_size {
            return Err(Error::invalid_arg(format!(
                "the event is {} bytes, more than the input buffer's {} bytes; raise it with SandboxBuilder::input_buffer_size",
                event.len(),
                self.core.config.input_buffer_size
            )));
        }
        let max_depth = max_event_depth(self.core.config.stack_size);
        if nests_deeper_than(event, max_depth) {
            return Err(Error::invalid_arg(format!(
                "the event nests arrays and objects more than {max_depth} levels deep, more than this sandbox's stack size allows; raise it with SandboxBuilder::stack_size"
            )));
        }
        Ok(())
    }

    fn check_result(&self, result: String) -> Result<String> {
        if result.len() > self.core.config.output_buffer_size {
            return Err(Error::invalid_arg(format!(
                "the result is {} bytes, more than the output buffer's {} bytes; raise it with SandboxBuilder::output_buffer_size",
                result.len(),
                self.core.config.output_buffer_size
            )));
        }
        Ok(result)
    }

    /// Statistics of the most recent call (successful or not); `None` before
    /// the first call.
    pub fn last_call_stats(&self) -> Option<CallStats> {
        self.last_call_stats
    }

    /// Whether the sandbox is poisoned: a kill, a monitor or budget, a trap, a
    /// stack overflow or a guest abort stopped a call mid-way. Every call then
    /// fails with `ERR_POISONED` until [`restore`](Self::restore) or
    /// [`unload`](Self::unload).
    pub fn poisoned(&self) -> bool {
        self.core.guest.poisoned_by().is_some()
    }

    /// A handle that stops the running call from any thread.
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle(self.core.interrupt.clone())
    }

    /// Captures the guest's state: module and handler state, every object.
    /// Fails with `ERR_POISONED` when the sandbox is poisoned.
    ///
    /// Cost: a copy of the guest's memory (2 MiB or more) into a sealed
    /// memfd, about 1.5 ms on a small machine; take it once and restore it
    /// often.
    pub fn snapshot(&mut self) -> Result<Snapshot> {
        let image = self.core.guest.snapshot()?;
        Ok(Snapshot {
            fingerprint: self.core.fingerprint,
            handlers: self.handlers.clone(),
            image,
        })
    }

    /// Returns the guest to `snapshot`'s state and clears poison. Host
    /// functions, which live in the host, keep their state. The snapshot must
    /// come from a sandbox with the same configuration (`ERR_INVALID_ARG`
    /// otherwise).
    ///
    /// Cost: restoring the snapshot this sandbox last took or restored, while
    /// it is healthy, copies back only the pages written since (a few
    /// microseconds for a small call); anything else maps the snapshot into
    /// a fresh instance (about 0.1 ms).
    pub fn restore(&mut self, snapshot: &Snapshot) -> Result<()> {
        if snapshot.fingerprint != self.core.fingerprint {
            return Err(Error::invalid_arg(
                "the snapshot comes from a sandbox with a different configuration (backend, sizes, fuel metering or host functions)",
            ));
        }
        self.core.guest.restore(&snapshot.image)?;
        self.handlers = snapshot.handlers.clone();
        Ok(())
    }

    /// The names of the loaded handlers.
    pub fn handlers(&self) -> impl Iterator<Item = &str> {
        self.handlers.iter().map(String::as_str)
    }

    /// The guest and its surroundings, for the transition back to a
    /// `JSSandbox` (`unload`, defined beside `JSSandbox`).
    pub(super) fn into_core(self) -> SandboxCore {
        self.core
    }
}

impl std::fmt::Debug for LoadedJSSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedJSSandbox")
            .field("backend", &self.core.config.backend)
            .field("handlers", &self.handlers)
            .field("poisoned", &self.poisoned())
            .finish_non_exhaustive()
    }
}
