//! [`ProtoJSSandbox`]: register host functions, then load the runtime.

use std::sync::Arc;

use super::JSSandbox;
use super::core::SandboxCore;
use crate::backend::{GuestImage, instantiate};
use crate::capability::env::EnvCapability;
use crate::capability::fs::{Filesystem, FsCapability};
use crate::capability::host_components::HostComponents;
use crate::capability::host_functions::{HostFunction, HostFunctions, HostModule};
use crate::capability::hostcalls::HostcallCapability;
use crate::capability::net::{NetCapability, Network};
use crate::capability::sockets::SocketsCapability;
use crate::capability::tools::{TOOLS_MODULE, ToolsCapability};
use crate::capability::{Capability, Dispatcher, Installer};
use crate::component::WasmComponent;
use crate::config::SandboxConfig;
use crate::error::{Error, Result};
use crate::monitor::InterruptState;
use crate::names::validate_module_name;

/// A host module's name and its functions' names.
pub(crate) type ModuleShape = (String, Vec<String>);

/// A sandbox before its JavaScript runtime is loaded: the place to register
/// host functions, which guest code imports as `host:<module>`.
///
/// ```
/// # fn main() -> polybox::Result<()> {
/// let mut proto = polybox::SandboxBuilder::new().build()?;
/// proto.host_module("math")?.register("add", |a: f64, b: f64| a + b)?;
/// proto.register("strings", "upper", |s: String| s.to_uppercase())?;
/// let sandbox = proto.load_runtime()?;
/// # let _ = sandbox; Ok(()) }
/// ```
///
/// Cloning it clones the recipe, not a sandbox: host functions are shared
/// closures, so sandboxes built from clones call the same ones.
#[derive(Clone)]
pub struct ProtoJSSandbox {
    config: SandboxConfig,
    functions: HostFunctions,
    components: HostComponents,
}

impl ProtoJSSandbox {
    pub(crate) fn new(config: SandboxConfig) -> Self {
        Self {
            config,
            functions: HostFunctions::default(),
            components: HostComponents::default(),
        }
    }

