//! The per-sandbox store data, and the host side of the guest's imports.

use std::sync::{Arc, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use wasmtime::{ResourceLimiter, StoreContext, UpdateDeadline};

use super::bindings::polybox::sandbox::{host_call, platform, types};
use super::trap::Stopped;
use crate::backend::HostEnv;
use crate::log::LogLevel;
use crate::monitor::InterruptState;

/// The most random bytes handed out per request (as in WebCrypto).
const MAX_RANDOM_BYTES: u32 = 65_536;

/// What a sandbox's `Store` holds.
pub(crate) struct GuestState {
    pub env: Arc<HostEnv>,
    pub limiter: HeapLimiter,
    pub interrupt: Arc<InterruptState>,
    /// The handler call in progress, if any.
    pub call: Option<ActiveCall>,
}

/// A handler call in progress.
pub(crate) struct ActiveCall {
    pub id: u64,
    /// When an epoch deadline stops the call.
    pub deadline: Option<Instant>,
}

impl GuestState {
    /// The epoch callback: runs whenever the engine's epoch advances (a kill,
    /// or the ticker while deadlines are pending) and decides whether the
    /// running call stops.
    pub fn on_epoch(store: StoreContext<'_, Self>) -> wasmtime::Result<UpdateDeadline> {
        let state = store.data();
        if let Some(call) = &state.call {
            if let Some(reason) = state.interrupt.stop_reason(call.id) {
                return Err(Stopped(reason).into());
            }
            if call
                .deadline
                .is_some_and(|deadline| Instant::now() >= deadline)
            {
                return Err(Stopped("epoch").into());
            }
        }
        Ok(UpdateDeadline::Continue(1))
    }
}

/// Caps how far guest memory may grow beyond its initial size. Refusing a
/// grow (rather than trapping) makes `malloc` fail, which QuickJS reports as a
/// catchable `out of memory` error.
pub(crate) struct HeapLimiter {
    heap_size: usize,
    initial: Option<usize>,
}

impl HeapLimiter {
    pub fn new(heap_size: usize) -> Self {
        Self {
            heap_size,
            initial: None,
        }
    }
}

impl ResourceLimiter for HeapLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // The first call creates the memory (from zero): that is its initial size.
        let initial = *self
            .initial
            .get_or_insert(if current == 0 { desired } else { current });
        Ok(desired <= initial.saturating_add(self.heap_size))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

impl host_call::Host for GuestState {
    fn call(&mut self, module: String, function: String, args: String) -> Result<String, String> {
        self.env.functions.call(&module, &function, &args)
    }
}

impl platform::Host for GuestState {
    fn log(&mut self, level: platform::LogLevel, message: String) {
        let level = match level {
            platform::LogLevel::Debug => LogLevel::Debug,
            platform::LogLevel::Info => LogLevel::Info,
            platform::LogLevel::Warn => LogLevel::Warn,
            platform::LogLevel::Error => LogLevel::Error,
        };
        (self.env.log)(level, &message);
    }

    fn now_ms(&mut self) -> f64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }

    fn monotonic_ns(&mut self) -> u64 {
        static ORIGIN: OnceLock<Instant> = OnceLock::new();
        let elapsed = ORIGIN.get_or_init(Instant::now).elapsed();
        u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX)
    }

    fn random_bytes(&mut self, len: u32) -> Vec<u8> {
        let mut bytes = vec![0; len.min(MAX_RANDOM_BYTES) as usize];
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        bytes
    }
}

impl types::Host for GuestState {}
