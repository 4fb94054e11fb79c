//! [`JSSandbox`]: register handlers and modules, then load them.

use std::collections::BTreeMap;
use std::fmt;

use super::core::SandboxCore;
use super::{LoadedJSSandbox, Script};
use crate::backend::{LoadPlan, Source};
use crate::component::WasmComponent;
use crate::error::{Error, ErrorCode, Result};
use crate::metrics::ActiveSandbox;
use crate::monitor::{Arming, InterruptHandle, MonitorSet};
use crate::names::{validate_name, validate_namespace};

/// The namespace of modules added without one: `import ... from 'user:<name>'`.
pub const DEFAULT_NAMESPACE: &str = "user";

/// A sandbox with its JavaScript runtime loaded, collecting handlers and
/// modules. Nothing reaches the guest until [`get_loaded_sandbox`](Self::get_loaded_sandbox).
///
/// ```
/// # fn main() -> polybox::Result<()> {
/// let mut sandbox = polybox::SandboxBuilder::new().build()?.load_runtime()?;
/// sandbox.add_module("math", "export const add = (a, b) => a + b;", None)?;
/// sandbox.add_handler("sum", "import { add } from 'user:math';\nfunction handler(e) { return add(e.a, e.b); }")?;
/// let mut loaded = sandbox.get_loaded_sandbox()?;
/// assert_eq!(loaded.handle_event("sum", r#"{"a":2,"b":3}"#, None)?, "5");
/// # Ok(()) }
/// ```
pub struct JSSandbox {
    core: SandboxCore,
    /// Whether the guest holds registrations from a failed load.
    dirty: bool,
    handlers: BTreeMap<String, Source>,
    modules: BTreeMap<(String, String), Source>,
    _active: ActiveSandbox,
}

impl JSSandbox {
    /// The guest and its surroundings, for a [`Runtime`](crate::Runtime)
    /// built on this sandbox.
    pub(crate) fn into_core(self) -> SandboxCore {
        self.core
    }

    pub(crate) fn new(core: SandboxCore) -> Self {
        Self {
            core,
            dirty: false,
            handlers: BTreeMap::new(),
            modules: BTreeMap::new(),
            _active: ActiveSandbox::new("runtime"),
        }
    }

    /// Adds (or replaces) the handler `name`: ES module source defining a
    /// function named `handler`. It is compiled by `get_loaded_sandbox`.
    pub fn add_handler(&mut self, name: &str, script: impl Into<Script>) -> Result<()> {
        validate_name("handler name", name)?;
        self.handlers
            .insert(name.to_owned(), Source::Script(script.into().into_source()));
        Ok(())
    }

    /// Adds (or replaces) the handler `name` as a component implementing
    /// the `handler` world of `wit/`. It is called through
    /// [`handle_event`](LoadedJSSandbox::handle_event) and
    /// [`handle_event_with_monitor`](LoadedJSSandbox::handle_event_with_monitor)
    /// like a JavaScript handler, with the same monitors, budgets, kill and
    /// stats, in its own instance with its own memory limit (the heap size).
    /// Its state is not part of snapshots: [`restore`](LoadedJSSandbox::restore)
    /// starts it afresh. It is compiled and checked by `get_loaded_sandbox`.
    ///
    /// ```no_run
    /// # fn main() -> polybox::Result<()> {
    /// let mut sandbox = polybox::SandboxBuilder::new().build()?.load_runtime()?;
    /// sandbox.add_component_handler("echo", polybox::WasmComponent::from_file("echo_handler.wasm")?)?;
    /// let mut loaded = sandbox.get_loaded_sandbox()?;
    /// let result = loaded.handle_event("echo", r#"{"x":1}"#, None)?;
    /// # Ok(()) }
    /// ```
    pub fn add_component_handler(&mut self, name: &str, component: WasmComponent) -> Result<()> {
        validate_name("handler name", name)?;
        self.handlers
            .insert(name.to_owned(), Source::Component(component));
        Ok(())
    }

    /// Removes the handler `name`; returns whether it was registered.
    pub fn remove_handler(&mut self, name: &str) -> Result<bool> {
        validate_name("handler name", name)?;
        Ok(self.handlers.remove(name).is_some())
    }

