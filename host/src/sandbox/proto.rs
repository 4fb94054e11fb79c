//! [`ProtoJSSandbox`]: register host functions, then load the runtime.

use std::sync::Arc;

use super::JSSandbox;
use super::core::SandboxCore;
use crate::backend::{HostEnv, instantiate};
use crate::config::SandboxConfig;
use crate::error::Result;
use crate::host_fn::{HostFunction, HostFunctions, HostModule};
use crate::monitor::InterruptState;

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
pub struct ProtoJSSandbox {
    config: SandboxConfig,
    functions: HostFunctions,
}

impl ProtoJSSandbox {
    pub(crate) fn new(config: SandboxConfig) -> Self {
        Self {
            config,
            functions: HostFunctions::default(),
        }
    }

    /// The host module `name`, to register functions in. Fails with
    /// `ERR_INVALID_ARG` for an empty or unprintable name.
    pub fn host_module(&mut self, name: &str) -> Result<HostModule<'_>> {
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

    /// Starts the JavaScript runtime with every registered host function.
    pub fn load_runtime(self) -> Result<JSSandbox> {
        let fingerprint = self.config.fingerprint(&self.functions.shapes());
        let env = Arc::new(HostEnv {
            functions: self.functions,
            log: self.config.log_sink.clone(),
        });
        let interrupt = Arc::new(InterruptState::default());
        let guest = instantiate(&self.config, env, interrupt.clone())?;
        Ok(JSSandbox::new(SandboxCore {
            config: self.config,
            guest,
            interrupt,
            fingerprint,
        }))
    }
}

impl std::fmt::Debug for ProtoJSSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProtoJSSandbox")
            .field("backend", &self.config.backend)
            .field("host_modules", &self.functions)
            .finish_non_exhaustive()
    }
}
