//! The host side of the guest's imports on Hyperlight: the VM's host
//! functions, served by the sandbox's dispatcher.

use std::sync::Arc;

use hyperlight_common::component::Negative;

use super::bindings::polybox::sandbox::host_call::CallError;
use super::bindings::polybox::sandbox::platform::LogLevel as WitLogLevel;
use super::bindings::polybox::sandbox::{HostCall, JsRuntimeImports, Platform, Process, Types};
use crate::capability::Dispatcher;

/// What the VM's imports reach.
pub(super) struct Imports {
    pub dispatcher: Arc<Dispatcher>,
}

impl HostCall<Negative> for Imports {
    crate::capability::host_call_import!(CallError, |imports| &imports.dispatcher);
}

impl Platform<Negative> for Imports {
    crate::capability::platform_imports!(WitLogLevel);
}

impl Process<Negative> for Imports {
    // The VM has no deadline of its own: monitors and kills stop a wait.
    crate::capability::process_imports!(|_imports| None);
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

    type Process = Self;
    fn process(&mut self) -> &mut Self {
        self
    }

    type Types = Self;
    fn types(&mut self) -> &mut Self {
        self
    }
}