    /// Removes every handler.
    pub fn clear_handlers(&mut self) {
        self.handlers.clear();
    }

    /// Adds (or replaces) an ES module that handlers and other modules import
    /// as `<namespace>:<name>` (`user:<name>` by default). Modules compile
    /// lazily when first imported, so registration order does not matter.
    pub fn add_module(
        &mut self,
        name: &str,
        source: impl Into<String>,
        namespace: Option<&str>,
    ) -> Result<()> {
        let key = module_key(name, namespace)?;
        self.modules.insert(key, Source::Script(source.into()));
        Ok(())
    }

    /// Adds (or replaces) a component as the module `<namespace>:<name>`
    /// (`user:<name>` by default): scripts import its exported functions by
    /// their camelCase names (`word-count` is `wordCount`) and call them
    /// with plain JavaScript values, converted through the component's WIT
    /// types. Arguments that do not fit throw a `TypeError` naming the
    /// function and parameter. Each call runs in the component's own
    /// instance, with its own memory limit (the heap size), bounded by the
    /// calling handler's monitors and budgets. Its state is not part of
    /// snapshots: [`restore`](LoadedJSSandbox::restore) starts it afresh.
    ///
    /// ```no_run
    /// # fn main() -> polybox::Result<()> {
    /// let mut sandbox = polybox::SandboxBuilder::new().build()?.load_runtime()?;
    /// sandbox.add_component_module("textkit", polybox::WasmComponent::from_file("textkit.wasm")?, None)?;
    /// sandbox.add_handler("count", "import { wordCount } from 'user:textkit';\nfunction handler(e) { return wordCount(e.text); }")?;
    /// # Ok(()) }
    /// ```
    pub fn add_component_module(
        &mut self,
        name: &str,
        component: WasmComponent,
        namespace: Option<&str>,
    ) -> Result<()> {
        let key = module_key(name, namespace)?;
        self.modules.insert(key, Source::Component(component));
        Ok(())
    }

    /// Removes a module; returns whether it was registered.
    pub fn remove_module(&mut self, name: &str, namespace: Option<&str>) -> Result<bool> {
        let key = module_key(name, namespace)?;
        Ok(self.modules.remove(&key).is_some())
    }

    /// Removes every module.
    pub fn clear_modules(&mut self) {
        self.modules.clear();
    }

    /// Sends the modules and then the handlers to the guest, compiling and
    /// evaluating each handler (and the modules it imports) and loading
    /// each component.
    ///
    /// On failure (a syntax error, a missing `handler` function, an import of
    /// an unregistered module) the [`LoadError`] carries the error and gives
    /// this sandbox back, so the source can be fixed and loaded again.
    ///
    /// Evaluating a handler runs its top-level code, which nothing bounds
    /// here: for untrusted source, use
    /// [`get_loaded_sandbox_with_monitor`](Self::get_loaded_sandbox_with_monitor).
    pub fn get_loaded_sandbox(self) -> Result<LoadedJSSandbox, LoadError> {
        let arming = self.core.unarmed();
        self.load(Ok(arming))
    }

    /// [`get_loaded_sandbox`](Self::get_loaded_sandbox) bounded by `monitor`
    /// (one monitor or budget, or a tuple racing with OR semantics), as a
    /// handler call is: top-level code that runs too long fails the load
    /// with `ERR_CANCELLED`, and the sandbox comes back in the [`LoadError`]
    /// to be loaded again.
    ///
    /// ```
    /// # fn main() -> polybox::Result<()> {
    /// use std::time::Duration;
    /// use polybox::{ErrorCode, SandboxBuilder, WallClockMonitor};
    ///
    /// let mut sandbox = SandboxBuilder::new().build()?.load_runtime()?;
    /// sandbox.add_handler("stuck", "for (;;) {}\nfunction handler() {}")?;
    /// let limit = WallClockMonitor::new(Duration::from_millis(50))?;
    /// let failure = sandbox.get_loaded_sandbox_with_monitor(&limit).unwrap_err();
    /// assert_eq!(failure.code(), ErrorCode::Cancelled);
    /// let mut sandbox = failure.into_sandbox();
    /// sandbox.add_handler("stuck", "function handler() { return 1; }")?;
    /// assert_eq!(sandbox.get_loaded_sandbox()?.handle_event("stuck", "{}", None)?, "1");
    /// # Ok(()) }
    /// ```
    pub fn get_loaded_sandbox_with_monitor<M: MonitorSet + ?Sized>(
        self,
        monitor: &M,
    ) -> Result<LoadedJSSandbox, LoadError> {
        let armed = self.core.armed(monitor);
        self.load(armed)
    }

