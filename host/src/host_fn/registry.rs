//! The set of host functions a sandbox offers its guests.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use super::RawHostFunction;
use super::typed::{FallibleHostFunction, HostFunction};
use crate::error::Result;
use crate::names::{validate_module_name, validate_name};

/// How scripts' import specifiers name host modules: `host:<module>`.
pub(crate) const HOST_NAMESPACE: &str = "host:";

/// Host functions by module, then by function name.
#[derive(Clone, Default)]
pub(crate) struct HostFunctions {
    modules: BTreeMap<String, BTreeMap<String, Arc<RawHostFunction>>>,
}

impl HostFunctions {
    /// Adds (or replaces) `module.function`.
    pub fn insert(&mut self, module: &str, function: &str, f: Arc<RawHostFunction>) -> Result<()> {
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

    /// Every module by the specifier scripts import it by (`host:<name>`),
    /// with its function names, as the guest must learn them.
    pub fn import_shapes(&self) -> Vec<(String, Vec<String>)> {
        self.shapes()
            .into_iter()
            .map(|(name, functions)| (format!("{HOST_NAMESPACE}{name}"), functions))
            .collect()
    }

    /// Calls `function` of the module scripts import as `specifier`
    /// (`host:<module>`); see [`call`](Self::call).
    pub fn call_import(
        &self,
        specifier: &str,
        function: &str,
        args: &str,
    ) -> Result<String, String> {
        match specifier.strip_prefix(HOST_NAMESPACE) {
            Some(module) => self.call(module, function, args),
            None => Err(format!("no module {specifier:?} is registered")),
        }
    }

    /// Every module with its function names.
    pub fn shapes(&self) -> Vec<(String, Vec<String>)> {
        self.modules
            .iter()
            .map(|(module, functions)| (module.clone(), functions.keys().cloned().collect()))
            .collect()
    }

    /// Calls `module.function` with `args` (a JSON array). A missing function,
    /// an error, a panic or a result that is not JSON becomes an error message
    /// for the guest, which sees it as a catchable exception.
    pub fn call(&self, module: &str, function: &str, args: &str) -> Result<String, String> {
        let f = self
            .modules
            .get(module)
            .and_then(|functions| functions.get(function))
            .ok_or_else(|| format!("host function {module}.{function} is not registered"))?;
        let result = catch_unwind(AssertUnwindSafe(|| f(args))).map_err(|panic| {
            let detail = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_owned());
            format!("host function {module}.{function} panicked: {detail}")
        })??;
        if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&result) {
            return Err(format!(
                "host function {module}.{function} returned invalid JSON: {e}"
            ));
        }
        Ok(result)
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

    fn register_raw_arc(&mut self, function: &str, f: Arc<RawHostFunction>) -> Result<&mut Self> {
        self.functions.insert(&self.name, function, f)?;
        Ok(self)
    }
}

impl std::fmt::Debug for HostFunctions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.shapes()).finish()
    }
}
