//! The JS guest's store data, and its imports served from the sandbox's
//! dispatcher.

use std::sync::Arc;

use wasmtime::ResourceLimiter;

use super::bindings::CallError;
use super::bindings::polybox::sandbox::platform::{self as wit_platform, LogLevel as WitLogLevel};
use super::bindings::polybox::sandbox::{host_call, process, types};
use super::meter::Meter;
use crate::capability::Dispatcher;

/// What the JS guest's `Store` holds.
pub(crate) struct GuestState {
    pub dispatcher: Arc<Dispatcher>,
    pub limiter: HeapLimiter,
    pub meter: Arc<Meter>,
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
    crate::capability::host_call_import!(CallError, |state| &state.dispatcher);
}

impl wit_platform::Host for GuestState {
    crate::capability::platform_imports!(WitLogLevel);
}

impl process::Host for GuestState {
    // A timer's wait ends at the call's epoch deadline, which the guest
    // then meets at once.
    crate::capability::process_imports!(|state| state.meter.deadline());
}

impl types::Host for GuestState {}
