//! The native `LoadedJSSandbox`: calls, stats, snapshots. (`unload` is in
//! `js_sandbox.rs`.)
//!
//! The sandbox sits behind a mutex that calls hold on a worker thread; what the
//! main thread reads synchronously (`poisoned`, `lastCallStats`, the interrupt
//! handle) is kept beside it, so a getter never waits for a running call.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use napi::bindgen_prelude::{Buffer, Undefined};
use napi_derive::napi;
use polybox::CallStats;

use crate::abort::NativeAbortToken;
use crate::args::{Options, Text, boolean, limits, options as options_of, property, string};
use crate::error::Result;
use crate::exchange::FetchResponse;
use crate::interrupt::NativeInterruptHandle;
use crate::job::Job;
use crate::live::Registration;
use crate::snapshot::NativeSnapshot;

/// The options `callHandler` takes (`signal` is `lib.js`'s).
const CALL_OPTIONS: &[&str] = &["wallClockTimeoutMs", "cpuTimeoutMs", "gc", "fuel", "signal"];

/// The options `callHandlerSync` takes: no `signal` (the thread that would
/// abort is the one blocked).
const SYNC_CALL_OPTIONS: &[&str] = &["wallClockTimeoutMs", "cpuTimeoutMs", "gc", "fuel"];

/// A call's handler name, limits (`None` without options) and `gc`, from
/// its arguments; `allowed` names the options it takes.
pub(crate) fn call_parts(
    name: Text<'_>,
    options: Option<Options<'_>>,
    allowed: &[&str],
) -> Result<(String, Option<polybox::CallLimits>, Option<bool>)> {
    let name = string("handler name", name)?;
    let options = options_of(options, allowed)?;
    let limits = options.as_ref().map(limits).transpose()?;
    let gc = match &options {
        Some(options) => property(options, "gc")?
            .map(|gc| boolean("gc", gc))
            .transpose()?,
        None => None,
    };
    Ok((name, limits, gc))
}

/// `lastCallStats`, in milliseconds.
#[napi(object, use_nullable = true)]
pub struct CallStatsJs {
    pub wall_clock_ms: f64,
    pub cpu_time_ms: Option<f64>,
    pub fuel_consumed: Option<f64>,
    pub terminated_by: Option<String>,
}

impl From<CallStats> for CallStatsJs {
    fn from(stats: CallStats) -> Self {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        Self {
            wall_clock_ms: ms(stats.wall_clock),
            cpu_time_ms: stats.cpu_time.map(ms),
            fuel_consumed: stats.fuel_consumed.map(|f| f as f64),
            terminated_by: stats.terminated_by.map(str::to_owned),
        }
    }
}

