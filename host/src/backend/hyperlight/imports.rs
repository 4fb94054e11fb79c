//! The host side of the guest's imports on Hyperlight: host functions and
//! the platform services, called by the VM through Hyperlight host
//! functions.

use hyperlight_common::component::Negative;

use super::bindings::polybox::sandbox::host_call::CallError;
use super::bindings::polybox::sandbox::platform::LogLevel as WitLogLevel;
use super::bindings::polybox::sandbox::{HostCall, JsRuntimeImports, Platform, Types};
use crate::host_fn::HostFunctions;
use crate::log::{LogLevel, LogSink};
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
    fn log(&mut self, level: WitLogLevel, message: String) {
        let level = match level {
            WitLogLevel::Debug => LogLevel::Debug,
            WitLogLevel::Info => LogLevel::Info,
            WitLogLevel::Warn => LogLevel::Warn,
            WitLogLevel::Error => LogLevel::Error,
        };
        (self.log)(level, &message);
    }

    fn now_ms(&mut self) -> f64 {
        platform::now_ms()
    }

    fn monotonic_ns(&mut self) -> u64 {
        platform::monotonic_ns()
    }

    fn random_bytes(&mut self, len: u32) -> Vec<u8> {
        platform::random_bytes(len)
    }
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
