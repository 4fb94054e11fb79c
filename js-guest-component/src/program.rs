//! Programs (`run-program`): a CommonJS script or an ES module run as a
//! fresh process, as Node.js runs a file.
//!
//! The host gives each program a guest restored from the state after the
//! runtime was readied for programs (`prepare-programs`), so nothing of an
//! earlier program survives. The runner gives the process (`process.js`)
//! its argv, env and cwd, evaluates the top level, then runs
//! the event loop: ticks and promise jobs, timers whose time has come, and
//! immediates, waiting through the host (`process.wait-until`) in between,
//! until nothing keeps the program alive or it calls `process.exit`.
//! Failures are reported on standard error, as Node reports them, and
//! decide the exit code.

use alloc::format;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use rquickjs::module::Declared;
use rquickjs::promise::PromiseState;
use rquickjs::{Ctx, Error, Exception, Function, Module, Object, Persistent, Promise, Value, qjs};

use crate::allocator;
use crate::bindings::exports::polybox::sandbox::runtime::{Program, ProgramExit, ProgramKind};
use crate::bindings::polybox::sandbox::process;
use crate::builtins::process::control;
use crate::error::ran_out_of_memory;
use crate::script::{commonjs_function, eval_async_script};

/// Exit code after an uncaught exception or an unhandled rejection.
const UNCAUGHT: i32 = 1;
/// Exit code when a top-level `await` can never settle (as in Node.js).
const UNSETTLED: i32 = 13;

/// Promise rejections that nothing has handled yet, tracked while a
/// program runs (the runtime's rejection tracker feeds it).
#[derive(Default)]
pub struct Rejections {
    /// Whether a program is running: handler calls are not tracked.
    active: Cell<bool>,
    pending: RefCell<Vec<(Persistent<Value<'static>>, Persistent<Value<'static>>)>>,
}

impl Rejections {
    /// Records that `promise` was rejected with `reason` and nothing handles
    /// it, or (`handled`) that a handler was attached after all.
    pub fn track<'js>(
        &self,
        ctx: &Ctx<'js>,
        promise: Value<'js>,
        reason: Value<'js>,
        handled: bool,
    ) {
        if !self.active.get() {
            return;
        }
        if handled {
            self.forget(ctx, &promise);
        } else {
            self.pending.borrow_mut().push((
                Persistent::save(ctx, promise),
                Persistent::save(ctx, reason),
            ));
        }
    }

    /// Forgets the rejection of `promise`.
    fn forget<'js>(&self, ctx: &Ctx<'js>, promise: &Value<'js>) {
        self.pending
            .borrow_mut()
            .retain(|(p, _)| p.clone().restore(ctx).is_ok_and(|p| p != *promise));
    }

    /// The reason of the oldest rejection nothing handled, if there is one.
    fn take<'js>(&self, ctx: &Ctx<'js>) -> Option<Value<'js>> {
        let mut pending = self.pending.borrow_mut();
        if pending.is_empty() {
            return None;
        }
        let (_, reason) = pending.remove(0);
        reason.restore(ctx).ok()
    }
}

/// What stopped the event loop.
enum Stop {
    /// `process.exit`, or a failure nothing handled.
    Exit,
    /// The host stopped the call while the program waited.
    Stopped,
}

/// What the runtime keeps for programs, shared with its hooks (the
/// interrupt handler, the rejection tracker).
pub struct ProgramState {
    /// Set by `process.exit`: from then on the interrupt handler stops any
    /// JavaScript that runs.
    pub exiting: Rc<Cell<bool>>,
    /// Rejections nothing has handled yet.
    pub rejections: Rejections,
    /// Memory set aside when the runtime starts (so it is part of the image
    /// every program starts from) and given back when a program runs out:
    /// enough to report that it did.
    reserve: RefCell<Vec<u8>>,
}

impl Default for ProgramState {
    fn default() -> Self {
        Self {
            exiting: Rc::default(),
            rejections: Rejections::default(),
            reserve: RefCell::new(Vec::with_capacity(RESERVE)),
        }
    }
}

/// Runs `program` in `ctx`.
pub fn run(ctx: &Ctx<'_>, state: &ProgramState, program: &Program) -> ProgramExit {
    let rejections = &state.rejections;
    let _ = allocator::take_failure();
    rejections.pending.borrow_mut().clear();
    rejections.active.set(true);
    let outcome = Runner {
        ctx,
        state,
        top_level_reported: Cell::new(false),
    }
    .run(program);
    rejections.active.set(false);
    rejections.pending.borrow_mut().clear();
    outcome
}