/// State readable from the main thread without waiting for a call.
struct Shared {
    sandbox: Mutex<Option<polybox::LoadedJSSandbox>>,
    poisoned: AtomicBool,
    stats: Mutex<Option<CallStats>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Option<polybox::LoadedJSSandbox>> {
        self.sandbox
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` on the sandbox (on a worker thread), then refreshes what the
    /// main thread reads.
    fn with<R>(
        &self,
        f: impl FnOnce(&mut polybox::LoadedJSSandbox) -> polybox::Result<R>,
    ) -> polybox::Result<R> {
        Self::run(self.lock(), &self.poisoned, &self.stats, f)
    }

    /// [`with`](Self::with) if no other call holds the sandbox, else
    /// `ERR_BUSY`: for a caller that must not wait (the main thread).
    fn try_with<R>(
        &self,
        f: impl FnOnce(&mut polybox::LoadedJSSandbox) -> polybox::Result<R>,
    ) -> polybox::Result<R> {
        let slot = match self.sandbox.try_lock() {
            Ok(slot) => slot,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {
                return Err(polybox::Error::Busy(
                    "another call is running in this sandbox; callHandlerSync does not wait".into(),
                ));
            }
        };
        Self::run(slot, &self.poisoned, &self.stats, f)
    }

    fn run<R>(
        mut slot: MutexGuard<'_, Option<polybox::LoadedJSSandbox>>,
        poisoned: &AtomicBool,
        stats: &Mutex<Option<CallStats>>,
        f: impl FnOnce(&mut polybox::LoadedJSSandbox) -> polybox::Result<R>,
    ) -> polybox::Result<R> {
        let sandbox = slot
            .as_mut()
            .ok_or(polybox::Error::Consumed("LoadedJSSandbox"))?;
        let result = f(sandbox);
        poisoned.store(sandbox.poisoned(), Ordering::SeqCst);
        *stats.lock().unwrap_or_else(|p| p.into_inner()) = sandbox.last_call_stats();
        result
    }
}

/// A sandbox with its handlers loaded.
#[napi]
pub struct NativeLoadedSandbox {
    shared: Arc<Shared>,
    interrupt: polybox::InterruptHandle,
    _live: Registration,
}

impl NativeLoadedSandbox {
    /// Takes the sandbox out (on a worker thread), consuming this object; for
    /// `unload`, which is defined beside `NativeJsSandbox`, the state it
    /// returns to, so the two files do not import each other.
    pub fn take(
        &self,
    ) -> impl FnOnce() -> polybox::Result<polybox::LoadedJSSandbox> + Send + 'static {
        let shared = self.shared.clone();
        move || {
            shared
                .lock()
                .take()
                .ok_or(polybox::Error::Consumed("LoadedJSSandbox"))
        }
    }

    pub fn new(sandbox: polybox::LoadedJSSandbox) -> Self {
        let interrupt = sandbox.interrupt_handle();
        let shared = Shared {
            poisoned: AtomicBool::new(sandbox.poisoned()),
            stats: Mutex::new(None),
            sandbox: Mutex::new(Some(sandbox)),
        };
        Self {
            shared: Arc::new(shared),
            _live: Registration::new(interrupt.clone()),
            interrupt,
        }
    }
}

#[napi]
impl NativeLoadedSandbox {
    /// Calls handler `name` with `event` (JSON text); resolves to the JSON
    /// result. `options` as `callHandler`'s, without `signal`, which
    /// `lib.js` turns into `abort`.
    #[napi(
        ts_args_type = "name: string, event: string, options?: object | null, abort?: NativeAbortToken | null",
        ts_return_type = "Promise<string>"
    )]
    pub fn call_handler(
        &self,
        name: Text<'_>,
        event: String,
        options: Option<Options<'_>>,
        abort: Option<&NativeAbortToken>,
    ) -> Result<Job<String, String>> {
        let (name, limits, gc) = call_parts(name, options, CALL_OPTIONS)?;
        let limits = limits.unwrap_or_default();
        let monitors = (limits, abort.map(NativeAbortToken::monitor));
        let shared = self.shared.clone();
        let call =
            move || shared.with(|s| s.handle_event_with_monitor(&name, &event, &monitors, gc));
        Ok(Job::new(call, |json| json))
    }

    /// Answers a request with handler `name` (a `fetch` handler); resolves
    /// to the response. `options` and `abort` as `call_handler`'s.
    #[napi(
        ts_args_type = "name: string, method: string, url: string, headers: string[][], body: Buffer, options?: object | null, abort?: NativeAbortToken | null",
        ts_return_type = "Promise<FetchResponse>"
    )]
    #[allow(clippy::too_many_arguments)]
    pub fn fetch(
        &self,
        name: Text<'_>,
        method: String,
        url: String,
        headers: Vec<Vec<String>>,
        body: Buffer,
        options: Option<Options<'_>>,
        abort: Option<&NativeAbortToken>,
    ) -> Result<Job<polybox::HttpResponse, FetchResponse>> {
        let (name, limits, _) = call_parts(name, options, CALL_OPTIONS)?;
        let request = crate::exchange::request(method, url, headers, &body)?;
        let monitors = (
            limits.unwrap_or_default(),
            abort.map(NativeAbortToken::monitor),
        );
        let shared = self.shared.clone();
        let call = move || shared.with(|s| s.fetch_with_monitor(&name, &request, &monitors));
        Ok(Job::new(call, FetchResponse::from))
    }

    /// `call_handler` on this thread, blocking it until the call ends (the
    /// same limits and errors; a kill from another thread stops it).
    /// Refused with `ERR_BUSY` while another call runs, rather than
    /// waiting for it.
    #[napi(ts_args_type = "name: string, event: string, options?: object | null")]
    pub fn call_handler_sync(
        &self,
        env: napi::Env,
        name: Text<'_>,
        event: String,
        options: Option<Options<'_>>,
    ) -> napi::Result<String> {
        let (name, limits, gc) = call_parts(name, options, SYNC_CALL_OPTIONS)
            .map_err(|error| crate::error::thrown(env, error))?;
        let limits = limits.unwrap_or_default();
        let _sync = crate::host_functions::SyncCall::enter();
        self.shared
            .try_with(|s| s.handle_event_with_monitor(&name, &event, &limits, gc))
            .map_err(|error| crate::error::rejection(env, error))
    }

    #[napi(ts_return_type = "Promise<NativeSnapshot>")]
    pub fn snapshot(&self) -> Job<polybox::Snapshot, NativeSnapshot> {
        let shared = self.shared.clone();
        Job::new(move || shared.with(|s| s.snapshot()), NativeSnapshot::new)
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn restore(&self, snapshot: &NativeSnapshot) -> Job<(), Undefined> {
        let (shared, snapshot) = (self.shared.clone(), snapshot.snapshot.clone());
        Job::new(move || shared.with(|s| s.restore(&snapshot)), |()| ())
    }

    /// Frees the sandbox, stopping a call that is running (off the main
    /// thread, since the call must first let go of it); using this object
    /// afterwards is `ERR_CONSUMED`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn dispose(&self) -> Job<(), Undefined> {
        self.interrupt.kill();
        let take = self.take();
        Job::new(move || take().map(drop).or(Ok(())), |()| ())
    }

    #[napi(getter)]
    pub fn interrupt_handle(&self) -> NativeInterruptHandle {
        NativeInterruptHandle::new(self.interrupt.clone())
    }

    #[napi(getter)]
    pub fn poisoned(&self) -> bool {
        self.shared.poisoned.load(Ordering::SeqCst)
    }

    #[napi(getter)]
    pub fn last_call_stats(&self) -> Option<CallStatsJs> {
        let stats = *self.shared.stats.lock().unwrap_or_else(|p| p.into_inner());
        stats.map(Into::into)
    }
}