    /// The host module `name`, to register functions in. Fails with
    /// `ERR_INVALID_ARG` for an empty or unprintable name, or the name of a
    /// host component.
    pub fn host_module(&mut self, name: &str) -> Result<HostModule<'_>> {
        if self.components.has_module(name) {
            return Err(taken(name));
        }
        self.functions.declare_module(name)?;
        Ok(HostModule {
            name: name.to_owned(),
            functions: &mut self.functions,
        })
    }

    /// Shorthand for `host_module(module)?.register(function, f)`.
    pub fn register<Args, F: HostFunction<Args>>(
        &mut self,
        module: &str,
        function: &str,
        f: F,
    ) -> Result<()> {
        self.host_module(module)?.register(function, f)?;
        Ok(())
    }

    /// Makes `component`'s exported functions the host module `module`:
    /// every guest (JavaScript handlers, handler components, component
    /// modules) imports it as `host:<module>`, and each call runs in the
    /// component's own instance, with its own memory limit (the heap size)
    /// and state that lasts as long as the sandbox, like a host function's.
    /// Calls are bounded by the calling handler's monitors and budgets.
    ///
    /// The component is compiled and checked by
    /// [`load_runtime`](Self::load_runtime): one importing what the host
    /// does not provide fails there with `ERR_INVALID_ARG`.
    ///
    /// ```no_run
    /// # fn main() -> polybox::Result<()> {
    /// let mut proto = polybox::SandboxBuilder::new().build()?;
    /// proto.host_component("kv", polybox::WasmComponent::from_file("kv_store.wasm")?)?;
    /// let mut sandbox = proto.load_runtime()?;
    /// sandbox.add_handler("put", "import { set } from 'host:kv';\nfunction handler(e) { set(e.key, e.value); }")?;
    /// # Ok(()) }
    /// ```
    pub fn host_component(&mut self, module: &str, component: WasmComponent) -> Result<()> {
        validate_module_name(module)?;
        if self.functions.has_module(module) {
            return Err(taken(module));
        }
        self.components.insert(module, component);
        Ok(())
    }

    /// Starts the JavaScript runtime with every registered host function and
    /// host component.
    ///
    /// Cost: the first sandbox of a configuration (stack size, fuel
    /// metering) in a process compiles or loads the guest and starts
    /// QuickJS once, about 3 ms (plus the guest's compilation, seconds, the
    /// first time on a machine, then cached on disk); every later one maps
    /// that started runtime copy-on-write, about 0.1 ms.
    pub fn load_runtime(self) -> Result<JSSandbox> {
        self.assemble(None).map(JSSandbox::new)
    }

    /// The host modules guests are told about, with their function names
    /// (the tools are a host module too), and the host components' digests:
    /// what a snapshot must agree on.
    pub(crate) fn shapes(&self) -> (Vec<ModuleShape>, Vec<(&str, &[u8; 32])>) {
        let mut shapes = self.functions.shapes();
        if !self.config.tools.is_empty() {
            let names = self
                .config
                .tools
                .iter()
                .map(|t| t.name().to_owned())
                .collect();
            shapes.push((TOOLS_MODULE.to_owned(), names));
        }
        (shapes, self.components.digests())
    }

    /// What snapshots of this recipe's sandboxes carry, and must match to
    /// restore into one.
    pub(crate) fn fingerprint(&self) -> u64 {
        let (shapes, components) = self.shapes();
        self.config.fingerprint(&shapes, &components)
    }

    /// The configuration, for a sandbox template to record and check.
    pub(crate) fn config(&self) -> &SandboxConfig {
        &self.config
    }

    /// A guest with every capability installed: started afresh and told its
    /// host modules, or started from `start`, a capture (a template's)
    /// taken with the same host modules declared.
    pub(crate) fn assemble(&self, start: Option<&GuestImage>) -> Result<SandboxCore> {
        let fingerprint = self.fingerprint();
        let interrupt = Arc::new(InterruptState::default());
        let dispatcher = Arc::new(Dispatcher::new(
            self.config.log_sink.clone(),
            interrupt.clone(),
        ));
        let mut guest = instantiate(&self.config, dispatcher.clone(), interrupt.clone(), start)?;
        let files = Arc::new(Filesystem::new(
            &self.config.fs,
            self.config.permissions.clone(),
            dispatcher.sandbox_id(),
        )?);
        let network = NetCapability(Arc::new(Network::new(
            self.config.net.clone(),
            self.config.permissions.clone(),
            dispatcher.sandbox_id(),
        )));
        let tools = ToolsCapability {
            tools: &self.config.tools,
            permissions: &self.config.permissions,
        };
        let env = EnvCapability {
            env: &self.config.env,
            permissions: &self.config.permissions,
        };
        let hostcalls = HostcallCapability {
            handler: self.config.hostcalls.as_ref(),
            permissions: &self.config.permissions,
        };
        // What user components are granted comes before they start.
        let capabilities: [&dyn Capability; 8] = [
            &FsCapability(files.clone()),
            &SocketsCapability,
            &env,
            &network,
            &tools,
            &hostcalls,
            &self.functions,
            &self.components,
        ];
        for capability in capabilities {
            capability.install(&mut Installer {
                dispatcher: &dispatcher,
                components: guest.as_mut(),
            })?;
        }
        if start.is_none() {
            guest.declare_modules()?;
        }
        Ok(SandboxCore {
            config: self.config.clone(),
            guest,
            dispatcher,
            interrupt,
            fingerprint,
            files,
        })
    }
}

impl std::fmt::Debug for ProtoJSSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProtoJSSandbox")
            .field("backend", &self.config.backend)
            .field("host_modules", &self.functions)
            .field(
                "host_components",
                &self.components.names().collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

fn taken(module: &str) -> Error {
    Error::invalid_arg(format!(
        "host module {module:?} is defined twice: by host functions and by a host component"
    ))
}
