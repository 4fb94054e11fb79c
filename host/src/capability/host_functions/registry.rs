//! The host functions registered for a sandbox, and the capability that
//! serves them.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::module::FunctionModule;
use super::typed::{FallibleHostFunction, HostFunction};
use super::{CallContext, RawHostFunction, RawHostFunctionWithContext};
use crate::capability::{Capability, Installer, Lifetime};
use crate::error::Result;
use crate::names::{validate_module_name, validate_name};

/// How scripts' import specifiers name host modules: `host:<module>`.
pub(crate) const HOST_NAMESPACE: &str = "host:";

/// Host functions by module, then by function name.
#[derive(Clone, Default)]
pub(crate) struct HostFunctions {
    modules: BTreeMap<String, BTreeMap<String, Arc<RawHostFunctionWithContext>>>,
}

impl HostFunctions {
    /// Adds (or replaces) `module.function`.
    pub fn insert(
        &mut self,
        module: &str,
        function: &str,
        f: Arc<RawHostFunctionWithContext>,
    ) -> Result<()> {
        validate_module_name(module)?;
        validate_name("host function name", function)?;
        self.modules
            .entry(module.to_owned())
            .or_default()
            .insert(function.to_owned(), f);
        Ok(())
    }

    /// Declares an empty module, so `import * as m from "host:<module>"` works.
    pub fn declare_module(&mut self, module: &str) -> Result<()> {
        validate_module_name(module)?;
        self.modules.entry(module.to_owned()).or_default();
        Ok(())
    }

    /// Whether a module of that name is declared.
    pub fn has_module(&self, module: &str) -> bool {
        self.modules.contains_key(module)
    }

    /// Every module with its function names.
    pub fn shapes(&self) -> Vec<(String, Vec<String>)> {
        self.modules
            .iter()
            .map(|(module, functions)| (module.clone(), functions.keys().cloned().collect()))
            .collect()
    }
}

/// Each host module is served as `host:<module>`, for the sandbox's life.
impl Capability for HostFunctions {
    fn install(&self, sandbox: &mut Installer<'_>) -> Result<()> {
        for (name, functions) in &self.modules {
            let module = FunctionModule {
                name: name.clone(),
                functions: functions.clone(),
            };
            sandbox.dispatcher.serve(
                &format!("{HOST_NAMESPACE}{name}"),
                Lifetime::Sandbox,
                Arc::new(module),
            )?;
        }
        Ok(())
    }
}

/// A builder for the functions of one host module, from
/// [`ProtoJSSandbox::host_module`](crate::ProtoJSSandbox::host_module).
pub struct HostModule<'a> {
    pub(crate) name: String,
    pub(crate) functions: &'a mut HostFunctions,
}

impl HostModule<'_> {
    /// Registers a typed function. Its arguments are deserialised from the
    /// guest's JSON array (a wrong count or type is an error the guest can
    /// catch) and its result is serialised back.
    ///
    /// ```
    /// # fn main() -> polybox::Result<()> {
    /// let mut proto = polybox::SandboxBuilder::new().build()?;
    /// proto.host_module("math")?.register("add", |a: f64, b: f64| a + b)?;
    /// # Ok(()) }
    /// ```
    pub fn register<Args, F: HostFunction<Args>>(
        &mut self,
        function: &str,
        f: F,
    ) -> Result<&mut Self> {
        self.register_raw_arc(function, f.into_raw())
    }

    /// Registers a typed function that can fail: an `Err` reaches the guest as
    /// an exception carrying the error's message.
    pub fn register_fallible<Args, F: FallibleHostFunction<Args>>(
        &mut self,
        function: &str,
        f: F,
    ) -> Result<&mut Self> {
        self.register_raw_arc(function, f.into_raw())
    }

    /// Registers a function in raw form: it receives the JSON array of
    /// arguments and returns JSON text, or an error message for the guest.
    pub fn register_raw(
        &mut self,
        function: &str,
        f: impl Fn(&str) -> Result<String, String> + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        self.register_raw_arc(function, Arc::new(f))
    }

    /// Registers a function in raw form that also receives the
    /// [`CallContext`] of the call it serves, to give up when the call is
    /// stopped (a monitor, a budget or `kill()`) while it waits.
    pub fn register_raw_with_context(
        &mut self,
        function: &str,
        f: impl Fn(&str, &CallContext<'_>) -> Result<String, String> + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        self.functions.insert(&self.name, function, Arc::new(f))?;
        Ok(self)
    }

    fn register_raw_arc(&mut self, function: &str, f: Arc<RawHostFunction>) -> Result<&mut Self> {
        self.register_raw_with_context(function, move |args, _| f(args))
    }
}

impl std::fmt::Debug for HostFunctions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.shapes()).finish()
    }
}
