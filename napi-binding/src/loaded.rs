//! The native `LoadedJSSandbox`: calls, stats, snapshots, unload.
//!
//! The sandbox sits behind a mutex that calls hold on a pool thread; what the
//! main thread reads synchronously (`poisoned`, `lastCallStats`, the interrupt
//! handle) is kept beside it, so a getter never waits for a running call.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use napi::bindgen_prelude::{AsyncTask, Undefined};
use napi_derive::napi;
use polybox::{CallStats, CpuTimeMonitor, FuelBudget, WallClockMonitor};

use crate::abort::NativeAbortToken;
use crate::builder::bytes;
use crate::error::to_js;
use crate::interrupt::NativeInterruptHandle;
use crate::job::Job;
use crate::js_sandbox::NativeJsSandbox;
use crate::snapshot::NativeSnapshot;

/// Options of `callHandler`.
#[napi(object)]
pub struct CallOptions {
    pub wall_clock_timeout_ms: Option<f64>,
    pub cpu_timeout_ms: Option<f64>,
    pub fuel: Option<f64>,
    pub gc: Option<bool>,
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

    /// Runs `f` on the sandbox (on a pool thread), then refreshes what the
    /// main thread reads.
    fn with<R>(
        &self,
        f: impl FnOnce(&mut polybox::LoadedJSSandbox) -> polybox::Result<R>,
    ) -> polybox::Result<R> {
        let mut slot = self.lock();
        let sandbox = slot
            .as_mut()
            .ok_or(polybox::Error::Consumed("LoadedJSSandbox"))?;
        let result = f(sandbox);
        self.poisoned.store(sandbox.poisoned(), Ordering::SeqCst);
        *self.stats.lock().unwrap_or_else(|p| p.into_inner()) = sandbox.last_call_stats();
        result
    }
}

/// A sandbox with its handlers loaded.
#[napi]
pub struct NativeLoadedSandbox {
    shared: Arc<Shared>,
    interrupt: polybox::InterruptHandle,
}

impl NativeLoadedSandbox {
    pub fn new(sandbox: polybox::LoadedJSSandbox) -> Self {
        let interrupt = sandbox.interrupt_handle();
        let shared = Shared {
            poisoned: AtomicBool::new(sandbox.poisoned()),
            stats: Mutex::new(None),
            sandbox: Mutex::new(Some(sandbox)),
        };
        Self {
            shared: Arc::new(shared),
            interrupt,
        }
    }
}

#[napi]
impl NativeLoadedSandbox {
    /// Calls handler `name` with `event` (JSON text); resolves to the JSON result.
    #[napi]
    pub fn call_handler(
        &self,
        name: String,
        event: String,
        options: Option<CallOptions>,
        abort: Option<&NativeAbortToken>,
    ) -> napi::Result<AsyncTask<Job<String, String>>> {
        let options = options.unwrap_or(CallOptions {
            wall_clock_timeout_ms: None,
            cpu_timeout_ms: None,
            fuel: None,
            gc: None,
        });
        let ms = |what: &str, value: Option<f64>| {
            value
                .map(|v| bytes(what, v).map(|n| Duration::from_millis(n as u64)))
                .transpose()
        };
        let wall = ms("wallClockTimeoutMs", options.wall_clock_timeout_ms)?;
        let cpu = ms("cpuTimeoutMs", options.cpu_timeout_ms)?;
        let fuel = options.fuel.map(|f| bytes("fuel", f)).transpose()?;
        let monitors = (
            wall.map(WallClockMonitor::new).transpose().map_err(to_js)?,
            cpu.map(CpuTimeMonitor::new).transpose().map_err(to_js)?,
            fuel.map(|f| FuelBudget::new(f as u64))
                .transpose()
                .map_err(to_js)?,
            abort.map(NativeAbortToken::monitor),
        );
        let shared = self.shared.clone();
        let call = move || {
            shared.with(|s| s.handle_event_with_monitor(&name, &event, &monitors, options.gc))
        };
        Ok(AsyncTask::new(Job::new(call, |json| json)))
    }

    /// Unloads every handler and module; resolves to a fresh JSSandbox.
    #[napi]
    pub fn unload(&self) -> napi::Result<AsyncTask<Job<polybox::JSSandbox, NativeJsSandbox>>> {
        let shared = self.shared.clone();
        let unload = move || {
            let sandbox = shared
                .lock()
                .take()
                .ok_or(polybox::Error::Consumed("LoadedJSSandbox"))?;
            sandbox.unload()
        };
        Ok(AsyncTask::new(Job::new(unload, NativeJsSandbox::new)))
    }

    #[napi]
    pub fn snapshot(&self) -> AsyncTask<Job<polybox::Snapshot, NativeSnapshot>> {
        let shared = self.shared.clone();
        AsyncTask::new(Job::new(
            move || shared.with(|s| s.snapshot()),
            NativeSnapshot::new,
        ))
    }

    #[napi]
    pub fn restore(&self, snapshot: &NativeSnapshot) -> AsyncTask<Job<(), Undefined>> {
        let (shared, snapshot) = (self.shared.clone(), snapshot.snapshot.clone());
        AsyncTask::new(Job::new(
            move || shared.with(|s| s.restore(&snapshot)),
            |()| (),
        ))
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