    /// Whether the guest is poisoned: a load was stopped mid-way or trapped.
    /// The next [`get_loaded_sandbox`](Self::get_loaded_sandbox) starts the
    /// guest afresh, so a poisoned `JSSandbox` is still usable.
    pub fn poisoned(&self) -> bool {
        self.core.guest.poisoned_by().is_some()
    }

    /// A handle that stops a load in progress from any thread.
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle(self.core.interrupt.clone())
    }

    fn load(mut self, arming: Result<Arming>) -> Result<LoadedJSSandbox, LoadError> {
        match arming.and_then(|arming| self.send(arming)) {
            Ok(()) => Ok(LoadedJSSandbox::new(
                self.core,
                self.handlers.into_keys().collect(),
            )),
            Err(error) => {
                self.dirty = true;
                Err(LoadError {
                    error,
                    sandbox: Box::new(self),
                })
            }
        }
    }

    fn send(&mut self, arming: Arming) -> Result<()> {
        if self.dirty {
            self.core.guest.reset()?;
            self.dirty = false;
        }
        let (modules, handlers) = (&self.modules, &self.handlers);
        self.core.bounded(arming, |guest, id, budgets| {
            guest.load(LoadPlan {
                modules: modules
                    .iter()
                    .map(|((namespace, name), source)| (namespace.as_str(), name.as_str(), source))
                    .collect(),
                handlers: handlers
                    .iter()
                    .map(|(name, source)| (name.as_str(), source))
                    .collect(),
                id,
                budgets,
            })
        })
    }
}

/// The way back from a loaded sandbox, defined here, beside the state it
/// returns to.
impl LoadedJSSandbox {
    /// Unloads every handler and module and discards all guest state,
    /// returning a fresh [`JSSandbox`] with the same host functions. Works on
    /// a poisoned sandbox too.
    pub fn unload(self) -> Result<JSSandbox> {
        let mut core = self.into_core();
        core.guest.reset()?;
        Ok(JSSandbox::new(core))
    }
}

fn module_key(name: &str, namespace: Option<&str>) -> Result<(String, String)> {
    validate_name("module name", name)?;
    let namespace = namespace.unwrap_or(DEFAULT_NAMESPACE);
    validate_namespace(namespace)?;
    Ok((namespace.to_owned(), name.to_owned()))
}

/// A failed [`JSSandbox::get_loaded_sandbox`]: the error, and the sandbox to
/// try again with. Converts into [`Error`] for use with `?`.
pub struct LoadError {
    /// Why loading failed.
    pub error: Error,
    sandbox: Box<JSSandbox>,
}

impl LoadError {
    /// The stable code of the error.
    pub fn code(&self) -> ErrorCode {
        self.error.code()
    }

    /// The sandbox, with its handlers and modules as they were registered.
    pub fn into_sandbox(self) -> JSSandbox {
        *self.sandbox
    }

    /// The error and the sandbox.
    pub fn into_parts(self) -> (Error, JSSandbox) {
        (self.error, *self.sandbox)
    }
}

impl From<LoadError> for Error {
    fn from(load: LoadError) -> Self {
        load.error
    }
}

impl fmt::Debug for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl fmt::Debug for JSSandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JSSandbox")
            .field("backend", &self.core.config.backend)
            .field("handlers", &self.handlers.keys().collect::<Vec<_>>())
            .field(
                "modules",
                &self
                    .modules
                    .keys()
                    .map(|(ns, name)| format!("{ns}:{name}"))
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}
