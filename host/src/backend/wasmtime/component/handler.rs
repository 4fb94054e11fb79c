//! A handler written as a component (the `handler` world), called like a
//! JavaScript handler: same monitors, budgets, kill, stats and recovery.

use serde::de::IgnoredAny;
use wasmtime::Store;

use super::env::AuthorEnv;
use super::state::AuthorState;
use crate::backend::wasmtime::bindings::handler::{Handler, HandlerPre};
use crate::backend::wasmtime::bindings::{ErrorKind, GuestReport};
use crate::backend::wasmtime::trap::trapped;
use crate::component::WasmComponent;
use crate::error::{Error, Result};

/// A handler component and, once started, its instance.
pub(crate) struct ComponentHandler {
    pre: HandlerPre<AuthorState>,
    env: AuthorEnv,
    live: Option<(Store<AuthorState>, Handler)>,
}

impl ComponentHandler {
    /// Loads `component`, which must implement the `handler` world, and
    /// starts it.
    pub fn load(component: &WasmComponent, env: AuthorEnv) -> Result<Self> {
        let compiled = env.authors.compile(component)?;
        let pre = env
            .authors
            .linker
            .instantiate_pre(&compiled)
            .and_then(HandlerPre::new)
            .map_err(|e| {
                Error::invalid_arg(format!(
                    "{} is not a handler component (it must export polybox:sandbox/event-handler): {e:#}",
                    component.name()
                ))
            })?;
        let mut handler = Self {
            pre,
            env,
            live: None,
        };
        handler.live()?;
        Ok(handler)
    }

    /// Drops the instance; the next call starts a fresh one.
    pub fn discard(&mut self) {
        self.live = None;
    }

    /// The running instance, started if there is none. Starting runs the
    /// component's initialisation, through the meter: a trap, kill or
    /// monitor ends it.
    fn live(&mut self) -> Result<(&mut Store<AuthorState>, &Handler)> {
        if self.live.is_none() {
            let mut store = self.env.store()?;
            let meter = store.data().meter().clone();
            let handler = meter
                .enter(&mut store, |store| self.pre.instantiate(store))?
                .map_err(trapped)?;
            self.live = Some((store, handler));
        }
        let (store, handler) = self.live.as_mut().expect("started above");
        Ok((store, handler))
    }

    /// Calls the handler with `event`, which must be JSON, as for a
    /// JavaScript handler, and so must the result. The outer `Err` is a
    /// failure to start; the inner one a trap.
    pub fn call(&mut self, event: &str) -> Result<wasmtime::Result<Result<String, GuestReport>>> {
        if let Err(error) = serde_json::from_str::<IgnoredAny>(event) {
            return Ok(Ok(Err(GuestReport {
                kind: ErrorKind::InvalidEvent,
                message: format!("the event is not valid JSON: {error}"),
                stack: None,
            })));
        }
        let (store, handler) = self.live()?;
        let meter = store.data().meter().clone();
        let result = meter.enter(store, |store| {
            handler
                .polybox_sandbox_event_handler()
                .call_handle(store, event)
        })?;
        Ok(result.map(|reported| {
            reported.and_then(|json| match serde_json::from_str::<IgnoredAny>(&json) {
                Ok(_) => Ok(json),
                Err(error) => Err(GuestReport {
                    kind: ErrorKind::UnserializableResult,
                    message: format!("the handler component returned invalid JSON: {error}"),
                    stack: None,
                }),
            })
        }))
    }
}
