//! The per-sandbox store data, and the host side of the guest's imports.

use std::sync::{Arc, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use wasmtime::ResourceLimiter;

use super::bindings::CallError;
use super::bindings::polybox::sandbox::{host_call, platform, types};
use super::dispatch::Dispatch;
use crate::log::{LogLevel, LogSink};
use crate::monitor::InterruptState;

/// The most random bytes handed out per request (as in WebCrypto).
const MAX_RANDOM_BYTES: u32 = 65_536;

/// What a sandbox's `Store` holds.
pub(crate) struct GuestState {
    pub dispatch: Arc<Dispatch>,
    pub log: LogSink,
    pub limiter: HeapLimiter,
    pub interrupt: Arc<InterruptState>,
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
    fn call(
        &mut self,
        module: String,
        function: String,
        args: String,
    ) -> Result<String, CallError> {
        self.dispatch.call(&module, &function, &args)
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
        (self.log)(level, &message);
    }

    fn now_ms(&mut self) -> f64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }

    /// Whole microseconds only: a coarser clock is a poorer tool for
    /// timing side channels, and scripts have no way to sharpen it (no
    /// threads, no `Atomics`).
    fn monotonic_ns(&mut self) -> u64 {
        static ORIGIN: OnceLock<Instant> = OnceLock::new();
        let elapsed = ORIGIN.get_or_init(Instant::now).elapsed();
        u64::try_from(elapsed.as_micros() * 1000).unwrap_or(u64::MAX)
    }

    fn random_bytes(&mut self, len: u32) -> Vec<u8> {
        let mut bytes = vec![0; len.min(MAX_RANDOM_BYTES) as usize];
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        bytes
    }
}

impl types::Host for GuestState {}
