//! The native `Pool`: `polybox::Pool` for Node.js. What each sandbox is
//! made of is gathered first (`NativePoolBlueprint`: handlers, modules,
//! JavaScript host functions), then the pool's factory builds every sandbox
//! from it on the thread pool. Host functions run on the main thread
//! through the same invoker as a single sandbox's, shared by all the
//! pool's sandboxes.

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{AsyncTask, Function, Promise};
use napi_derive::napi;
use polybox::{CallContext, Pool, Strategy};

use crate::args::{
    Options, Text, integer_property, limits, options as options_of, property, string,
    string_property,
};
use crate::builder::NativeSandboxBuilder;
use crate::error::{Result, invalid_arg};
use crate::host_functions::{self, HostReply};
use crate::job::Job;

/// A host function shared by the pool's sandboxes.
type HostFunction =
    Arc<dyn Fn(&str, &CallContext<'_>) -> std::result::Result<String, String> + Send + Sync>;

/// What every sandbox of a pool is made of.
#[derive(Default)]
struct Blueprint {
    handlers: Vec<(String, String)>,
    modules: Vec<(String, String, Option<String>)>,
    functions: Vec<(String, String, HostFunction)>,
}

/// What a pool's sandboxes are made of, gathered before `createPool`.
#[napi]
#[derive(Default)]
pub struct NativePoolBlueprint {
    parts: Mutex<Blueprint>,
}

#[napi]
impl NativePoolBlueprint {
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds handler `name`.
    #[napi]
    pub fn add_handler(&self, name: Text<'_>, source: Text<'_>) -> Result<()> {
        let entry = (string("handler name", name)?, string("source", source)?);
        self.parts().handlers.push(entry);
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
        let namespace = namespace.map(|n| string("namespace", n)).transpose()?;
        let entry = (
            string("module name", name)?,
            string("source", source)?,
            namespace,
        );
        self.parts().modules.push(entry);
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
        self.parts().functions.push(entry);
        Ok(())
    }
}

impl NativePoolBlueprint {
    fn parts(&self) -> std::sync::MutexGuard<'_, Blueprint> {
        self.parts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The options `createPool` takes.
const POOL_OPTIONS: &[&str] = &[
    "size",
    "queueLimit",
    "strategy",
    "wallClockTimeoutMs",
    "cpuTimeoutMs",
    "fuel",
];

/// The options each call takes.
const CALL_OPTIONS: &[&str] = &["wallClockTimeoutMs", "cpuTimeoutMs", "fuel"];

/// Builds a pool of sandboxes made by `builder` from `blueprint`; consumes
/// the builder.
#[napi(
    ts_args_type = "builder: NativeSandboxBuilder, blueprint: NativePoolBlueprint, options?: object | null",
    ts_return_type = "Promise<NativePool>"
)]
pub fn create_pool(
    builder: &mut NativeSandboxBuilder,
    blueprint: &NativePoolBlueprint,
    options: Option<Options<'_>>,
) -> Result<AsyncTask<Job<Pool, NativePool>>> {
    let builder = builder.take()?;
    let parts = std::mem::take(&mut *blueprint.parts());
    let options = options_of(options, POOL_OPTIONS)?;
    let count = |name: &str, default: usize| -> Result<usize> {
        match &options {
            Some(options) => match property(options, name)? {
                Some(value) => Ok(integer_property(name, value)? as usize),
                None => Ok(default),
            },
            None => Ok(default),
        }
    };
    let size = count("size", 2)?;
    let queue_limit = count("queueLimit", 64)?;
    let strategy = match &options {
        Some(options) => match property(options, "strategy")? {
            None => Strategy::default(),
            Some(value) => match string_property("strategy", value)?.as_str() {
                "reuse" => Strategy::Reuse,
                "restore" => Strategy::Restore,
                "new" => Strategy::New,
                other => {
                    return Err(invalid_arg(format!(
                        "strategy must be \"reuse\", \"restore\" or \"new\", not {other:?}"
                    )));
                }
            },
        },
        None => Strategy::default(),
    };
    let call_limits = options
        .as_ref()
        .map(limits)
        .transpose()?
        .unwrap_or_default();
    let parts = Arc::new(parts);
    let build = move || {
        let builder = builder?;
        Pool::builder(move || {
            let mut proto = builder.clone().build()?;
            for (module, name, function) in &parts.functions {
                let function = function.clone();
                proto
                    .host_module(module)?
                    .register_raw_with_context(name, move |args, call| function(args, call))?;
            }
            let mut sandbox = proto.load_runtime()?;
            for (name, source, namespace) in &parts.modules {
                sandbox.add_module(name, source, namespace.as_deref())?;
            }
            for (name, source) in &parts.handlers {
                sandbox.add_handler(name, source.as_str())?;
            }
            Ok(sandbox.get_loaded_sandbox()?)
        })
        .size(size)
        .queue_limit(queue_limit)
        .strategy(strategy)
        .limits(call_limits)
        .build()
    };
    Ok(AsyncTask::new(Job::new(build, |pool| NativePool { pool })))
}

/// Calls over a fixed set of sandboxes (see `polybox::Pool`).
#[napi]
pub struct NativePool {
    pool: Pool,
}

#[napi]
impl NativePool {
    /// Calls handler `name` with `event` (JSON text) in a free sandbox, on
    /// the thread pool; resolves to the JSON result.
    #[napi(
        ts_args_type = "name: string, event: string, options?: object | null",
        ts_return_type = "Promise<string>"
    )]
    pub fn call_handler(
        &self,
        name: Text<'_>,
        event: String,
        options: Option<Options<'_>>,
    ) -> Result<AsyncTask<Job<String, String>>> {
        // No `gc` among a pooled call's options: `call_parts` refuses it.
        let (name, call_limits, _) = crate::loaded::call_parts(name, options, CALL_OPTIONS)?;
        let pool = self.pool.clone();
        let call = move || match call_limits {
            Some(limits) => pool.call_with_limits(&name, &event, &limits),
            None => pool.call(&name, &event),
        };
        Ok(AsyncTask::new(Job::new(call, |json| json)))
    }

    /// How many sandboxes serve calls.
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        self.pool.size() as u32
    }

    /// How many calls wait for a sandbox now.
    #[napi(getter)]
    pub fn queued(&self) -> u32 {
        self.pool.queued() as u32
    }
}
