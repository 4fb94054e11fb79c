//! The store data of a user's component: WASI with what the sandbox grants
//! (its filesystem, its environment, its network), a memory limit, and the way back to
//! the sandbox's dispatcher and meter.

use std::sync::{Arc, Weak};

use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::http::Outgoing;

use crate::backend::wasmtime::bindings::CallError;
use crate::backend::wasmtime::bindings::polybox::sandbox::{host_call, types};
use crate::backend::wasmtime::meter::Meter;
use crate::capability::Dispatcher;
use crate::capability::fs::Filesystem;

/// What a user component's `Store` holds.
pub(crate) struct AuthorState {
    wasi: WasiCtx,
    table: ResourceTable,
    /// The sandbox's filesystem, served as `wasi:filesystem` (`files.rs`).
    files: Option<Arc<Filesystem>>,
    http: WasiHttpCtx,
    /// Where `wasi:http` requests go (`http.rs`).
    outgoing: Outgoing,
    limits: StoreLimits,
    dispatcher: Weak<Dispatcher>,
    meter: Arc<Meter>,
}

impl AuthorState {
    /// Store data with `wasi`, `files` and `outgoing`, memory capped by `limits`,
    /// calling back into `dispatcher` and metered by `meter`.
    pub fn new(
        wasi: WasiCtx,
        files: Option<Arc<Filesystem>>,
        outgoing: Outgoing,
        limits: StoreLimits,
        dispatcher: Weak<Dispatcher>,
        meter: Arc<Meter>,
    ) -> Self {
        Self {
            wasi,
            table: ResourceTable::new(),
            files,
            http: WasiHttpCtx::new(),
            outgoing,
            limits,
            dispatcher,
            meter,
        }
    }

    /// The sandbox's filesystem, if it has one.
    pub fn files(&self) -> Option<&Arc<Filesystem>> {
        self.files.as_ref()
    }

    /// The store's resources.
    pub fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    /// The store's resources, to read.
    pub fn table_ref(&self) -> &ResourceTable {
        &self.table
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

impl WasiHttpView for AuthorState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outgoing,
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
