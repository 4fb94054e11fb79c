//! The native `ProtoJSSandbox`: host functions, then `loadRuntime()`.

use napi::bindgen_prelude::{Function, Promise};
use napi_derive::napi;

use crate::args::{Text, string};
use crate::component::{ComponentSource, component};
use crate::error::{Result, consumed, to_js};
use crate::host_functions::{self, HostReply};
use crate::job::Job;
use crate::js_sandbox::NativeJsSandbox;

/// A sandbox before its runtime is loaded.
#[napi]
pub struct NativeProtoSandbox {
    inner: Option<polybox::ProtoJSSandbox>,
}

impl NativeProtoSandbox {
    pub fn new(proto: polybox::ProtoJSSandbox) -> Self {
        Self { inner: Some(proto) }
    }

    fn proto(&mut self) -> Result<&mut polybox::ProtoJSSandbox> {
        self.inner
            .as_mut()
            .ok_or_else(|| consumed("ProtoJSSandbox"))
    }
}

#[napi]
impl NativeProtoSandbox {
    /// Declares host module `module` (so it can be imported even if empty).
    #[napi(ts_args_type = "module: string")]
    pub fn declare_module(&mut self, module: Text<'_>) -> Result<()> {
        let module = string("module name", module)?;
        self.proto()?.host_module(&module).map_err(to_js)?;
        Ok(())
    }

    /// Registers `invoke` (`lib.js`'s wrapper around the user's callback) as
    /// function `name` of host module `module`.
    #[napi(
        ts_args_type = "module: string, name: string, invoke: (args: string) => Promise<HostReply>"
    )]
    pub fn register(
        &mut self,
        module: Text<'_>,
        name: Text<'_>,
        invoke: Function<String, Promise<HostReply>>,
    ) -> Result<()> {
        let module = string("module name", module)?;
        let name = string("function name", name)?;
        let function = host_functions::raw(host_functions::invoker(invoke)?);
        self.proto()?
            .host_module(&module)
            .and_then(|mut m| m.register_raw_with_context(&name, function).map(|_| ()))
            .map_err(to_js)
    }

    /// Makes a component's exports the host module `module`.
    #[napi(ts_args_type = "module: string, component: string | Uint8Array")]
    pub fn host_component(&mut self, module: Text<'_>, source: ComponentSource<'_>) -> Result<()> {
        let module = string("module name", module)?;
        let component = component(source)?;
        self.proto()?
            .host_component(&module, component)
            .map_err(to_js)
    }

    /// Frees the sandbox; using this object afterwards is `ERR_CONSUMED`.
    #[napi]
    pub fn dispose(&mut self) {
        self.inner = None;
    }

    /// Loads the JavaScript runtime; consumes this object.
    #[napi(ts_return_type = "Promise<NativeJsSandbox>")]
    pub fn load_runtime(&mut self) -> Result<Job<polybox::JSSandbox, NativeJsSandbox>> {
        let proto = self
            .inner
            .take()
            .ok_or_else(|| consumed("ProtoJSSandbox"))?;
        Ok(Job::new(move || proto.load_runtime(), NativeJsSandbox::new))
    }
}
