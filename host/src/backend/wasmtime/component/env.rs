//! [`AuthorEnv`]: what a sandbox's user components are made with, and the
//! stores they run in.

use std::sync::{Arc, Weak};

use wasmtime::{Store, StoreLimitsBuilder};
use wasmtime_wasi::WasiCtxBuilder;

use super::http::Outgoing;
use super::linker::Authors;
use super::state::AuthorState;
use super::stdio::LogOutput;
use crate::backend::wasmtime::meter::Meter;
use crate::capability::fs::Filesystem;
use crate::capability::net::Network;
use crate::capability::{Dispatcher, LogLevel};
use crate::error::{Error, Result};

/// Everything a sandbox's user components are made with.
#[derive(Clone)]
pub(crate) struct AuthorEnv {
    /// The engine's linker and compiled components.
    pub authors: Arc<Authors>,
    /// The most memory, in bytes, each instance may use.
    pub memory: usize,
    /// The sandbox's dispatcher (weak: the dispatcher owns component stores).
    pub dispatcher: Weak<Dispatcher>,
    pub meter: Arc<Meter>,
    /// What the sandbox's capabilities grant its components.
    pub grants: Arc<Grants>,
}

/// What a sandbox's capabilities grant its user components through WASI.
#[derive(Clone, Default)]
pub(crate) struct Grants {
    /// The sandbox's filesystem, served as `wasi:filesystem`.
    pub files: Option<Arc<Filesystem>>,
    /// The variables `wasi:cli/environment` lists.
    pub env: Vec<(String, String)>,
    /// The sandbox's network, which `wasi:http` requests go to.
    pub network: Option<Arc<Network>>,
}

impl AuthorEnv {
    /// A new store: the granted files, environment and network (through
    /// `wasi:http`), no arguments or sockets; stdout and stderr to the log sink; memory capped.
    pub fn store(&self) -> Result<Store<AuthorState>> {
        let Some(dispatcher) = self.dispatcher.upgrade() else {
            return Err(Error::Internal("the sandbox is being dropped".into()));
        };
        let log = dispatcher.log_sink();
        let wasi = WasiCtxBuilder::new()
            .stdout(LogOutput::new(log.clone(), LogLevel::Info))
            .stderr(LogOutput::new(log.clone(), LogLevel::Warn))
            .envs(&self.grants.env)
            .build();
        let limits = StoreLimitsBuilder::new().memory_size(self.memory).build();
        let outgoing = Outgoing {
            network: self.grants.network.clone(),
            interrupt: self.meter.interrupt().clone(),
        };
        let state = AuthorState::new(
            wasi,
            self.grants.files.clone(),
            outgoing,
            limits,
            self.dispatcher.clone(),
            self.meter.clone(),
        );
        let mut store = Store::new(self.authors.engine(), state);
        store.limiter(|state| state.limits());
        store.epoch_deadline_callback(|store| store.data().meter().on_epoch());
        store.set_epoch_deadline(1);
        if self.authors.fuel() {
            store
                .set_fuel(u64::MAX)
                .map_err(|e| Error::Internal(format!("{e:#}")))?;
        }
        Ok(store)
    }
}
