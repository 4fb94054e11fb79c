//! The native `Blueprint`: what every sandbox of a pool or a template is
//! made of (handlers, modules, JavaScript host functions), gathered on the
//! main thread before the sandboxes are built on a worker thread. Host
//! functions run on the main thread through the same invoker as a single
//! sandbox's, shared by every sandbox built from the blueprint.

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{Function, Promise};
use napi_derive::napi;
use polybox::{CallContext, LoadedJSSandbox, ProtoJSSandbox, SandboxBuilder, TemplateBuilder};

use crate::args::{Text, module_parts, string};
use crate::error::Result;
use crate::host_functions::{self, HostReply};

/// A host function shared by the sandboxes of a blueprint.
type HostFunction =
    Arc<dyn Fn(&str, &CallContext<'_>) -> std::result::Result<String, String> + Send + Sync>;

/// What every sandbox is made of.
#[derive(Default)]
pub(crate) struct Parts {
    handlers: Vec<(String, String)>,
    modules: Vec<(String, String, Option<String>)>,
    functions: Vec<(String, String, HostFunction)>,
}

impl Parts {
    /// A recipe from `builder` with the host functions registered.
    pub fn proto(&self, builder: SandboxBuilder) -> polybox::Result<ProtoJSSandbox> {
        let mut proto = builder.build()?;
        for (module, name, function) in &self.functions {
            let function = function.clone();
            proto
                .host_module(module)?
                .register_raw_with_context(name, move |args, call| function(args, call))?;
        }
        Ok(proto)
    }

    /// A sandbox of `builder` with the modules and handlers loaded.
    pub fn load(&self, builder: SandboxBuilder) -> polybox::Result<LoadedJSSandbox> {
        let mut sandbox = self.proto(builder)?.load_runtime()?;
        for (name, source, namespace) in &self.modules {
            sandbox.add_module(name, source, namespace.as_deref())?;
        }
        for (name, source) in &self.handlers {
            sandbox.add_handler(name, source.as_str())?;
        }
        Ok(sandbox.get_loaded_sandbox()?)
    }

    /// A template of `proto` with the modules and handlers.
    pub fn template(&self, proto: ProtoJSSandbox) -> TemplateBuilder {
        let mut template = polybox::Template::builder(proto);
        for (name, source, namespace) in &self.modules {
            template = template.module(name, source.as_str(), namespace.as_deref());
        }
        for (name, source) in &self.handlers {
            template = template.handler(name, source.as_str());
        }
        template
    }
}

/// What sandboxes are made of, gathered before `createPool` or
/// `buildTemplate`.
#[napi]
#[derive(Default)]
pub struct NativeBlueprint {
    parts: Mutex<Parts>,
}

#[napi]
impl NativeBlueprint {
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds handler `name`.
    #[napi]
    pub fn add_handler(&self, name: Text<'_>, source: Text<'_>) -> Result<()> {
        let entry = (string("handler name", name)?, string("source", source)?);
        self.lock().handlers.push(entry);
        Ok(())
    }

    /// Adds module `name` (in `namespace`, `user` by default).
    #[napi(ts_args_type = "name: string, source: string, namespace?: string | null")]
    pub fn add_module(
        &self,
        name: Text<'_>,
        source: Text<'_>,
        namespace: Option<Text<'_>>,
    ) -> Result<()> {
        let entry = module_parts(name, source, namespace)?;
        self.lock().modules.push(entry);
        Ok(())
    }

    /// Registers `invoke` as function `name` of host module `module`.
    #[napi(
        ts_args_type = "module: string, name: string, invoke: (args: string) => Promise<HostReply>"
    )]
    pub fn register(
        &self,
        module: Text<'_>,
        name: Text<'_>,
        invoke: Function<String, Promise<HostReply>>,
    ) -> Result<()> {
        let function: HostFunction =
            Arc::new(host_functions::raw(host_functions::invoker(invoke)?));
        let entry = (
            string("module name", module)?,
            string("function name", name)?,
            function,
        );
        self.lock().functions.push(entry);
        Ok(())
    }
}

impl NativeBlueprint {
    fn lock(&self) -> std::sync::MutexGuard<'_, Parts> {
        self.parts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The parts gathered, leaving this blueprint empty.
    pub(crate) fn take(&self) -> Arc<Parts> {
        Arc::new(std::mem::take(&mut *self.lock()))
    }
}
