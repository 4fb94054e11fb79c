//! [`WasmtimeGuest`]: one sandbox's guest on wasmtime, through its life:
//! started from the engine's runtime image, told its modules, loaded with
//! handlers, called, snapshotted, restored, reset. Poisoning is decided
//! here: after any trap wasmtime refuses to enter the instance again, and
//! only a new instance (a restore or a reset) recovers.

use std::sync::Arc;

use super::bindings::{ModuleDeclaration, Program, ProgramKind, RuntimeExports};
use super::component::{AuthorEnv, ComponentHandler, ComponentModule, Grants};
use super::engine::{BaseImage, EngineKey, GuestEngine, guest_engine};
use super::handlers::Handlers;
use super::image::MemoryImage;
use super::instance::JsInstance;
use super::meter::Meter;
use super::state::{GuestState, HeapLimiter};
use super::thread_stack::ensure_room;
use super::ticker;
use super::trap;
use crate::backend::{
    CallOutcome, GuestImage, GuestInstance, HandlerCall, LoadPlan, ProgramCall, ProgramExit,
    ProgramOutcome, Source, foreign_image, program_record,
};
use crate::capability::{ComponentGrant, ComponentHost, Dispatcher, Lifetime, Provider};
use crate::component::WasmComponent;
use crate::config::SandboxConfig;
use crate::error::{Error, Result};
use crate::monitor::{BudgetSupport, Budgets, InterruptState};

/// A JS guest instance in its own store, with its component handlers.
pub(crate) struct WasmtimeGuest {
    engine: Arc<GuestEngine>,
    /// Where host calls go, from every store of the sandbox.
    dispatcher: Arc<Dispatcher>,
    /// The budgets of the running call, for every store of the sandbox.
    meter: Arc<Meter>,
    /// What the sandbox was configured with: sizes, and what its base
    /// image (the one `reset` returns to) is built for.
    config: SandboxConfig,
    /// The image the guest started from when it was a sandbox template's
    /// capture rather than the engine's base image, until a reset.
    template_start: Option<Arc<MemoryImage>>,
    instance: JsInstance,
    /// Why the instance can no longer be entered, once it trapped.
    poisoned_by: Option<String>,
    handlers: Handlers,
    /// What the sandbox's capabilities grant its user components.
    grants: Arc<Grants>,
}

impl WasmtimeGuest {
    /// Instantiates the guest for `config`, serving its imports from
    /// `dispatcher`, seeded from `start` (a sandbox template's capture) or
    /// else from the engine's base image (see [`GuestEngine::base_image`]).
    pub fn new(
        config: &SandboxConfig,
        dispatcher: Arc<Dispatcher>,
        interrupt: Arc<InterruptState>,
        start: Option<&GuestImage>,
    ) -> Result<Self> {
        let key = EngineKey {
            max_wasm_stack: config.stack_size,
            fuel: config.fuel_metering,
            language: config.language,
        };
        let engine = guest_engine(key)?;
        let wake = engine.pre.engine().clone();
        interrupt.set_wake(move || {
            wake.increment_epoch();
            ticker::after_stop();
        });
        let meter = Arc::new(Meter::new(interrupt, engine.fuel));
        let Some(start) = start else {
            let base = Self::base_image(&engine, config)?;
            return Self::start(engine, dispatcher, meter, config, base);
        };
        let start = memory_image(start)?;
        fits_heap(&start, config)?;
        let mut guest = Self::start(engine, dispatcher, meter, config, start.clone())?;
        guest.template_start = Some(start);
        Ok(guest)
    }

    /// A guest in a new store, started from `image`.
    fn start(
        engine: Arc<GuestEngine>,
        dispatcher: Arc<Dispatcher>,
        meter: Arc<Meter>,
        config: &SandboxConfig,
        image: Arc<MemoryImage>,
    ) -> Result<Self> {
        let state = GuestState {
            dispatcher: dispatcher.clone(),
            limiter: HeapLimiter::new(config.heap_size),
            meter: meter.clone(),
        };
        let instance = JsInstance::start(&engine, state, &image)?;
        Ok(Self {
            engine,
            dispatcher,
            meter,
            config: config.clone(),
            template_start: None,
            instance,
            poisoned_by: None,
            handlers: Handlers::default(),
            grants: Arc::default(),
        })
    }

    /// The image a guest of `config` starts from, built on first use.
    fn base_image(engine: &Arc<GuestEngine>, config: &SandboxConfig) -> Result<Arc<MemoryImage>> {
        let runtime = engine.base_image(BaseImage::Runtime, || {
            let initial = Arc::new(engine.guest.initial_image().map_err(image_failed)?);
            Self::image(engine, config, initial, |guest| {
                let js_stack = config.js_stack_limit();
                guest.enter(|runtime, store| runtime.call_set_stack_limit(store, js_stack))
            })
        })?;
        if !config.programs {
            return Ok(runtime);
        }
        engine.base_image(BaseImage::Programs, || {
            Self::image(engine, config, runtime, |guest| {
                guest.enter(|runtime, store| runtime.call_prepare_programs(store))
            })
        })
    }

