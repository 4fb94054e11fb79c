//! A component whose exports guests call: a component module
//! (`user:textkit`) or a host component (`host:kv`), served as a
//! [`Provider`] from the sandbox's dispatcher.
//!
//! Each runs in its own store. A call converts the caller's JSON arguments
//! through the function's WIT types; a type mismatch is an error the caller
//! sees as a `TypeError`. A trap loses the instance, and the next call starts
//! a fresh one. Calls made during a handler call go through the sandbox's
//! meter: they share its fuel budget and are stopped by its monitors and
//! kills like the handler itself.

use std::collections::BTreeMap;
use std::sync::Mutex;

use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre};

use super::env::AuthorEnv;
use super::functions::{Function, exported};
use super::state::AuthorState;
use crate::backend::wasmtime::trap::trapped;
use crate::capability::host_functions::CallContext;
use crate::capability::{HostCallError, Provider};
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
        let compiled = env.authors.compile(component)?;
        let what = format!("component {} ({specifier})", component.name());
        let functions = exported(&compiled, env.authors.engine(), &what)?
            .into_iter()
            .map(|f| (f.js_name.clone(), f))
            .collect();
        let pre = env
            .authors
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
}

impl Provider for ComponentModule {
    fn functions(&self) -> Vec<String> {
        self.functions.keys().cloned().collect()
    }

    fn call(
        &self,
        function: &str,
        args: &str,
        _: &CallContext<'_>,
    ) -> Result<String, HostCallError> {
        let module = &self.specifier;
        let failed = HostCallError::Failed;
        let function = self
            .functions
            .get(function)
            .ok_or_else(|| failed(format!("{module} has no function {function:?}")))?;
        let params = function.params(module, args)?;
        let mut slot = self.live.try_lock().map_err(|_| {
            failed(format!(
                "{module} was called while it was running (a re-entrant call)"
            ))
        })?;
        if slot.is_none() {
            *slot = Some(start(&self.pre, &self.env).map_err(|e| failed(e.to_string()))?);
        }
        let (store, instance) = slot.as_mut().expect("started above");
        let func = function
            .lookup(store, instance)
            .ok_or_else(|| failed(format!("{module}.{} is not exported", function.js_name)))?;
        let mut results = function.results();
        let outcome = self
            .env
            .meter
            .enter(store, |store| func.call(store, &params, &mut results))
            .map_err(|stopped| failed(stopped.to_string()))?;
        if let Err(trap) = outcome {
            // The instance is unusable after a trap; the next call starts afresh.
            *slot = None;
            return Err(failed(format!(
                "{module}.{} trapped: {trap:#}",
                function.js_name
            )));
        }
        function.json(&results)
    }

    fn discard_guest_state(&self) {
        *self.live.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// A new instance in a new store; its initialisation runs through the
/// sandbox's meter.
fn start(
    pre: &InstancePre<AuthorState>,
    env: &AuthorEnv,
) -> Result<(Store<AuthorState>, Instance)> {
    let mut store = env.store()?;
    let instance = env
        .meter
        .enter(&mut store, |store| pre.instantiate(store))?
        .map_err(trapped)?;
    Ok((store, instance))
}
