//! One QuickJS runtime and context per guest instance, with the handlers
//! registered in it, and the hooks programs need (`program.rs`): the
//! interrupt that makes `process.exit` final, and the tracker of promise
//! rejections nothing handles.
//!
//! A handler is ES module source that defines a function named `handler`.
//! The module is evaluated when the handler is added, so its imports resolve
//! and its top-level code runs then; the function is kept for later calls.
//! The module does not have to export `handler`: an export under a private
//! name is appended to the source to reach it. A module that defines no
//! such function may serve HTTP requests instead (`builtins/serving.js`).

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use rquickjs::{Context, Ctx, Function, Module, Persistent, Runtime, Value};

use crate::allocator::{self, QuickJsAllocator};
use crate::bindings::exports::polybox::sandbox::runtime::{Program, ProgramExit};
use crate::bindings::polybox::sandbox::types::{ErrorKind, GuestError};
use crate::builtins::serving::Serving;
use crate::builtins::{globals, hyperlight, process, session, timers, tools, url, web};
use crate::error::{Phase, describe, guest_error};
use crate::event_bytes;
use crate::json_text;
use crate::modules::{
    CRYPTO, HOST_NAMESPACE, NODE_NAMESPACE, RegistryLoader, RegistryResolver, SharedRegistry,
};
use crate::program::{self, ProgramState};
use crate::settle::{self, settle};
use crate::stack_limit::StackLimit;

/// The private export through which a handler module hands over `handler`.
const HANDLER_EXPORT: &str = "__polybox_handler";

/// The JavaScript engine state of one guest instance.
pub struct JsRuntime {
    runtime: Runtime,
    context: Context,
    stack_limit: StackLimit,
    /// Linear memory pages when the collector last ran.
    pages_after_gc: usize,
    registry: SharedRegistry,
    handlers: BTreeMap<String, Persistent<Function<'static>>>,
    serving: Serving,
    program: Rc<ProgramState>,
    /// Whether `prepare_programs` ran.
    programs_ready: bool,
}

impl JsRuntime {
    /// Creates the runtime, its module loader and a context with the
    /// standard library and Polybox's globals.
    pub fn new() -> Self {
        let runtime =
            Runtime::new_with_alloc(QuickJsAllocator).expect("QuickJS runtime allocation");
        let registry = SharedRegistry::default();
        runtime.set_loader(
            RegistryResolver(registry.clone()),
            RegistryLoader(registry.clone()),
        );
        let program = Rc::new(ProgramState::default());
        let tracker = program.clone();
        runtime.set_host_promise_rejection_tracker(Some(Box::new(
            move |ctx, promise, reason, handled| {
                tracker.rejections.track(&ctx, promise, reason, handled)
            },
        )));
        let context = Context::full(&runtime).expect("QuickJS context allocation");
        // Stop any script once `process.exit` ran, or once QuickJS lost an
        // out-of-memory failure (which is then reported as one).
        let exiting = program.exiting.clone();
        let raw = context.with(|ctx| ctx.as_raw());
        runtime.set_interrupt_handler(Some(Box::new(move || {
            exiting.get() || allocator::exception_lost(raw)
        })));
        let (stack_limit, serving) = context.with(|ctx| {
            let fail = |what, error| -> ! { not_evaluated(&ctx, what, error) };
            globals::install(&ctx).unwrap_or_else(|e| fail("globals.js", e));
            hyperlight::install(&ctx).unwrap_or_else(|e| fail("hyperlight.js", e));
            timers::install(&ctx).unwrap_or_else(|e| fail("timers.js", e));
            url::install(&ctx).unwrap_or_else(|e| fail("url.js", e));
            web::install(&ctx).unwrap_or_else(|e| fail("web.js", e));
            tools::install(&ctx).unwrap_or_else(|e| fail("tools.js", e));
            let serving = Serving::install(&ctx).unwrap_or_else(|e| fail("serving.js", e));
            let stack_limit = StackLimit::locate(&ctx)
                .expect("QuickJS's runtime layout has changed: no stack limit");
            (stack_limit, serving)
        });
        // Start collected, so the first calls (and every guest started from an
        // image of this runtime) have a baseline and skip needless collections.
        runtime.run_gc();
        Self {
            runtime,
            context,
            stack_limit,
            pages_after_gc: memory_pages(),
            registry,
            handlers: BTreeMap::new(),
            serving,
            program,
            programs_ready: false,
        }
    }