    /// An image made by starting a guest from `from` and running `prepare`
    /// in it: the runtime image (a started JavaScript runtime, with its
    /// stack limit set ([`SandboxConfig::js_stack_limit`]) and no host
    /// modules, handlers or modules, built from the guest's initial memory,
    /// its data segments), or the program image, built from that.
    fn image(
        engine: &Arc<GuestEngine>,
        config: &SandboxConfig,
        from: Arc<MemoryImage>,
        prepare: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<MemoryImage> {
        let interrupt = Arc::new(InterruptState::default());
        let dispatcher = Arc::new(Dispatcher::new(config.log_sink.clone(), interrupt.clone()));
        let meter = Arc::new(Meter::new(interrupt, engine.fuel));
        let mut guest = Self::start(engine.clone(), dispatcher, meter, config, from)?;
        prepare(&mut guest)?;
        guest.instance.capture().map_err(image_failed)
    }

    /// What this sandbox's user components run with.
    fn author_env(&self) -> Result<AuthorEnv> {
        Ok(AuthorEnv {
            authors: self.engine.authors()?,
            memory: self.config.heap_size,
            dispatcher: Arc::downgrade(&self.dispatcher),
            meter: self.meter.clone(),
            grants: self.grants.clone(),
        })
    }

    /// Runs `f` against the guest's runtime exports outside any handler
    /// call. A trap poisons the instance.
    fn enter<R>(
        &mut self,
        f: impl FnOnce(&RuntimeExports, &mut wasmtime::Store<GuestState>) -> wasmtime::Result<R>,
    ) -> Result<R> {
        self.check_poison()?;
        ensure_room(self.config.stack_size)?;
        self.instance.enter(f)?.map_err(|trap| self.poison(trap))
    }

    fn check_poison(&self) -> Result<()> {
        match &self.poisoned_by {
            Some(cause) => Err(Error::Poisoned(cause.clone())),
            None => Ok(()),
        }
    }

    /// Records why the instance trapped; returns the trap as an error.
    fn poison(&mut self, trap: wasmtime::Error) -> Error {
        let error = trap::trapped(trap);
        self.poisoned_by = Some(match &error {
            Error::Cancelled(reason) => format!("{} (stopped by {reason})", error.code()),
            Error::GuestAbort(detail) => format!("{} ({detail})", error.code()),
            other => other.code().to_string(),
        });
        error
    }

    /// Runs `f` as call `id` with `budgets` armed; returns its result (a
    /// trap poisons the instance) and the fuel it consumed.
    fn metered<R>(
        &mut self,
        id: u64,
        budgets: Budgets,
        f: impl FnOnce(&mut Self) -> Result<wasmtime::Result<R>>,
    ) -> (Result<R>, Option<u64>) {
        let armed = self.meter.arm(id, budgets);
        let entered = self
            .check_poison()
            .and_then(|()| ensure_room(self.config.stack_size))
            .and_then(|()| f(self));
        let fuel_consumed = armed.consumed();
        drop(armed);
        let result = match entered {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(trap)) => Err(self.poison(trap)),
            Err(error) => Err(error),
        };
        (result, fuel_consumed)
    }

    /// Replaces the instance with a new one seeded from `image`.
    fn replace_instance(&mut self, image: &Arc<MemoryImage>) -> Result<()> {
        let state = GuestState {
            dispatcher: self.dispatcher.clone(),
            limiter: HeapLimiter::new(self.config.heap_size),
            meter: self.meter.clone(),
        };
        self.instance = JsInstance::start(&self.engine, state, image)?;
        self.poisoned_by = None;
        Ok(())
    }

    /// Registers the plan's modules, then its handlers.
    fn load_all(&mut self, plan: &LoadPlan<'_>) -> Result<()> {
        for &(namespace, name, source) in &plan.modules {
            match source {
                Source::Script(source) => self
                    .enter(|runtime, store| {
                        runtime.call_add_module(store, namespace, name, source)
                    })?
                    .map_err(trap::reported)?,
                Source::Component(component) => {
                    let specifier = format!("{namespace}:{name}");
                    let module = self.start_component(&specifier, component)?;
                    self.dispatcher.serve(&specifier, Lifetime::Load, module)?;
                    self.declare_modules()?;
                }
            }
        }
        for &(name, source) in &plan.handlers {
            match source {
                Source::Script(source) => self
                    .enter(|runtime, store| runtime.call_add_handler(store, name, source))?
                    .map_err(trap::reported)?,
                Source::Component(component) => {
                    let handler = ComponentHandler::load(
                        component,
                        self.author_env()?,
                        self.config.output_buffer_size,
                    )?;
                    self.handlers.insert(name, handler);
                }
            }
        }
        Ok(())
    }
}

