//! The native `JSSandbox`: handlers and modules, then `getLoadedSandbox()`.

use std::sync::{Arc, Mutex, MutexGuard};

use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;

use crate::component::{ComponentSource, component};
use crate::error::{consumed, to_js};
use crate::job::Job;
use crate::loaded::NativeLoadedSandbox;

/// Shared so a failed load can put the sandbox back.
type Slot = Arc<Mutex<Option<polybox::JSSandbox>>>;

/// A sandbox with its runtime loaded, collecting handlers and modules.
#[napi]
pub struct NativeJsSandbox {
    inner: Slot,
}

impl NativeJsSandbox {
    pub fn new(sandbox: polybox::JSSandbox) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Some(sandbox))),
        }
    }

    fn with<R>(
        &self,
        f: impl FnOnce(&mut polybox::JSSandbox) -> polybox::Result<R>,
    ) -> napi::Result<R> {
        let mut slot = lock(&self.inner);
        let sandbox = slot.as_mut().ok_or_else(|| consumed("JSSandbox"))?;
        f(sandbox).map_err(to_js)
    }
}

fn lock(slot: &Slot) -> MutexGuard<'_, Option<polybox::JSSandbox>> {
    slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[napi]
impl NativeJsSandbox {
    #[napi]
    pub fn add_handler(&self, name: String, source: String) -> napi::Result<()> {
        self.with(|s| s.add_handler(&name, source))
    }

    /// Adds a handler component (the `handler` world).
    #[napi(ts_args_type = "name: string, component: string | Uint8Array")]
    pub fn add_component_handler(&self, name: String, source: ComponentSource) -> napi::Result<()> {
        let component = component(source)?;
        self.with(|s| s.add_component_handler(&name, component))
    }

    #[napi]
    pub fn remove_handler(&self, name: String) -> napi::Result<bool> {
        self.with(|s| s.remove_handler(&name))
    }

    #[napi]
    pub fn clear_handlers(&self) -> napi::Result<()> {
        self.with(|s| {
            s.clear_handlers();
            Ok(())
        })
    }

    #[napi]
    pub fn add_module(
        &self,
        name: String,
        source: String,
        namespace: Option<String>,
    ) -> napi::Result<()> {
        self.with(|s| s.add_module(&name, source, namespace.as_deref()))
    }

    /// Adds a component as module `<namespace>:<name>`.
    #[napi(ts_args_type = "name: string, component: string | Uint8Array, namespace?: string")]
    pub fn add_component_module(
        &self,
        name: String,
        source: ComponentSource,
        namespace: Option<String>,
    ) -> napi::Result<()> {
        let component = component(source)?;
        self.with(|s| s.add_component_module(&name, component, namespace.as_deref()))
    }

    #[napi]
    pub fn remove_module(&self, name: String, namespace: Option<String>) -> napi::Result<bool> {
        self.with(|s| s.remove_module(&name, namespace.as_deref()))
    }

    #[napi]
    pub fn clear_modules(&self) -> napi::Result<()> {
        self.with(|s| {
            s.clear_modules();
            Ok(())
        })
    }

    /// Loads handlers and modules into the guest. On failure this object
    /// keeps the sandbox, so the source can be fixed and loaded again.
    #[napi]
    pub fn get_loaded_sandbox(
        &self,
    ) -> napi::Result<AsyncTask<Job<polybox::LoadedJSSandbox, NativeLoadedSandbox>>> {
        let sandbox = lock(&self.inner)
            .take()
            .ok_or_else(|| consumed("JSSandbox"))?;
        let slot = self.inner.clone();
        let load = move || {
            sandbox.get_loaded_sandbox().map_err(|failure| {
                let (error, sandbox) = failure.into_parts();
                *lock(&slot) = Some(sandbox);
                error
            })
        };
        Ok(AsyncTask::new(Job::new(load, NativeLoadedSandbox::new)))
    }
}
