//! A handler written as a component, called like a JavaScript handler:
//! same monitors, budgets, kill, stats and recovery. It implements the
//! `handler` world (an event in, a result out), or `wasi:http/proxy` (a
//! request in, a response out: a `fetch` handler, `incoming.rs`).

use serde::de::IgnoredAny;
use wasmtime::Store;
use wasmtime_wasi_http::p2::bindings::sync::{Proxy, ProxyPre};

use super::env::AuthorEnv;
use super::state::AuthorState;
use crate::backend::wasmtime::bindings::handler::{Handler, HandlerPre};
use crate::backend::wasmtime::bindings::{ErrorKind, GuestReport};
use crate::backend::wasmtime::trap::trapped;
use crate::component::WasmComponent;
use crate::error::{Error, Result};

/// A handler component and, once started, its instance.
pub(crate) struct ComponentHandler {
    pre: Pre,
    env: AuthorEnv,
    live: Option<(Store<AuthorState>, Instance)>,
    /// The largest result (an HTTP response's body is read up to it).
    max_result: usize,
}

/// What a handler component exports, ready to instantiate.
enum Pre {
    Event(HandlerPre<AuthorState>),
    Http(ProxyPre<AuthorState>),
}

/// A running handler component.
enum Instance {
    Event(Handler),
    Http(Proxy),
}

impl ComponentHandler {
    /// Loads `component`, which must implement the `handler` world or
    /// `wasi:http/proxy`, and starts it; `max_result` bounds its results.
    pub fn load(component: &WasmComponent, env: AuthorEnv, max_result: usize) -> Result<Self> {
        let compiled = env.authors.compile(component)?;
        let instance_pre = env.authors.linker.instantiate_pre(&compiled);
        let pre = instance_pre
            .and_then(|pre| match HandlerPre::new(pre.clone()) {
                Ok(handler) => Ok(Pre::Event(handler)),
                Err(not_a_handler) => ProxyPre::new(pre)
                    .map(Pre::Http)
                    .map_err(|_| not_a_handler),
            })
            .map_err(|e| {
                Error::invalid_arg(format!(
                    "{} is not a handler component (it must export polybox:sandbox/event-handler, or wasi:http/incoming-handler): {e:#}",
                    component.name()
                ))
            })?;
        let mut handler = Self {
            pre,
            env,
            live: None,
            max_result,
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
    fn live(&mut self) -> Result<(&mut Store<AuthorState>, &Instance)> {
        if self.live.is_none() {
            let mut store = self.env.store()?;
            let meter = store.data().meter().clone();
            let instance = meter
                .enter(&mut store, |store| match &self.pre {
                    Pre::Event(pre) => pre.instantiate(store).map(Instance::Event),
                    Pre::Http(pre) => pre.instantiate(store).map(Instance::Http),
                })?
                .map_err(trapped)?;
            self.live = Some((store, instance));
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
        let max_result = self.max_result;
        let (store, instance) = self.live()?;
        let handler = match instance {
            Instance::Event(handler) => handler,
            Instance::Http(proxy) => {
                return super::incoming::serve(store, proxy, event, max_result);
            }
        };
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