impl ComponentHost for WasmtimeGuest {
    fn grant(&mut self, grant: ComponentGrant) {
        let grants = Arc::make_mut(&mut self.grants);
        match grant {
            ComponentGrant::Files(files) => grants.files = Some(files),
            ComponentGrant::Env(env) => grants.env = env,
            ComponentGrant::Network(network) => grants.network = Some(network),
        }
    }

    fn start_component(
        &mut self,
        specifier: &str,
        component: &WasmComponent,
    ) -> Result<Arc<dyn Provider>> {
        let module = ComponentModule::load(specifier, component, self.author_env()?)?;
        Ok(Arc::new(module))
    }
}

impl GuestInstance for WasmtimeGuest {
    fn declare_modules(&mut self) -> Result<()> {
        let declare = |specifier, functions| ModuleDeclaration {
            specifier,
            functions,
        };
        let modules = self.dispatcher.declarations(declare);
        self.enter(|runtime, store| runtime.call_set_host_modules(store, &modules))
    }

    fn reset(&mut self) -> Result<()> {
        let base = Self::base_image(&self.engine, &self.config)?;
        self.replace_instance(&base)?;
        self.template_start = None;
        self.handlers.clear();
        self.dispatcher.unload();
        self.declare_modules()
    }

    fn load(&mut self, plan: LoadPlan<'_>) -> Result<()> {
        self.check_poison()?;
        let _armed = self.meter.arm(plan.id, plan.budgets);
        self.load_all(&plan)
    }

    fn call_handler(&mut self, call: HandlerCall<'_>) -> CallOutcome {
        let (result, fuel_consumed) = self.metered(call.id, call.budgets, |guest| {
            guest.handlers.call(&mut guest.instance, &call)
        });
        CallOutcome {
            result: result.and_then(|reported| reported.map_err(trap::reported)),
            fuel_consumed,
        }
    }

    fn run_program(&mut self, call: ProgramCall<'_>) -> ProgramOutcome {
        let program = program_record!(call, Program, ProgramKind);
        let (result, fuel_consumed) = self.metered(call.id, call.budgets, |guest| {
            guest
                .instance
                .enter(|runtime, store| runtime.call_run_program(store, &program))
        });
        ProgramOutcome {
            result: result.map(|exit| ProgramExit {
                code: exit.code,
                value: exit.value,
            }),
            fuel_consumed,
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

    fn snapshot(&mut self) -> Result<GuestImage> {
        self.check_poison()?;
        let image = self
            .instance
            .snapshot()
            .map_err(|e| Error::Internal(format!("cannot capture guest memory: {e}")))?;
        Ok(image)
    }

    /// The template capture the guest started from; else the base image
    /// every guest starts from, when no host modules were declared since
    /// (nothing else has changed it); else a snapshot.
    fn start_image(&mut self) -> Result<GuestImage> {
        if let Some(start) = &self.template_start {
            return Ok(start.clone());
        }
        if self.dispatcher.declarations(|_, _| ()).is_empty() {
            return Ok(Self::base_image(&self.engine, &self.config)?);
        }
        self.snapshot()
    }

    /// Restoring the image the memory is mapped from, into a healthy
    /// instance whose memory has not grown, copies back just the pages
    /// written since (the usual "restore between requests"). Anything else
    /// starts a new instance seeded from the image.
    fn restore(&mut self, image: &GuestImage) -> Result<()> {
        let image = memory_image(image)?;
        fits_heap(&image, &self.config)?;
        self.handlers.discard_instances();
        self.dispatcher.discard_guest_state();
        if self.poisoned_by.is_none() && self.instance.restore_in_place(&image) {
            return Ok(());
        }
        self.replace_instance(&image)
    }
}

/// The guest memory `image` holds, for writing it to a file.
pub(crate) fn image_bytes(image: &GuestImage) -> Result<&[u8]> {
    let image = image
        .downcast_ref::<MemoryImage>()
        .ok_or_else(foreign_image)?;
    image.bytes().map_err(image_failed)
}

/// An image of the guest memory `bytes`, as [`image_bytes`] gave them.
pub(crate) fn image_from_bytes(bytes: &[u8]) -> Result<GuestImage> {
    let image = MemoryImage::from_bytes(bytes)
        .map_err(|e| Error::invalid_arg(format!("cannot read a guest image: {e}")))?;
    Ok(Arc::new(image))
}

/// Refuses an image whose memory is larger than `config`'s heap.
fn fits_heap(image: &MemoryImage, config: &SandboxConfig) -> Result<()> {
    if image.len() > config.heap_size {
        return Err(Error::invalid_arg(format!(
            "the snapshot's memory is {} bytes, more than this sandbox's heap size of {} bytes; raise it with SandboxBuilder::heap_size",
            image.len(),
            config.heap_size
        )));
    }
    Ok(())
}

/// `image` as this backend's own kind of image.
fn memory_image(image: &GuestImage) -> Result<Arc<MemoryImage>> {
    Arc::clone(image)
        .downcast::<MemoryImage>()
        .map_err(|_| foreign_image())
}

fn image_failed(error: std::io::Error) -> Error {
    Error::Internal(format!("cannot build a guest image: {error}"))
}
