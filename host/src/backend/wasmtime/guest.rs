//! One sandbox's guest on wasmtime: a `Store` and an instance of the JS
//! guest component, with host-owned memory for snapshots.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::{AsContext, Store};

use super::artifact::initial_image;
use super::bindings::exports::polybox::sandbox::runtime::Guest as Runtime;
use super::bindings::{HostModule, JsRuntime};
use super::engine::{EngineKey, GuestEngine, guest_engine};
use super::memory::{MemoryImage, Region, capture_created};
use super::state::{ActiveCall, GuestState, HeapLimiter};
use super::thread_stack::ensure_room;
use super::ticker;
use super::trap;
use crate::backend::{CallOutcome, GuestImage, GuestInstance, HandlerCall, HostEnv};
use crate::config::SandboxConfig;
use crate::error::{Error, Result};
use crate::monitor::InterruptState;

/// A JS guest instance in its own store.
pub(crate) struct WasmtimeGuest {
    engine: Arc<GuestEngine>,
    env: Arc<HostEnv>,
    interrupt: Arc<InterruptState>,
    /// The image `reset` returns the guest to.
    template: Arc<MemoryImage>,
    heap_size: usize,
    stack_size: usize,
    instance: Instance,
    /// Why the instance can no longer be entered, once it trapped.
    poisoned_by: Option<String>,
}

/// A store, the instance in it, and the instance's memory.
struct Instance {
    store: Store<GuestState>,
    runtime: JsRuntime,
    memory: Arc<Region>,
    /// The image `memory` is mapped from, copy-on-write.
    mapped: Arc<MemoryImage>,
}

impl WasmtimeGuest {
    /// Instantiates the guest for `config` with the host side `env`, seeded
    /// from the engine's runtime image (see [`GuestEngine::template`]).
    pub fn new(
        config: &SandboxConfig,
        env: Arc<HostEnv>,
        interrupt: Arc<InterruptState>,
    ) -> Result<Self> {
        let key = EngineKey {
            max_wasm_stack: config.stack_size,
            fuel: config.fuel_metering,
        };
        let engine = guest_engine(key)?;
        let wake = engine.pre.engine().clone();
        interrupt.set_wake(move || wake.increment_epoch());
        let template = engine.template(|| Self::runtime_image(&engine, config))?;
        let mut guest = Self::start(engine, env, interrupt, config, template)?;
        guest.declare_host_modules()?;
        Ok(guest)
    }

    /// A guest in a new store, started from `template`, to which `reset`
    /// returns it.
    fn start(
        engine: Arc<GuestEngine>,
        env: Arc<HostEnv>,
        interrupt: Arc<InterruptState>,
        config: &SandboxConfig,
        template: Arc<MemoryImage>,
    ) -> Result<Self> {
        let instance = Self::instantiate(&engine, &env, &interrupt, config.heap_size, &template)?;
        Ok(Self {
            engine,
            env,
            interrupt,
            template,
            heap_size: config.heap_size,
            stack_size: config.stack_size,
            instance,
            poisoned_by: None,
        })
    }

    /// The image new guests start from: a started JavaScript runtime, with
    /// its stack limit set and no host modules, handlers or modules. Built
    /// from the guest's initial memory (its data segments).
    ///
    /// JavaScript gets a quarter of the native stack: a JS call level uses
    /// about 750 bytes of native stack and 290 of shadow stack, so QuickJS's
    /// catchable `RangeError` comes before the engine's stack overflow, which
    /// poisons the sandbox.
    fn runtime_image(engine: &Arc<GuestEngine>, config: &SandboxConfig) -> Result<MemoryImage> {
        let failed =
            |e: std::io::Error| Error::Internal(format!("cannot build the runtime image: {e}"));
        let initial = Arc::new(initial_image().map_err(failed)?);
        let env = Arc::new(HostEnv {
            functions: Default::default(),
            log: config.log_sink.clone(),
        });
        let interrupt = Arc::new(InterruptState::default());
        let mut guest = Self::start(engine.clone(), env, interrupt, config, initial)?;
        let js_stack = u32::try_from(config.stack_size / 4).unwrap_or(u32::MAX);
        guest.enter(|runtime, store| runtime.call_set_stack_limit(store, js_stack))?;
        MemoryImage::capture(&guest.instance.memory).map_err(failed)
    }

