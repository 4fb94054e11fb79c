//! The store data of a user's component: WASI with nothing granted, a
//! memory limit, and the way back to the sandbox's host calls.

use std::sync::{Arc, Weak};

use wasmtime::component::ResourceTable;
use wasmtime::{Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::stdio::LogOutput;
use crate::backend::wasmtime::bindings::CallError;
use crate::backend::wasmtime::bindings::polybox::sandbox::{host_call, types};
use crate::backend::wasmtime::dispatch::Dispatch;
use crate::backend::wasmtime::engine::GuestEngine;
use crate::backend::wasmtime::trap::on_epoch;
use crate::error::{Error, Result};
use crate::log::{LogLevel, LogSink};
use crate::monitor::InterruptState;

/// What a user component's `Store` holds.
pub(crate) struct AuthorState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
    dispatch: Weak<Dispatch>,
    interrupt: Arc<InterruptState>,
}

/// Everything a user component's stores are made from, per sandbox.
#[derive(Clone)]
pub(crate) struct AuthorEnv {
    pub engine: Arc<GuestEngine>,
    pub log: LogSink,
    /// The most memory, in bytes, each instance may use.
    pub memory: usize,
    /// The sandbox's host calls (weak: the dispatcher owns component stores).
    pub dispatch: Weak<Dispatch>,
    pub interrupt: Arc<InterruptState>,
}

impl AuthorEnv {
    /// A new store: no arguments, environment, files or network; stdout and
    /// stderr to the log sink; memory capped.
    pub fn store(&self) -> Result<Store<AuthorState>> {
        let wasi = WasiCtxBuilder::new()
            .stdout(LogOutput::new(self.log.clone(), LogLevel::Info))
            .stderr(LogOutput::new(self.log.clone(), LogLevel::Warn))
            .build();
        let state = AuthorState {
            wasi,
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new().memory_size(self.memory).build(),
            dispatch: self.dispatch.clone(),
            interrupt: self.interrupt.clone(),
        };
        let mut store = Store::new(self.engine.pre.engine(), state);
        store.limiter(|state| &mut state.limits);
        store.epoch_deadline_callback(|store| on_epoch(&store.data().interrupt));
        store.set_epoch_deadline(1);
        if self.engine.fuel {
            store
                .set_fuel(u64::MAX)
                .map_err(|e| Error::Internal(format!("{e:#}")))?;
        }
        Ok(store)
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
    fn call(
        &mut self,
        module: String,
        function: String,
        args: String,
    ) -> Result<String, CallError> {
        match self.dispatch.upgrade() {
            Some(dispatch) => dispatch.call(&module, &function, &args),
            None => Err(CallError::Failed("the sandbox is being dropped".into())),
        }
    }
}

impl types::Host for AuthorState {}
