//! One sandbox's guest on wasmtime: a `Store` and an instance of the JS
//! guest component, with host-owned memory for snapshots, plus the sandbox's
//! component handlers, component modules and host components.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use wasmtime::Store;

use super::artifact::initial_image;
use super::bindings::exports::polybox::sandbox::runtime::Guest as Runtime;
use super::bindings::{HostModule, JsRuntime};
use super::component::{AuthorEnv, ComponentHandler, ComponentModule};
use super::dispatch::Dispatch;
use super::engine::{EngineKey, GuestEngine, guest_engine};
use super::memory::{MemoryImage, Region, capture_created};
use super::state::{GuestState, HeapLimiter};
use super::thread_stack::ensure_room;
use super::ticker;
use super::trap;
use crate::backend::{
    CallOutcome, GuestImage, GuestInstance, HandlerCall, HostEnv, LoadPlan, Source,
};
use crate::config::SandboxConfig;
use crate::error::{Error, Result};
use crate::host_fn::HOST_NAMESPACE;
use crate::log::LogSink;
use crate::monitor::{BudgetSupport, Budgets, InterruptState};

/// A JS guest instance in its own store.
pub(crate) struct WasmtimeGuest {
    engine: Arc<GuestEngine>,
    /// Where host calls go, from every store of the sandbox.
    dispatch: Arc<Dispatch>,
    log: LogSink,
    interrupt: Arc<InterruptState>,
    /// The image `reset` returns the guest to.
    template: Arc<MemoryImage>,
    heap_size: usize,
    stack_size: usize,
    instance: Instance,
    /// Why the instance can no longer be entered, once it trapped.
    poisoned_by: Option<String>,
    /// Handlers written as components, by name.
    component_handlers: BTreeMap<String, ComponentHandler>,
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
        let dispatch = Arc::new(Dispatch::new(env.functions.clone()));
        let mut guest = Self::start(engine, dispatch, interrupt, config, template)?;
        for (name, component) in &env.components {
            let module = ComponentModule::load(
                &format!("{HOST_NAMESPACE}{name}"),
                component,
                guest.author_env(),
            )?;
            guest.dispatch.add(module);
        }
        guest.declare_host_modules()?;
        Ok(guest)
    }

    /// A guest in a new store, started from `template`, to which `reset`
    /// returns it.
    fn start(
        engine: Arc<GuestEngine>,
        dispatch: Arc<Dispatch>,
        interrupt: Arc<InterruptState>,
        config: &SandboxConfig,
        template: Arc<MemoryImage>,
    ) -> Result<Self> {
        let state = GuestState {
            dispatch: dispatch.clone(),
            log: config.log_sink.clone(),
            limiter: HeapLimiter::new(config.heap_size),
            interrupt: interrupt.clone(),
        };
        let instance = Self::instantiate(&engine, state, &template)?;
        Ok(Self {
            engine,
            dispatch,
            log: config.log_sink.clone(),
            interrupt,
            template,
            heap_size: config.heap_size,
            stack_size: config.stack_size,
            instance,
            poisoned_by: None,
            component_handlers: BTreeMap::new(),
        })
    }

    /// What this sandbox's user components run with.
    fn author_env(&self) -> AuthorEnv {
        AuthorEnv {
            engine: self.engine.clone(),
            log: self.log.clone(),
            memory: self.heap_size,
            dispatch: Arc::downgrade(&self.dispatch),
            interrupt: self.interrupt.clone(),
        }
    }

    /// The image new guests start from: a started JavaScript runtime, with
    /// its stack limit set ([`SandboxConfig::js_stack_limit`]) and no host
    /// modules, handlers or modules. Built from the guest's initial memory
    /// (its data segments).
    fn runtime_image(engine: &Arc<GuestEngine>, config: &SandboxConfig) -> Result<MemoryImage> {
        let failed =
            |e: std::io::Error| Error::Internal(format!("cannot build the runtime image: {e}"));
        let initial = Arc::new(initial_image().map_err(failed)?);
        let dispatch = Arc::new(Dispatch::new(Default::default()));
        let interrupt = Arc::new(InterruptState::default());
        let mut guest = Self::start(engine.clone(), dispatch, interrupt, config, initial)?;
        let js_stack = config.js_stack_limit();
        guest.enter(|runtime, store| runtime.call_set_stack_limit(store, js_stack))?;
        MemoryImage::capture(&guest.instance.memory).map_err(failed)
    }

    /// A new store and instance, its memory seeded from `image`.
    fn instantiate(
        engine: &GuestEngine,
        state: GuestState,
        image: &Arc<MemoryImage>,
    ) -> Result<Instance> {
        let mut store = Store::new(engine.pre.engine(), state);
        if engine.fuel {
            // Outside handler calls (instantiation, registration) fuel is unlimited.
            store.set_fuel(u64::MAX).map_err(internal)?;
        }
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_callback(|store| trap::on_epoch(&store.data().interrupt));
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
            .dispatch
            .shapes()
            .into_iter()
            .map(|(specifier, functions)| HostModule {
                specifier,
                functions,
            })
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
        let state = GuestState {
            dispatch: self.dispatch.clone(),
            log: self.log.clone(),
            limiter: HeapLimiter::new(self.heap_size),
            interrupt: self.interrupt.clone(),
        };
        self.instance = Self::instantiate(&self.engine, state, image)?;
        self.poisoned_by = None;
        Ok(())
    }

    /// Starts every component handler and component module afresh when next
    /// called: their state is not part of snapshots.
    fn discard_component_instances(&mut self) {
        for handler in self.component_handlers.values_mut() {
            handler.discard();
        }
        self.dispatch.discard_module_instances();
    }
}