struct Runner<'a, 'js> {
    ctx: &'a Ctx<'js>,
    state: &'a ProgramState,
    /// Whether a module's failed top level has been reported.
    top_level_reported: Cell<bool>,
}

impl<'js> Runner<'_, 'js> {
    fn run(&self, program: &Program) -> ProgramExit {
        if let Err(error) = self.start(program) {
            let _ = self.failed(error);
            return self.exit(None);
        }
        let completion = match program.kind {
            ProgramKind::Commonjs => self
                .compile_commonjs(program)
                .and_then(|function| self.commonjs(function, program))
                .map(|()| None),
            ProgramKind::Module => self
                .declare_module(program)
                .and_then(|m| self.module(m))
                .map(Some),
            ProgramKind::Detect => self.detect(program),
            ProgramKind::Script => self.script(program).map(Some),
        };
        let completion = match completion {
            Ok(completion) => completion,
            Err(error) => {
                if !self.failed(error) {
                    return self.exit(None);
                }
                None
            }
        };
        let top_level = completion.as_ref().map(|(_, promise)| promise);
        match self.event_loop(top_level) {
            Some(Stop::Stopped) => {
                self.state.exiting.set(false);
                ProgramExit {
                    code: self.exit_code(),
                    value: None,
                }
            }
            Some(Stop::Exit) => self.exit(None),
            None => {
                let namespace = completion.as_ref().map(|(namespace, _)| namespace);
                let default = namespace.and_then(|n| n.get::<_, Value>("default").ok());
                self.exit(default.filter(|v| !v.is_undefined()))
            }
        }
    }

    /// Installs the process: `process.argv`, `process.env`, `process.cwd()`.
    fn start(&self, program: &Program) -> rquickjs::Result<()> {
        let argv: Vec<String> = ["polybox".to_string(), program.filename.clone()]
            .into_iter()
            .chain(program.args.iter().cloned())
            .collect();
        let env = Object::new(self.ctx.clone())?;
        for (name, value) in &program.env {
            env.set(name.as_str(), value.as_str())?;
        }
        control(self.ctx, "start", (argv, env, program.cwd.as_str()))
    }

    /// Runs the program as CommonJS if it compiles so, else as an ES module
    /// if it compiles so, else reports CommonJS's syntax error.
    fn detect(&self, program: &Program) -> rquickjs::Result<Option<(Object<'js>, Promise<'js>)>> {
        match self.compile_commonjs(program) {
            Ok(function) => self.commonjs(function, program).map(|()| None),
            Err(Error::Exception) => {
                let commonjs_error = self.ctx.catch();
                match self.declare_module(program) {
                    Ok(module) => self.module(module).map(Some),
                    Err(Error::Exception) => {
                        // A module that does not parse either: the script's
                        // error says why, as Node.js reports it. One that
                        // parses but does not link (an import that does
                        // not resolve) has its own error.
                        let module_error = self.ctx.catch();
                        let error = if is_syntax_error(&module_error) {
                            commonjs_error
                        } else {
                            module_error
                        };
                        Err(self.ctx.throw(error))
                    }
                    Err(error) => Err(error),
                }
            }
            Err(error) => Err(error),
        }
    }

    /// Compiles a CommonJS script (see [`commonjs_function`]).
    fn compile_commonjs(&self, program: &Program) -> rquickjs::Result<Function<'js>> {
        commonjs_function(self.ctx, &program.filename, &program.source)
    }

    /// Runs a compiled CommonJS script.
    fn commonjs(&self, function: Function<'js>, program: &Program) -> rquickjs::Result<()> {
        let module = Object::new(self.ctx.clone())?;
        let exports = Object::new(self.ctx.clone())?;
        module.set("exports", exports.clone())?;
        module.set("id", ".")?;
        module.set("filename", program.filename.as_str())?;
        let require: Function = control(self.ctx, "requireFor", (program.filename.as_str(),))?;
        let dirname = match program.filename.rsplit_once('/') {
            Some(("", _)) => "/",
            Some((dir, _)) => dir,
            None => ".",
        };
        function.call::<_, Value>((
            exports,
            require,
            module,
            program.filename.as_str(),
            dirname,
        ))?;
        Ok(())
    }

    /// Compiles an ES module.
    fn declare_module(&self, program: &Program) -> rquickjs::Result<Module<'js, Declared>> {
        Module::declare(
            self.ctx.clone(),
            program.filename.as_str(),
            program.source.as_str(),
        )
    }

    /// Links and evaluates an ES module; returns its namespace and the
    /// promise of its evaluation (pending while a top-level `await` waits).
    fn module(
        &self,
        module: Module<'js, Declared>,
    ) -> rquickjs::Result<(Object<'js>, Promise<'js>)> {
        let (module, promise) = module.eval()?;
        Ok((module.namespace()?, promise))
    }

    /// Evaluates a global script (see `ProgramKind::Script`) with a global
    /// `require`, as Node's REPL has; returns an object whose `default`
    /// becomes its completion value, and the promise of its evaluation, as
    /// a module's namespace and promise.
    fn script(&self, program: &Program) -> rquickjs::Result<(Object<'js>, Promise<'js>)> {
        let require: Function = control(self.ctx, "requireFor", (program.filename.as_str(),))?;
        self.ctx.globals().set("require", require)?;
        let evaluated = eval_async_script(self.ctx, &program.filename, &program.source)?;
        let holder = Object::new(self.ctx.clone())?;
        let keep: Function = self
            .ctx
            .eval("(evaluated, holder) => evaluated.then((r) => { holder.default = r.value; })")?;
        let promise = keep.call((evaluated, holder.clone()))?;
        Ok((holder, promise))
    }

    /// Runs ticks, jobs, timers and immediates until nothing is left (`None`)
    /// or the program must stop.
    fn event_loop(&self, top_level: Option<&Promise<'js>>) -> Option<Stop> {
        let exiting = self.state.exiting.clone();
        let run_jobs = Function::new(self.ctx.clone(), move |ctx: Ctx<'_>| {
            while !exiting.get() && ctx.execute_pending_job() {}
        });
        let run_jobs = match run_jobs {
            Ok(run_jobs) => run_jobs,
            Err(error) => return self.stop_unless_handled(error),
        };
        loop {
            if self.state.exiting.get() {
                return Some(Stop::Exit);
            }
            if let Err(error) = control::<_, bool>(self.ctx, "turn", (run_jobs.clone(),)) {
                if !self.failed(error) {
                    return Some(Stop::Exit);
                }
                continue;
            }
            if let Some(stop) = self.settle(top_level) {
                return Some(stop);
            }
            let wake: f64 = match control(self.ctx, "nextWake", ()) {
                Ok(wake) => wake,
                Err(error) => return self.stop_unless_handled(error),
            };
            if wake < 0.0 {
                return self.unsettled(top_level);
            }
            if wake > 0.0 {
                match control::<_, bool>(self.ctx, "idle", (wake,)) {
                    Ok(true) => {}
                    Ok(false) => return Some(Stop::Stopped),
                    Err(error) => return self.stop_unless_handled(error),
                }
            }
        }
    }

    /// Reports a failed top level (once), then a rejection nothing handled.
    fn settle(&self, top_level: Option<&Promise<'js>>) -> Option<Stop> {
        if let Some(promise) = top_level
            && promise.state() == PromiseState::Rejected
            && !self.top_level_reported.replace(true)
        {
            self.state
                .rejections
                .forget(self.ctx, &promise.clone().into_value());
            let reason = match promise.result::<Value>() {
                Some(Err(error)) => self.thrown(error),
                _ => Value::new_undefined(self.ctx.clone()),
            };
            if !self.report(reason, "uncaughtException") {
                return Some(Stop::Exit);
            }
        }
        let reason = self.state.rejections.take(self.ctx)?;
        (!self.report(reason, "unhandledRejection")).then_some(Stop::Exit)
    }

    /// With nothing left to run: a top-level `await` still pending can never
    /// settle (exit code 13, as in Node.js); otherwise the program is done.
    fn unsettled(&self, top_level: Option<&Promise<'js>>) -> Option<Stop> {
        match top_level.map(Promise::state) {
            Some(PromiseState::Pending) => {
                process::write(
                    2,
                    b"Warning: Detected unsettled top-level await: nothing is left to run that could settle it\n",
                );
                self.set_exit_code(UNSETTLED);
                Some(Stop::Exit)
            }
            _ => None,
        }
    }

    fn stop_unless_handled(&self, error: Error) -> Option<Stop> {
        (!self.failed(error)).then_some(Stop::Exit)
    }

    /// Handles `error` thrown into the runner: `process.exit` ends the
    /// program; anything else is reported, unless an `uncaughtException`
    /// listener takes it. Returns whether the program goes on.
    fn failed(&self, error: Error) -> bool {
        if self.state.exiting.get() {
            let _ = self.ctx.catch();
            return false;
        }
        let thrown = self.thrown(error);
        self.report(thrown, "uncaughtException")
    }

    /// The JavaScript value of `error`: the pending exception, or an `Error`
    /// describing what rquickjs reported (an import that did not resolve).
    fn thrown(&self, error: Error) -> Value<'js> {
        let (message, code) = match error {
            Error::Exception => {
                let thrown = self.ctx.catch();
                // QuickJS throws `null` when it has no memory left for the
                // error itself.
                if ran_out_of_memory(&thrown) {
                    // Give back the reserve, so the report has room.
                    drop(core::mem::take(&mut *self.state.reserve.borrow_mut()));
                    return self.out_of_memory();
                }
                return thrown;
            }
            Error::Resolving { base, name, .. } => (
                format!("Cannot find module '{name}' imported from {base}"),
                "ERR_MODULE_NOT_FOUND",
            ),
            Error::Loading { name, .. } => (
                format!("Cannot find module '{name}'"),
                "ERR_MODULE_NOT_FOUND",
            ),
            other => (other.to_string(), "ERR_POLYBOX_INTERNAL"),
        };
        let error = Exception::from_message(self.ctx.clone(), &message).map(Exception::into_object);
        match error {
            Ok(error) => {
                let _ = error.set("code", code);
                error.into_value()
            }
            Err(_) => Value::new_undefined(self.ctx.clone()),
        }
    }

    /// The `out of memory` error QuickJS could not allocate, made once the
    /// program's pending work is dropped and collected.
    fn out_of_memory(&self) -> Value<'js> {
        let _ = control::<_, ()>(self.ctx, "abandon", ());
        // SAFETY: `ctx` is a live context on this thread, not inside any
        // allocation: collecting here is what the engine does itself.
        unsafe { qjs::JS_RunGC(qjs::JS_GetRuntime(self.ctx.as_raw().as_ptr())) };
        let _ = Exception::throw_internal(self.ctx, "out of memory");
        self.ctx.catch()
    }

    /// Reports `thrown` through the process (`uncaughtException` or
    /// `unhandledRejection`); returns whether a listener handled it.
    fn report(&self, thrown: Value<'js>, origin: &str) -> bool {
        match control(self.ctx, "uncaught", (thrown, origin)) {
            Ok(handled) => handled,
            Err(error) => {
                if self.state.exiting.get() {
                    let _ = self.ctx.catch();
                    return false;
                }
                // A listener threw: that is reported in turn (Node.js exits
                // with 7 here; the report says what happened).
                let thrown = self.thrown(error);
                let _ = control::<_, bool>(self.ctx, "uncaught", (thrown, "uncaughtException"));
                self.set_exit_code(UNCAUGHT);
                false
            }
        }
    }

    /// Ends the program: emits `exit` (unless `process.exit` did), and takes
    /// its value: what it passed to `__return`, else `value`.
    fn exit(&self, value: Option<Value<'js>>) -> ProgramExit {
        // What runs from here is the runtime's, not the program's.
        self.state.exiting.set(false);
        let code = match control::<_, i32>(self.ctx, "finish", ()) {
            Ok(code) => code,
            Err(error) => {
                if self.state.exiting.replace(false) {
                    // `process.exit` in an `exit` listener: its code stands.
                    let _ = self.ctx.catch();
                } else {
                    // An `exit` listener threw: reported like any uncaught
                    // exception.
                    let thrown = self.thrown(error);
                    let _ = self.report(thrown, "uncaughtException");
                }
                self.exit_code()
            }
        };
        let returned: Vec<Value> = control(self.ctx, "returned", ()).unwrap_or_default();
        let value = returned.into_iter().next().or(value);
        ProgramExit {
            code,
            value: value.and_then(|value| json(self.ctx, value)),
        }
    }

    fn exit_code(&self) -> i32 {
        control(self.ctx, "exitCode", ()).unwrap_or(UNCAUGHT)
    }

    fn set_exit_code(&self, code: i32) {
        let _ = control::<_, ()>(self.ctx, "setExitCode", (code,));
    }
}

/// The JSON of a program's value, or `None` when it has none.
fn json<'js>(ctx: &Ctx<'js>, value: Value<'js>) -> Option<String> {
    match ctx.json_stringify(value) {
        Ok(Some(json)) => json.to_string().ok(),
        _ => {
            let _ = ctx.catch();
            None
        }
    }
}

/// Whether `value` is a `SyntaxError`.
fn is_syntax_error(value: &Value<'_>) -> bool {
    value
        .as_object()
        .and_then(|error| error.get::<_, String>("name").ok())
        .is_some_and(|name| name == "SyntaxError")
}

/// The memory set aside to report running out of it.
const RESERVE: usize = 256 * 1024;
