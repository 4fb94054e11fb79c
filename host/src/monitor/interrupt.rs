//! Stopping a running call from any thread.
//!
//! Each call gets an id. A kill names the call it is meant for, so a kill
//! that arrives while the sandbox is idle, or after its call has finished,
//! never affects a later call. The first reason recorded for a call wins:
//! that is the monitor (or `"killed"`) reported in the call's stats.
//!
//! This state is backend-neutral: which call is running, whether it was
//! told to stop, and how to wake the guest so it notices. What a backend
//! enforces itself (wasmtime's epoch deadlines and fuel) stays in that
//! backend.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, Result};

/// A cloneable, thread-safe handle that stops the sandbox's running call.
///
/// ```no_run
/// # fn main() -> polybox::Result<()> {
/// # let mut loaded = polybox::SandboxBuilder::new().build()?.load_runtime()?.get_loaded_sandbox()?;
/// let handle = loaded.interrupt_handle();
/// std::thread::spawn(move || {
///     std::thread::sleep(std::time::Duration::from_secs(1));
///     handle.kill(); // the call below fails with ERR_CANCELLED
/// });
/// let result = loaded.handle_event("slow", "{}", None);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct InterruptHandle(pub(crate) Arc<InterruptState>);

impl InterruptHandle {
    /// Stops the running call, which fails with `ERR_CANCELLED` and poisons
    /// the sandbox. Does nothing when no call is running.
    pub fn kill(&self) {
        self.0.kill_running("killed");
    }
}

impl std::fmt::Debug for InterruptHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InterruptHandle").finish_non_exhaustive()
    }
}

/// The per-sandbox state behind [`InterruptHandle`], shared with the backend.
#[derive(Default)]
pub(crate) struct InterruptState {
    next_call: AtomicU64,
    /// The running call's id; 0 while idle.
    running: AtomicU64,
    /// The call that was told to stop, and who waits to hear of it.
    stop: Mutex<Stop>,
    /// How the backend makes a running guest notice a stop request.
    wake: OnceLock<Box<dyn Fn() + Send + Sync>>,
}

/// Stop requests and their listeners.
#[derive(Default)]
struct Stop {
    /// The call that was told to stop, and why.
    stopped: Option<(u64, &'static str)>,
    /// What to run when a call is told to stop.
    listeners: Vec<Listener>,
    next_token: u64,
}

/// Something to run when call `call` is told to stop.
struct Listener {
    call: u64,
    token: u64,
    run: Box<dyn FnOnce() + Send>,
}

impl InterruptState {
    fn stop(&self) -> std::sync::MutexGuard<'_, Stop> {
        self.stop.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Installs the backend's wake-up; later calls are ignored.
    pub fn set_wake(&self, wake: impl Fn() + Send + Sync + 'static) {
        let _ = self.wake.set(Box::new(wake));
    }

    /// Marks a call as running until the guard drops.
    pub fn begin_call(self: &Arc<Self>) -> CallGuard {
        let id = self.next_call.fetch_add(1, Ordering::Relaxed) + 1;
        self.running.store(id, Ordering::SeqCst);
        CallGuard {
            state: self.clone(),
            id,
        }
    }

    /// Stops the running call, if any.
    pub fn kill_running(&self, reason: &'static str) {
        let id = self.running.load(Ordering::SeqCst);
        if id != 0 {
            self.kill_call(id, reason);
        }
    }

    /// Stops call `id` if it is still running.
    pub fn kill_call(&self, id: u64, reason: &'static str) {
        if self.running.load(Ordering::SeqCst) != id {
            return;
        }
        let listeners = {
            let mut stop = self.stop();
            if stop.stopped.is_some_and(|(stopped, _)| stopped == id) {
                return;
            }
            stop.stopped = Some((id, reason));
            let (theirs, others) = std::mem::take(&mut stop.listeners)
                .into_iter()
                .partition::<Vec<_>, _>(|listener| listener.call == id);
            stop.listeners = others;
            theirs
        };
        if let Some(wake) = self.wake.get() {
            wake();
        }
        for listener in listeners {
            (listener.run)();
        }
    }

    /// Runs `listener` when call `id` is told to stop (at once, if it
    /// already was; never for id 0, outside any call). Returns a token for
    /// [`forget`](Self::forget), or `None` when it is not kept.
    pub fn on_stop(&self, id: u64, listener: Box<dyn FnOnce() + Send>) -> Option<u64> {
        if id == 0 {
            return None;
        }
        let mut stop = self.stop();
        if stop.stopped.is_some_and(|(stopped, _)| stopped == id) {
            drop(stop);
            listener();
            return None;
        }
        stop.next_token += 1;
        let token = stop.next_token;
        stop.listeners.push(Listener {
            call: id,
            token,
            run: listener,
        });
        Some(token)
    }

    /// Forgets the listener registered as `token`, if it has not run.
    pub fn forget(&self, token: u64) {
        self.stop()
            .listeners
            .retain(|listener| listener.token != token);
    }

    /// The running call's id; 0 while idle.
    pub fn running(&self) -> u64 {
        self.running.load(Ordering::SeqCst)
    }

    /// Why the running call must stop now, if it was told to.
    pub fn stop_requested(&self) -> Option<&'static str> {
        match self.running.load(Ordering::SeqCst) {
            0 => None,
            id => self.stop_reason(id),
        }
    }

    /// `ERR_CANCELLED` if call `id` was told to stop: asked before each
    /// entry into the guest, so a stop that came early is not missed.
    pub fn check(&self, id: u64) -> Result<()> {
        match self.stop_reason(id) {
            Some(reason) => Err(Error::Cancelled(reason)),
            None => Ok(()),
        }
    }

    /// Why call `id` was told to stop, if it was.
    pub fn stop_reason(&self, id: u64) -> Option<&'static str> {
        self.stop()
            .stopped
            .filter(|(stopped, _)| *stopped == id)
            .map(|(_, reason)| reason)
    }
}

/// A running call; marks the sandbox idle when dropped.
pub(crate) struct CallGuard {
    state: Arc<InterruptState>,
    id: u64,
}

impl CallGuard {
    /// The call's id.
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        // Listeners of a call that has ended would never run.
        self.state
            .stop()
            .listeners
            .retain(|listener| listener.call != self.id);
        let _ = self
            .state
            .running
            .compare_exchange(self.id, 0, Ordering::SeqCst, Ordering::SeqCst);
    }
}
