//! A component whose exports JavaScript calls: a component module
//! (`user:textkit`) or a host component (`host:kv`).
//!
//! Each runs in its own store. A call converts the caller's JSON arguments
//! through the function's WIT types; a type mismatch is an error the caller
//! sees as a `TypeError`. A trap loses the instance, and the next call starts
//! a fresh one. Calls made during a handler call share its fuel budget and
//! are stopped by its monitors and kills like the handler itself.

use std::collections::BTreeMap;
use std::sync::Mutex;

use wasmtime::component::{Instance, InstancePre};
use wasmtime::{Store, Trap};

use super::functions::{Function, exported};
use super::state::{AuthorEnv, AuthorState};
use crate::backend::wasmtime::bindings::CallError;
use crate::backend::wasmtime::trap::trapped;
use crate::component::WasmComponent;
use crate::error::{Error, Result};

/// A loaded component module or host component.
pub(crate) struct ComponentModule {
    /// How scripts import it, e.g. `user:textkit`.
    specifier: String,
    functions: BTreeMap<String, Function>,
    pre: InstancePre<AuthorState>,
    env: AuthorEnv,
    live: Mutex<Option<(Store<AuthorState>, Instance)>>,
}

impl ComponentModule {
    /// Loads `component` as the module `specifier` and starts it.
    pub fn load(specifier: &str, component: &WasmComponent, env: AuthorEnv) -> Result<Self> {
        let engine = env.engine.pre.engine();
        let authors = env.engine.authors()?;
        let compiled = authors.compile(engine, component)?;
        let what = format!("component {} ({specifier})", component.name());
        let functions = exported(&compiled, engine, &what)?
            .into_iter()
            .map(|f| (f.js_name.clone(), f))
            .collect();
        let pre = authors
            .linker
            .instantiate_pre(&compiled)
            .map_err(|e| Error::invalid_arg(format!("cannot link {what}: {e:#}")))?;
        let live = start(&pre, &env)?;
        Ok(Self {
            specifier: specifier.to_owned(),
            functions,
            pre,
            env,
            live: Mutex::new(Some(live)),
        })
    }

    /// The specifier scripts import it by.
    pub fn specifier(&self) -> &str {
        &self.specifier
    }

    /// Its functions' JavaScript names.
    pub fn function_names(&self) -> Vec<String> {
        self.functions.keys().cloned().collect()
    }

    /// Drops the instance; the next call starts a fresh one.
    pub fn discard(&self) {
        *self.live.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Calls `function` with `args` (a JSON array); returns the JSON result.
    pub fn call(&self, function: &str, args: &str) -> Result<String, CallError> {
        let module = &self.specifier;
        let function = self
            .functions
            .get(function)
            .ok_or_else(|| CallError::Failed(format!("{module} has no function {function:?}")))?;
        let params = function.params(module, args)?;
        let interrupt = &self.env.interrupt;
        if let Some(reason) = interrupt.stop_requested() {
            return Err(CallError::Failed(format!(
                "the call was stopped by {reason}"
            )));
        }
        let mut slot = self.live.try_lock().map_err(|_| {
            CallError::Failed(format!(
                "{module} was called while it was running (a re-entrant call)"
            ))
        })?;
        if slot.is_none() {
            *slot =
                Some(start(&self.pre, &self.env).map_err(|e| CallError::Failed(e.to_string()))?);
        }
        let (store, instance) = slot.as_mut().expect("started above");
        let func = function.lookup(store, instance).ok_or_else(|| {
            CallError::Failed(format!("{module}.{} is not exported", function.js_name))
        })?;
        let fuel = self.env.engine.fuel.then(|| interrupt.fuel_left());
        if let Some(fuel) = fuel {
            let _ = store.set_fuel(fuel);
        }
        store.set_epoch_deadline(1);
        let mut results = function.results();
        let outcome = func.call(&mut *store, &params, &mut results);
        if let Some(fuel) = fuel {
            interrupt.spend_fuel(fuel - store.get_fuel().unwrap_or(0));
        }
        if let Err(trap) = outcome {
            // The instance is unusable after a trap; the next call starts afresh.
            *slot = None;
            if trap.downcast_ref::<Trap>() == Some(&Trap::OutOfFuel) {
                // The budget is the whole call's: stop the caller too.
                interrupt.kill_running("fuel");
            }
            return Err(CallError::Failed(format!(
                "{module}.{} trapped: {trap:#}",
                function.js_name
            )));
        }
        function.json(&results)
    }
}

fn start(
    pre: &InstancePre<AuthorState>,
    env: &AuthorEnv,
) -> Result<(Store<AuthorState>, Instance)> {
    let mut store = env.store()?;
    let instance = pre.instantiate(&mut store).map_err(trapped)?;
    Ok((store, instance))
}
