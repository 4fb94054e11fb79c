//! Where a guest's host calls go.
//!
//! A call names a module by the specifier scripts import it by: `host:<name>`
//! for host functions and host components, `<namespace>:<name>` for
//! component modules. Host components are loaded with the sandbox and stay
//! for its life, like host functions; component modules are replaced each
//! time handlers are loaded.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use super::bindings::CallError;
use super::component::ComponentModule;
use crate::host_fn::{HOST_NAMESPACE, HostFunctions};

fn is_host(specifier: &str) -> bool {
    specifier.starts_with(HOST_NAMESPACE)
}

/// The modules the host implements for one sandbox.
pub(crate) struct Dispatch {
    functions: HostFunctions,
    /// Host components and component modules, by specifier.
    components: RwLock<BTreeMap<String, Arc<ComponentModule>>>,
}

impl Dispatch {
    pub fn new(functions: HostFunctions) -> Self {
        Self {
            functions,
            components: RwLock::default(),
        }
    }

    /// Calls `function` of `module` with `args` (a JSON array).
    pub fn call(&self, module: &str, function: &str, args: &str) -> Result<String, CallError> {
        let component = self
            .components
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(module)
            .cloned();
        if let Some(component) = component {
            return component.call(function, args);
        }
        self.functions
            .call_import(module, function, args)
            .map_err(CallError::Failed)
    }

    /// Adds a host component or component module under its specifier.
    pub fn add(&self, module: ComponentModule) {
        let mut components = self.components.write().unwrap_or_else(|p| p.into_inner());
        components.insert(module.specifier().to_owned(), Arc::new(module));
    }

    /// Drops the component modules, keeping host components.
    pub fn clear_modules(&self) {
        let mut components = self.components.write().unwrap_or_else(|p| p.into_inner());
        components.retain(|specifier, _| is_host(specifier));
    }

    /// Restarts the component modules (not host components) from scratch
    /// when they are next called.
    pub fn discard_module_instances(&self) {
        let components = self.components.read().unwrap_or_else(|p| p.into_inner());
        for (_, module) in components.iter().filter(|(s, _)| !is_host(s)) {
            module.discard();
        }
    }

    /// Every module with its function names, as the guest must learn them.
    pub fn shapes(&self) -> Vec<(String, Vec<String>)> {
        let components = self.components.read().unwrap_or_else(|p| p.into_inner());
        let functions = self.functions.import_shapes().into_iter();
        let components = components
            .values()
            .map(|c| (c.specifier().to_owned(), c.function_names()));
        functions.chain(components).collect()
    }
}