impl GuestInstance for WasmtimeGuest {
    fn reset(&mut self) -> Result<()> {
        let template = self.template.clone();
        self.replace_instance(&template)?;
        self.component_handlers.clear();
        self.dispatch.clear_modules();
        self.declare_host_modules()
    }

    fn load(&mut self, plan: LoadPlan<'_>) -> Result<()> {
        self.check_poison()?;
        let (fuel, _ticking) = self.arm(plan.budgets);
        let store = &mut self.instance.store;
        if let Some(fuel) = fuel {
            store.set_fuel(fuel).map_err(internal)?;
        }
        store.set_epoch_deadline(1);
        if let Some(reason) = self.interrupt.stop_reason(plan.id) {
            return Err(Error::Cancelled(reason));
        }
        let result = self.load_all(&plan);
        self.unmeter()?;
        result
    }

    fn call_handler(&mut self, call: HandlerCall<'_>) -> CallOutcome {
        let entered = self
            .check_poison()
            .and_then(|()| ensure_room(self.stack_size))
            .and_then(|()| self.run_handler(&call));
        if let Err(error) = self.unmeter() {
            return CallOutcome {
                result: Err(error),
                fuel_consumed: None,
            };
        }
        match entered {
            Ok((result, fuel_consumed)) => CallOutcome {
                result: result
                    .map_err(|trap| self.poison(trap))
                    .and_then(|reported| reported.map_err(trap::reported)),
                fuel_consumed,
            },
            Err(error) => CallOutcome {
                result: Err(error),
                fuel_consumed: None,
            },
        }
    }

    fn poisoned_by(&self) -> Option<String> {
        self.poisoned_by.clone()
    }

