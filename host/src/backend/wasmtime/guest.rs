//! One sandbox's guest on wasmtime: a `Store` and an instance of the JS
//! guest component.

use std::sync::Arc;

use wasmtime::Store;

use super::bindings::{HostModule, JsRuntime};
use super::engine::{EngineKey, GuestEngine, guest_engine};
use super::state::{GuestState, HeapLimiter};
use super::trap;
use crate::backend::{GuestInstance, HostEnv};
use crate::config::SandboxConfig;
use crate::error::{Error, Result};

/// Epoch ticks that amount to "no deadline".
const NO_DEADLINE: u64 = u64::MAX / 2;

/// A JS guest instance in its own store.
pub(crate) struct WasmtimeGuest {
    engine: Arc<GuestEngine>,
    env: Arc<HostEnv>,
    heap_size: usize,
    store: Store<GuestState>,
    runtime: JsRuntime,
    /// Why the instance can no longer be entered, once it trapped.
    poisoned_by: Option<String>,
}

impl WasmtimeGuest {
    /// Instantiates the guest for `config` with the host side `env`.
    pub fn new(config: &SandboxConfig, env: Arc<HostEnv>) -> Result<Self> {
        let engine = guest_engine(EngineKey {
            max_wasm_stack: config.stack_size,
        })?;
        let (store, runtime) = instantiate(&engine, &env, config.heap_size)?;
        let mut guest = Self {
            engine,
            env,
            heap_size: config.heap_size,
            store,
            runtime,
            poisoned_by: None,
        };
        guest.declare_host_modules()?;
        Ok(guest)
    }

    fn declare_host_modules(&mut self) -> Result<()> {
        let modules: Vec<HostModule> = self
            .env
            .functions
            .shapes()
            .into_iter()
            .map(|(name, functions)| HostModule { name, functions })
            .collect();
        self.enter(|runtime, store| runtime.call_set_host_modules(store, &modules))
    }

    /// Runs `f` against the guest's runtime interface. A trap poisons the
    /// instance: wasmtime refuses every later entry into it.
    fn enter<R>(
        &mut self,
        f: impl FnOnce(
            &super::bindings::exports::polybox::sandbox::runtime::Guest,
            &mut Store<GuestState>,
        ) -> wasmtime::Result<R>,
    ) -> Result<R> {
        if let Some(cause) = &self.poisoned_by {
            return Err(Error::Poisoned(cause.clone()));
        }
        f(self.runtime.polybox_sandbox_runtime(), &mut self.store).map_err(|e| {
            let error = trap::trapped(e);
            self.poisoned_by = Some(error.code().as_str().to_owned());
            error
        })
    }
}

fn instantiate(
    engine: &GuestEngine,
    env: &Arc<HostEnv>,
    heap_size: usize,
) -> Result<(Store<GuestState>, JsRuntime)> {
    let state = GuestState {
        env: env.clone(),
        limiter: HeapLimiter::new(heap_size),
    };
    let mut store = Store::new(engine.pre.engine(), state);
    store.limiter(|state| &mut state.limiter);
    store.set_epoch_deadline(NO_DEADLINE);
    let runtime = engine
        .pre
        .instantiate(&mut store)
        .map_err(|e| Error::Internal(format!("cannot instantiate the JS guest: {e:#}")))?;
    Ok((store, runtime))
}

impl GuestInstance for WasmtimeGuest {
    fn reset(&mut self) -> Result<()> {
        let (store, runtime) = instantiate(&self.engine, &self.env, self.heap_size)?;
        self.store = store;
        self.runtime = runtime;
        self.poisoned_by = None;
        self.declare_host_modules()
    }

    fn add_module(&mut self, namespace: &str, name: &str, source: &str) -> Result<()> {
        self.enter(|runtime, store| runtime.call_add_module(store, namespace, name, source))?
            .map_err(trap::reported)
    }

    fn add_handler(&mut self, name: &str, source: &str) -> Result<()> {
        self.enter(|runtime, store| runtime.call_add_handler(store, name, source))?
            .map_err(trap::reported)
    }

    fn call_handler(&mut self, name: &str, event: &str, gc: bool) -> Result<String> {
        self.enter(|runtime, store| runtime.call_call_handler(store, name, event, gc))?
            .map_err(trap::reported)
    }
}