    /// Evaluates what programs get (`process.js` and Node's modules), once.
    /// Not done for every runtime: it makes the image guests start from
    /// larger, which handlers would pay for.
    pub fn prepare_programs(&mut self) {
        if self.programs_ready {
            return;
        }
        let exiting = self.program.exiting.clone();
        self.context.with(|ctx| {
            process::install(&ctx, exiting)
                .and_then(|()| provide_crypto(&ctx))
                .and_then(|()| session::install(&ctx))
                .unwrap_or_else(|e| not_evaluated(&ctx, "process.js", e));
        });
        self.runtime.run_gc();
        self.pages_after_gc = memory_pages();
        self.programs_ready = true;
    }

    /// Runs `program` as a process (see `program.rs`). Its core module
    /// imports resolve only while it runs.
    pub fn run_program(&mut self, program: &Program) -> ProgramExit {
        self.prepare_programs();
        self.registry.borrow_mut().set_core_modules(true);
        let exit = self
            .context
            .with(|ctx| program::run(&ctx, &self.program, program));
        self.registry.borrow_mut().set_core_modules(false);
        exit
    }

    /// Whether the heap grew since the collector last ran: only then can a
    /// collection find much. Acyclic garbage is freed at once by reference
    /// counting, and QuickJS also collects by itself as allocation grows.
    fn heap_grew(&self) -> bool {
        memory_pages() > self.pages_after_gc
    }

    /// Lets JavaScript recursion use at most `bytes` of stack.
    pub fn set_stack_limit(&mut self, bytes: usize) {
        self.stack_limit.set(bytes);
    }

    /// Caps what QuickJS may allocate; beyond it allocation throws a
    /// catchable `out of memory` error (see `allocator.rs`).
    pub fn set_heap_limit(&mut self, bytes: usize) {
        allocator::set_limit(bytes);
    }

    /// Declares the host modules scripts may import as `host:<name>`.
    pub fn set_host_modules(&mut self, modules: BTreeMap<String, Vec<String>>) {
        self.registry.borrow_mut().set_host_modules(modules);
    }

    /// Registers module source under `namespace:name`.
    pub fn add_module(
        &mut self,
        namespace: &str,
        name: &str,
        source: String,
    ) -> Result<(), GuestError> {
        if namespace == HOST_NAMESPACE || namespace == NODE_NAMESPACE {
            return Err(guest_error(
                ErrorKind::InvalidArgument,
                format!("the `{namespace}` namespace is reserved"),
            ));
        }
        if namespace.is_empty() || namespace.contains(':') || name.is_empty() {
            return Err(guest_error(
                ErrorKind::InvalidArgument,
                format!("invalid module name {namespace:?}:{name:?}"),
            ));
        }
        self.registry
            .borrow_mut()
            .add_source(namespace, name, source);
        Ok(())
    }

    /// Forgets the source of `namespace:name`.
    pub fn remove_module(&mut self, namespace: &str, name: &str) -> bool {
        self.registry.borrow_mut().remove_source(namespace, name)
    }

