//! A handler written as a component (the `handler` world), called like a
//! JavaScript handler: same monitors, budgets, kill, stats and recovery.

use serde::de::IgnoredAny;
use wasmtime::Store;

use super::state::{AuthorEnv, AuthorState};
use crate::backend::wasmtime::bindings::handler::{Handler, HandlerPre};
use crate::backend::wasmtime::bindings::{ErrorKind, GuestError};
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
        let authors = env.engine.authors()?;
        let compiled = authors.compile(env.engine.pre.engine(), component)?;
        let pre = authors
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

    /// The running instance, started if there is none.
    pub fn live(&mut self) -> Result<(&mut Store<AuthorState>, &Handler)> {
        if self.live.is_none() {
            let mut store = self.env.store()?;
            // Starting runs its initialisation: a trap, kill or monitor ends it.
            let handler = self.pre.instantiate(&mut store).map_err(trapped)?;
            self.live = Some((store, handler));
        }
        let (store, handler) = self.live.as_mut().expect("started above");
        Ok((store, handler))
    }

    /// Calls the handler in `store` (from [`live`](Self::live)). The event
    /// must be JSON, as for a JavaScript handler, and so must the result.
    pub fn call(
        store: &mut Store<AuthorState>,
        handler: &Handler,
        event: &str,
    ) -> wasmtime::Result<Result<String, GuestError>> {
        if let Err(error) = serde_json::from_str::<IgnoredAny>(event) {
            return Ok(Err(GuestError {
                kind: ErrorKind::InvalidEvent,
                message: format!("the event is not valid JSON: {error}"),
                stack: None,
            }));
        }
        let result = handler
            .polybox_sandbox_event_handler()
            .call_handle(store, event)?;
        Ok(
            result.and_then(|json| match serde_json::from_str::<IgnoredAny>(&json) {
                Ok(_) => Ok(json),
                Err(error) => Err(GuestError {
                    kind: ErrorKind::UnserializableResult,
                    message: format!("the handler component returned invalid JSON: {error}"),
                    stack: None,
                }),
            }),
        )
    }
}
