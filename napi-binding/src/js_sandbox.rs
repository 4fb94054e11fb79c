//! The native `JSSandbox`: handlers and modules, then `getLoadedSandbox()`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use napi_derive::napi;

use crate::abort::NativeAbortToken;
use crate::args::{
    Options, Text, limits, module_parts, optional_string, options as options_of, string,
};
use crate::component::{ComponentSource, component};
use crate::error::{Result, consumed, to_js};
use crate::job::Job;
use crate::live::Registration;
use crate::loaded::NativeLoadedSandbox;

/// Shared so a failed load can put the sandbox back.
type Slot = Arc<Mutex<Option<polybox::JSSandbox>>>;

/// A sandbox with its runtime loaded, collecting handlers and modules.
#[napi]
pub struct NativeJsSandbox {
    inner: Slot,
    /// Set by `dispose()`: a load that fails does not put the sandbox back.
    disposed: Arc<AtomicBool>,
    interrupt: polybox::InterruptHandle,
    _live: Registration,
}

/// The options `getLoadedSandbox` takes (`signal` is `lib.js`'s).
const LOAD_OPTIONS: &[&str] = &["wallClockTimeoutMs", "cpuTimeoutMs", "fuel", "signal"];

impl NativeJsSandbox {
    pub fn new(sandbox: polybox::JSSandbox) -> Self {
        let interrupt = sandbox.interrupt_handle();
        Self {
            _live: Registration::new(interrupt.clone()),
            interrupt,
            disposed: Arc::default(),
            inner: Arc::new(Mutex::new(Some(sandbox))),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut polybox::JSSandbox) -> polybox::Result<R>) -> Result<R> {
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
    #[napi(ts_args_type = "name: string, source: string")]
    pub fn add_handler(&self, name: Text<'_>, source: Text<'_>) -> Result<()> {
        let (name, source) = (
            string("handler name", name)?,
            string("handler code", source)?,
        );
        self.with(|s| s.add_handler(&name, source))
    }

    /// Adds a handler component (the `handler` world).
    #[napi(ts_args_type = "name: string, component: string | Uint8Array")]
    pub fn add_component_handler(&self, name: Text<'_>, source: ComponentSource<'_>) -> Result<()> {
        let name = string("handler name", name)?;
        let component = component(source)?;
        self.with(|s| s.add_component_handler(&name, component))
    }

    #[napi(ts_args_type = "name: string")]
    pub fn remove_handler(&self, name: Text<'_>) -> Result<bool> {
        let name = string("handler name", name)?;
        self.with(|s| s.remove_handler(&name))
    }

    #[napi]
    pub fn clear_handlers(&self) -> Result<()> {
        self.with(|s| {
            s.clear_handlers();
            Ok(())
        })
    }

    #[napi(ts_args_type = "name: string, source: string, namespace?: string")]
    pub fn add_module(
        &self,
        name: Text<'_>,
        source: Text<'_>,
        namespace: Option<Text<'_>>,
    ) -> Result<()> {
        let (name, source, namespace) = module_parts(name, source, namespace)?;
        self.with(|s| s.add_module(&name, source, namespace.as_deref()))
    }

    /// Adds a component as module `<namespace>:<name>`.
    #[napi(ts_args_type = "name: string, component: string | Uint8Array, namespace?: string")]
    pub fn add_component_module(
        &self,
        name: Text<'_>,
        source: ComponentSource<'_>,
        namespace: Option<Text<'_>>,
    ) -> Result<()> {
        let name = string("module name", name)?;
        let namespace = optional_string("module namespace", namespace)?;
        let component = component(source)?;
        self.with(|s| s.add_component_module(&name, component, namespace.as_deref()))
    }

    #[napi(ts_args_type = "name: string, namespace?: string")]
    pub fn remove_module(&self, name: Text<'_>, namespace: Option<Text<'_>>) -> Result<bool> {
        let name = string("module name", name)?;
        let namespace = optional_string("module namespace", namespace)?;
        self.with(|s| s.remove_module(&name, namespace.as_deref()))
    }

    #[napi]
    pub fn clear_modules(&self) -> Result<()> {
        self.with(|s| {
            s.clear_modules();
            Ok(())
        })
    }

    /// Frees the sandbox, stopping a load that is running; using this object
    /// afterwards is `ERR_CONSUMED`.
    #[napi]
    pub fn dispose(&self) {
        self.disposed.store(true, Ordering::SeqCst);
        self.interrupt.kill();
        lock(&self.inner).take();
    }

    /// Whether a load was stopped mid-way or trapped; the next load starts
    /// the guest afresh. `false` while a load runs.
    #[napi(getter)]
    pub fn poisoned(&self) -> bool {
        lock(&self.inner).as_ref().is_some_and(|s| s.poisoned())
    }

    /// Loads handlers and modules into the guest, bounded by `options`
    /// (`wallClockTimeoutMs`, `cpuTimeoutMs`, `fuel`) and `abort`, since
    /// loading runs the handlers' top-level code. On failure this object
    /// keeps the sandbox, so the source can be fixed and loaded again.
    #[napi(
        ts_args_type = "options?: object | null, abort?: NativeAbortToken | null",
        ts_return_type = "Promise<NativeLoadedSandbox>"
    )]
    pub fn get_loaded_sandbox(
        &self,
        options: Option<Options<'_>>,
        abort: Option<&NativeAbortToken>,
    ) -> Result<Job<polybox::LoadedJSSandbox, NativeLoadedSandbox>> {
        let options = options_of(options, LOAD_OPTIONS)?;
        let limits = options
            .as_ref()
            .map(limits)
            .transpose()?
            .unwrap_or_default();
        let monitors = (limits, abort.map(NativeAbortToken::monitor));
        let sandbox = lock(&self.inner)
            .take()
            .ok_or_else(|| consumed("JSSandbox"))?;
        let (slot, disposed) = (self.inner.clone(), self.disposed.clone());
        let load = move || {
            sandbox
                .get_loaded_sandbox_with_monitor(&monitors)
                .map_err(|failure| {
                    let (error, sandbox) = failure.into_parts();
                    if !disposed.load(Ordering::SeqCst) {
                        *lock(&slot) = Some(sandbox);
                    }
                    error
                })
        };
        Ok(Job::new(load, NativeLoadedSandbox::new))
    }
}

/// The way back from a loaded sandbox, defined here, beside the state it
/// returns to.
#[napi]
impl NativeLoadedSandbox {
    /// Unloads every handler and module; resolves to a fresh JSSandbox.
    #[napi(ts_return_type = "Promise<NativeJsSandbox>")]
    pub fn unload(&self) -> Result<Job<polybox::JSSandbox, NativeJsSandbox>> {
        let take = self.take();
        let unload = move || take()?.unload();
        Ok(Job::new(unload, NativeJsSandbox::new))
    }
}
