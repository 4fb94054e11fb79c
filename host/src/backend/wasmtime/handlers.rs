//! [`Handlers`]: where a handler call goes. Handlers written in JavaScript
//! live in the JS guest; handlers written as components each have their own
//! store. Both are entered through the sandbox's meter, so they take the
//! same budgets, kills and monitors.

use std::collections::BTreeMap;

use super::bindings::GuestReport;
use super::component::ComponentHandler;
use super::instance::JsInstance;
use crate::backend::HandlerCall;
use crate::error::Result;

/// What a handler call returns: its result or the guest's error report, or
/// (the outer `Err`) a trap.
pub(super) type HandlerResult = wasmtime::Result<std::result::Result<String, GuestReport>>;

/// The handlers written as components, by name; every other name is the JS
/// guest's.
#[derive(Default)]
pub(super) struct Handlers {
    components: BTreeMap<String, ComponentHandler>,
}

impl Handlers {
    /// Adds (or replaces) a component handler.
    pub fn insert(&mut self, name: &str, handler: ComponentHandler) {
        self.components.insert(name.to_owned(), handler);
    }

    /// Forgets every component handler.
    pub fn clear(&mut self) {
        self.components.clear();
    }

    /// Has every component handler start afresh on its next call: their
    /// state is not part of snapshots.
    pub fn discard_instances(&mut self) {
        for handler in self.components.values_mut() {
            handler.discard();
        }
    }

    /// Calls the handler `call.name` with its event.
    pub fn call(&mut self, js: &mut JsInstance, call: &HandlerCall<'_>) -> Result<HandlerResult> {
        match self.components.get_mut(call.name) {
            Some(handler) => handler.call(call.event),
            None => js.enter(|runtime, store| {
                runtime.call_call_handler(store, call.name, call.event, call.gc)
            }),
        }
    }
}