    /// Compiles and evaluates handler `name`.
    pub fn add_handler(&mut self, name: &str, source: &str) -> Result<(), GuestError> {
        let module_name = format!("handler/{name}");
        let source = format!(
            "{source}\nexport const {HANDLER_EXPORT} = typeof handler === \"function\" ? handler : undefined;\n"
        );
        let registry = self.registry.clone();
        let serving = &self.serving;
        let handler = self.context.with(|ctx| {
            let fail = |ctx: &Ctx<'_>, error, phase| {
                let mut failure = describe(ctx, error, phase);
                if let Some(specifier) = registry.borrow_mut().take_unresolved() {
                    failure.kind = ErrorKind::ModuleNotFound;
                    failure.message = format!(
                        "module {specifier:?} is not registered (imported by handler {name:?}): {}",
                        failure.message
                    );
                }
                failure
            };
            let module = Module::declare(ctx.clone(), module_name, source)
                .map_err(|e| fail(&ctx, e, Phase::Compile))?;
            serving.begin(&ctx).map_err(|e| fail(&ctx, e, Phase::Run))?;
            // Linking (resolving imports and their exports) happens here; errors
            // thrown while the module's code runs reject `evaluation` instead.
            let (module, evaluation) = module.eval().map_err(|e| fail(&ctx, e, Phase::Compile))?;
            let evaluated = evaluation.finish::<()>();
            // A handler's top level schedules nothing that runs later.
            settle::cancel(&ctx);
            evaluated.map_err(|e| fail(&ctx, e, Phase::Run))?;
            // A function named `handler` (declared, or exported by name or
            // as the default export), else an anonymous default export,
            // else what serves HTTP requests (`serving.js`).
            let handler: Value = module
                .get(HANDLER_EXPORT)
                .map_err(|e| fail(&ctx, e, Phase::Run))?;
            let default = module.get::<_, Value>("default").ok();
            let function = match handler.into_function() {
                Some(function) => Some(function),
                None => match default.clone().and_then(Value::into_function) {
                    Some(function) => Some(function),
                    None => serving
                        .handler_for(&ctx, default.unwrap_or_else(|| Value::new_undefined(ctx.clone())))
                        .map_err(|e| fail(&ctx, e, Phase::Run))?,
                },
            };
            match function {
                Some(function) => Ok(Persistent::save(&ctx, function)),
                None => Err(guest_error(
                    ErrorKind::MissingHandler,
                    format!(
                        "handler {name:?} defines no function named `handler`, exports no default function, and serves no requests (no default export with `fetch`, no `fetch` listener)"
                    ),
                )),
            }
        })?;
        self.handlers.insert(name.to_string(), handler);
        Ok(())
    }

    /// Forgets handler `name`.
    pub fn remove_handler(&mut self, name: &str) -> bool {
        self.handlers.remove(name).is_some()
    }

    /// Calls handler `name` with the JSON `event`; returns its JSON result.
    pub fn call_handler(
        &mut self,
        name: &str,
        event: String,
        run_gc: bool,
    ) -> Result<String, GuestError> {
        let may_hold_bytes = event_bytes::may_hold(&event);
        // A failure an earlier call caught is not this call's.
        let _ = allocator::take_failure();
        let Some(handler) = self.handlers.get(name).cloned() else {
            return Err(guest_error(
                ErrorKind::UnknownHandler,
                format!("no handler is registered as {name:?}"),
            ));
        };
        let result = self.context.with(|ctx| {
            let handler = handler
                .restore(&ctx)
                .map_err(|e| describe(&ctx, e, Phase::Run))?;
            let event = json_text::parse(&ctx, event).map_err(|e| {
                let failure = describe(&ctx, e, Phase::Run);
                guest_error(
                    ErrorKind::InvalidEvent,
                    format!("the event is not valid JSON: {}", failure.message),
                )
            })?;
            let event = if may_hold_bytes {
                event_bytes::revive(&ctx, event).map_err(|e| {
                    guest_error(
                        ErrorKind::InvalidEvent,
                        describe(&ctx, e, Phase::Run).message,
                    )
                })?
            } else {
                event
            };
            let value = handler
                .call::<_, Value>((event,))
                .and_then(|returned| match returned.as_promise() {
                    // Its timers run as it settles (`settle.rs`).
                    Some(promise) => settle(&ctx, promise),
                    // Let work the handler queued (promise reactions) run
                    // to completion.
                    None => settle::finish(&ctx).map(|()| returned),
                })
                .map_err(|e| describe(&ctx, e, Phase::Run));
            // Whatever happened, nothing of the call is left to run later.
            settle::cancel(&ctx);
            to_json(&ctx, value?)
        });
        if run_gc && self.heap_grew() {
            self.runtime.run_gc();
            self.pages_after_gc = memory_pages();
        }
        result
    }
}

/// The JSON text of a handler's result.
fn to_json<'js>(ctx: &Ctx<'js>, value: Value<'js>) -> Result<String, GuestError> {
    let unserializable = |detail: String| {
        guest_error(
            ErrorKind::UnserializableResult,
            format!("the handler's result cannot be turned into JSON: {detail}"),
        )
    };
    match event_bytes::stringify(ctx, value) {
        Ok(Some(json)) => Ok(json),
        Ok(None) => Err(unserializable(
            "it is undefined, a function or a symbol; return a JSON value such as null".to_string(),
        )),
        Err(error) => Err(unserializable(describe(ctx, error, Phase::Run).message)),
    }
}

/// Gives programs the built-in `crypto` module (an ES module) as the core
/// module `crypto`, so that `require` and `node:crypto` reach it too.
fn provide_crypto(ctx: &Ctx<'_>) -> rquickjs::Result<()> {
    let namespace: rquickjs::Object = Module::import(ctx, CRYPTO)?.finish()?;
    process::control(ctx, "provide", ("crypto", namespace))
}

/// Stops the runtime from starting: one of its own scripts failed.
fn not_evaluated(ctx: &Ctx<'_>, what: &str, error: rquickjs::Error) -> ! {
    let failure = describe(ctx, error, Phase::Run);
    panic!(
        "{what} does not evaluate: {}\n{}",
        failure.message,
        failure.stack.unwrap_or_default()
    )
}

/// The size of linear memory, in 64 KiB pages: where the heap grows.
fn memory_pages() -> usize {
    core::arch::wasm32::memory_size::<0>()
}