    /// A new store and instance, its memory seeded from `image`.
    fn instantiate(
        engine: &GuestEngine,
        env: &Arc<HostEnv>,
        interrupt: &Arc<InterruptState>,
        heap_size: usize,
        image: &Arc<MemoryImage>,
    ) -> Result<Instance> {
        let state = GuestState {
            env: env.clone(),
            limiter: HeapLimiter::new(heap_size),
            interrupt: interrupt.clone(),
            call: None,
        };
        let mut store = Store::new(engine.pre.engine(), state);
        if engine.fuel {
            // Outside handler calls (instantiation, registration) fuel is unlimited.
            store.set_fuel(u64::MAX).map_err(internal)?;
        }
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_callback(|store| GuestState::on_epoch(store.as_context()));
        store.set_epoch_deadline(1);
        let (runtime, memory) = capture_created(image.len(), || engine.pre.instantiate(&mut store))
            .map_err(|e| Error::Internal(format!("cannot instantiate the JS guest: {e:#}")))?;
        image
            .map_onto(&memory)
            .map_err(|e| Error::Internal(format!("cannot map a guest image: {e}")))?;
        Ok(Instance {
            store,
            runtime,
            memory,
            mapped: image.clone(),
        })
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

    /// Runs `f` against the guest's runtime interface outside any handler
    /// call. A trap poisons the instance: wasmtime refuses every later entry.
    fn enter<R>(
        &mut self,
        f: impl FnOnce(&Runtime, &mut Store<GuestState>) -> wasmtime::Result<R>,
    ) -> Result<R> {
        self.check_poison()?;
        ensure_room(self.stack_size)?;
        if self.engine.fuel {
            self.instance.store.set_fuel(u64::MAX).map_err(internal)?;
        }
        let instance = &mut self.instance;
        f(
            instance.runtime.polybox_sandbox_runtime(),
            &mut instance.store,
        )
        .map_err(|e| self.poison(e))
    }

    fn check_poison(&self) -> Result<()> {
        match GuestInstance::poisoned_by(self) {
            Some(cause) => Err(Error::Poisoned(cause)),
            None => Ok(()),
        }
    }

    fn poison(&mut self, trap: wasmtime::Error) -> Error {
        let error = trap::trapped(trap);
        self.poisoned_by = Some(match &error {
            Error::Cancelled(reason) => format!("{} (stopped by {reason})", error.code()),
            Error::GuestAbort(detail) => format!("{} ({detail})", error.code()),
            other => other.code().to_string(),
        });
        error
    }

    fn replace_instance(&mut self, image: &Arc<MemoryImage>) -> Result<()> {
        self.instance = Self::instantiate(
            &self.engine,
            &self.env,
            &self.interrupt,
            self.heap_size,
            image,
        )?;
        self.poisoned_by = None;
        Ok(())
    }
}

impl GuestInstance for WasmtimeGuest {
    fn reset(&mut self) -> Result<()> {
        let template = self.template.clone();
        self.replace_instance(&template)?;
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

    fn call_handler(&mut self, call: HandlerCall<'_>) -> CallOutcome {
        let failed = |error| CallOutcome {
            result: Err(error),
            fuel_consumed: None,
        };
        if let Err(error) = self
            .check_poison()
            .and_then(|()| ensure_room(self.stack_size))
        {
            return failed(error);
        }
        let fuel = self
            .engine
            .fuel
            .then(|| call.budgets.fuel.unwrap_or(u64::MAX));
        let store = &mut self.instance.store;
        if let Some(fuel) = fuel
            && let Err(error) = store.set_fuel(fuel)
        {
            return failed(internal(error));
        }
        let _ticking = call.budgets.epoch.map(|_| ticker::Deadline::hold());
        store.data_mut().call = Some(ActiveCall {
            id: call.id,
            deadline: call.budgets.epoch.map(|after| Instant::now() + after),
        });
        // Arm the deadline before checking for a kill that came in early: a
        // kill after this point advances the epoch past it.
        store.set_epoch_deadline(1);
        let result = match self.interrupt.stop_reason(call.id) {
            Some(reason) => Err(Error::Cancelled(reason)),
            None => {
                let instance = &mut self.instance;
                instance
                    .runtime
                    .polybox_sandbox_runtime()
                    .call_call_handler(&mut instance.store, call.name, call.event, call.gc)
                    .map_err(|e| self.poison(e))
                    .and_then(|reported| reported.map_err(trap::reported))
            }
        };
        let store = &mut self.instance.store;
        store.data_mut().call = None;
        let fuel_consumed = fuel.map(|fuel| fuel - store.get_fuel().unwrap_or(0));
        CallOutcome {
            result,
            fuel_consumed,
        }
    }

    fn poisoned_by(&self) -> Option<String> {
        self.poisoned_by.clone()
    }

    fn meters_fuel(&self) -> bool {
        self.engine.fuel
    }

    /// Captures memory, then maps the capture over it, so the snapshot is
    /// the baseline the next same-snapshot restore copies back to.
    fn snapshot(&mut self) -> Result<GuestImage> {
        self.check_poison()?;
        let failed =
            |e: std::io::Error| Error::Internal(format!("cannot capture guest memory: {e}"));
        let image = Arc::new(MemoryImage::capture(&self.instance.memory).map_err(failed)?);
        image.map_onto(&self.instance.memory).map_err(failed)?;
        self.instance.mapped = image.clone();
        Ok(image)
    }

    /// Restoring the image the memory is mapped from, into a healthy instance
    /// whose memory has not grown, copies back just the pages written since
    /// (the usual "restore between requests"). Anything else starts a new
    /// instance seeded from the image.
    fn restore(&mut self, image: &GuestImage) -> Result<()> {
        let image = Arc::clone(image)
            .downcast::<MemoryImage>()
            .map_err(|_| Error::invalid_arg("the snapshot was taken on another backend"))?;
        let instance = &self.instance;
        if self.poisoned_by.is_none()
            && Arc::ptr_eq(&image, &instance.mapped)
            && instance.memory.size() == image.len()
        {
            match image.copy_back_written(&instance.memory) {
                Ok(_) => return Ok(()),
                // Without /proc/self/pagemap, take the general path.
                Err(error) => tracing::debug!(%error, "restoring by re-instantiation"),
            }
        }
        self.replace_instance(&image)
    }
}

fn internal(error: wasmtime::Error) -> Error {
    Error::Internal(format!("{error:#}"))
}
