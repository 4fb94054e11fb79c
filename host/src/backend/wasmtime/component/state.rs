//! The store data of a user's component: WASI with nothing granted, a
//! memory limit, and the way back to the sandbox's dispatcher and meter.

use std::sync::{Arc, Weak};

use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::backend::wasmtime::bindings::CallError;
use crate::backend::wasmtime::bindings::polybox::sandbox::{host_call, types};
use crate::backend::wasmtime::meter::Meter;
use crate::capability::Dispatcher;

/// What a user component's `Store` holds.
pub(crate) struct AuthorState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
    dispatcher: Weak<Dispatcher>,
    meter: Arc<Meter>,
}

impl AuthorState {
    /// Store data with `wasi`, memory capped by `limits`, calling back into
    /// `dispatcher` and metered by `meter`.
    pub fn new(
        wasi: WasiCtx,
        limits: StoreLimits,
        dispatcher: Weak<Dispatcher>,
        meter: Arc<Meter>,
    ) -> Self {
        Self {
            wasi,
            table: ResourceTable::new(),
            limits,
            dispatcher,
            meter,
        }
    }

    /// The store's memory limits.
    pub fn limits(&mut self) -> &mut StoreLimits {
        &mut self.limits
    }

    /// The sandbox's meter, through which every entry into this store goes.
    pub fn meter(&self) -> &Arc<Meter> {
        &self.meter
    }
}

impl WasiView for AuthorState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl host_call::Host for AuthorState {
    crate::capability::host_call_import!(CallError, |state| match state.dispatcher.upgrade() {
        Some(dispatcher) => dispatcher,
        None => return Err(CallError::Failed("the sandbox is being dropped".into())),
    });
}

impl types::Host for AuthorState {}
