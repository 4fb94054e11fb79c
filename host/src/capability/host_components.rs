//! Host components: a user's WebAssembly component whose exports every
//! guest of the sandbox imports as `host:<name>`, like host functions.

use std::collections::BTreeMap;

use super::host_functions::HOST_NAMESPACE;
use super::{Capability, Installer, Lifetime};
use crate::component::WasmComponent;
use crate::error::Result;

/// The host components registered for a sandbox, by module name.
#[derive(Clone, Default)]
pub(crate) struct HostComponents {
    components: BTreeMap<String, WasmComponent>,
}

impl HostComponents {
    /// Adds (or replaces) the component serving `host:<module>`.
    pub fn insert(&mut self, module: &str, component: WasmComponent) {
        self.components.insert(module.to_owned(), component);
    }

    /// Whether a component serves `host:<module>`.
    pub fn has_module(&self, module: &str) -> bool {
        self.components.contains_key(module)
    }

    /// Each module name with its component's digest.
    pub fn digests(&self) -> Vec<(&str, &[u8; 32])> {
        self.components
            .iter()
            .map(|(name, component)| (name.as_str(), component.digest()))
            .collect()
    }

    /// The module names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.components.keys().map(String::as_str)
    }
}

/// Each component is started by the backend and kept, with its state, for
/// the sandbox's life.
impl Capability for HostComponents {
    fn install(&self, sandbox: &mut Installer<'_>) -> Result<()> {
        for (name, component) in &self.components {
            let specifier = format!("{HOST_NAMESPACE}{name}");
            let provider = sandbox.components.start_component(&specifier, component)?;
            sandbox
                .dispatcher
                .serve(&specifier, Lifetime::Sandbox, provider)?;
        }
        Ok(())
    }
}
