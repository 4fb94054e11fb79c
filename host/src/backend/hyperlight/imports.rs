//! The host side of the guest's imports on Hyperlight: host functions and
//! the platform services, called by the VM through Hyperlight host
//! functions.

use hyperlight_common::component::Negative;

use super::bindings::polybox::sandbox::host_call::CallError;
use super::bindings::polybox::sandbox::platform::LogLevel as WitLogLevel;
use super::bindings::polybox::sandbox::{HostCall, JsRuntimeImports, Platform, Types};
use crate::host_fn::HostFunctions;
use crate::log::LogSink;
use crate::platform;

/// What the VM's imports reach.
pub(super) struct Imports {
    pub functions: HostFunctions,
    pub log: LogSink,
}

impl HostCall<Negative> for Imports {
    fn call(
        &mut self,
        module: String,
        function: String,
        args: String,
    ) -> Result<String, CallError> {
        self.functions
            .call_import(&module, &function, &args)
            .map_err(CallError::Failed)
    }
}

impl Platform<Negative> for Imports {
    platform::platform_methods!(WitLogLevel);
}

impl Types<Negative> for Imports {}

#[allow(refining_impl_trait)]
impl JsRuntimeImports<Negative> for Imports {
    type HostCall = Self;
    fn host_call(&mut self) -> &mut Self {
        self
    }

    type Platform = Self;
    fn platform(&mut self) -> &mut Self {
        self
    }

    type Types = Self;
    fn types(&mut self) -> &mut Self {
        self
    }
}