    fn budget_support(&self) -> BudgetSupport {
        BudgetSupport {
            fuel: if self.engine.fuel {
                Ok(())
            } else {
                Err(
                    "a fuel budget needs fuel metering; enable it with SandboxBuilder::fuel_metering(true)",
                )
            },
            epoch: Ok(()),
        }
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
        self.discard_component_instances();
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

impl WasmtimeGuest {
    /// Runs a handler call, JavaScript or component, under the call's
    /// budgets. Returns the call's result (an `Err` is a trap) and the fuel
    /// it consumed, nested component calls included.
    fn run_handler(&mut self, call: &HandlerCall<'_>) -> Result<(HandlerResult, Option<u64>)> {
        let (fuel, _ticking) = self.arm(call.budgets);
        let interrupt = &self.interrupt;
        let (result, consumed) = match self.component_handlers.get_mut(call.name) {
            Some(handler) => {
                let (store, handler) = handler.live()?;
                metered(store, fuel, interrupt, call.id, |store| {
                    ComponentHandler::call(store, handler, call.event)
                })?
            }
            None => {
                let Instance { store, runtime, .. } = &mut self.instance;
                metered(store, fuel, interrupt, call.id, |store| {
                    runtime
                        .polybox_sandbox_runtime()
                        .call_call_handler(store, call.name, call.event, call.gc)
                })?
            }
        };
        let nested = interrupt.nested_fuel_spent();
        Ok((result, consumed.map(|fuel| fuel.saturating_add(nested))))
    }

    /// Applies a call's budgets: its epoch deadline, with the ticker running
    /// while the returned guard lives, and its fuel, shared with its nested
    /// component calls. Returns the fuel for the store the call runs in.
    fn arm(&self, budgets: Budgets) -> (Option<u64>, Option<ticker::Deadline>) {
        let fuel = self.engine.fuel.then(|| budgets.fuel.unwrap_or(u64::MAX));
        let ticking = budgets.epoch.map(|_| ticker::Deadline::hold());
        let interrupt = &self.interrupt;
        interrupt.set_deadline(budgets.epoch.map(|after| Instant::now() + after));
        interrupt.set_nested_fuel(fuel.unwrap_or(u64::MAX));
        (fuel, ticking)
    }

    /// Lifts the JS store's fuel limit after a budgeted call: outside calls
    /// and loads (instantiation, declarations) fuel is unlimited.
    fn unmeter(&mut self) -> Result<()> {
        if self.engine.fuel {
            self.instance.store.set_fuel(u64::MAX).map_err(internal)?;
        }
        Ok(())
    }

    /// Registers the plan's modules, then its handlers.
    fn load_all(&mut self, plan: &LoadPlan<'_>) -> Result<()> {
        for &(namespace, name, source) in &plan.modules {
            match source {
                Source::JavaScript(source) => self
                    .enter(|runtime, store| {
                        runtime.call_add_module(store, namespace, name, source)
                    })?
                    .map_err(trap::reported)?,
                Source::Component(component) => {
                    let specifier = format!("{namespace}:{name}");
                    let module = ComponentModule::load(&specifier, component, self.author_env())?;
                    self.dispatch.add(module);
                    self.declare_host_modules()?;
                }
            }
        }
        for &(name, source) in &plan.handlers {
            match source {
                Source::JavaScript(source) => self
                    .enter(|runtime, store| runtime.call_add_handler(store, name, source))?
                    .map_err(trap::reported)?,
                Source::Component(component) => {
                    let handler = ComponentHandler::load(component, self.author_env())?;
                    self.component_handlers.insert(name.to_owned(), handler);
                }
            }
        }
        Ok(())
    }
}

/// What a handler call returns: its result or the guest's error report, or
/// a trap.
type HandlerResult = wasmtime::Result<std::result::Result<String, super::bindings::GuestError>>;

/// Enters `store` for call `id`: gives it `fuel`, arms its epoch deadline,
/// then runs `f` unless the call was already told to stop. Returns `f`'s
/// result and the fuel it consumed.
fn metered<T, R>(
    store: &mut Store<T>,
    fuel: Option<u64>,
    interrupt: &InterruptState,
    id: u64,
    f: impl FnOnce(&mut Store<T>) -> wasmtime::Result<R>,
) -> Result<(wasmtime::Result<R>, Option<u64>)> {
    if let Some(fuel) = fuel {
        store.set_fuel(fuel).map_err(internal)?;
    }
    // Arm the deadline before checking for a kill that came in early: a
    // kill after this point advances the epoch past it.
    store.set_epoch_deadline(1);
    if let Some(reason) = interrupt.stop_reason(id) {
        return Err(Error::Cancelled(reason));
    }
    let result = f(store);
    let consumed = fuel.map(|fuel| fuel - store.get_fuel().unwrap_or(0));
    Ok((result, consumed))
}

fn internal(error: wasmtime::Error) -> Error {
    Error::Internal(format!("{error:#}"))
}
