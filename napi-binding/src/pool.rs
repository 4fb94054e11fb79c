//! The native `Pool`: `polybox::Pool` for Node.js, over sandboxes built
//! from a blueprint (`blueprint.rs`) or created from a template.

use napi_derive::napi;
use polybox::{CallLimits, Pool, PoolBuilder, Strategy};

use crate::args::{
    Options, Text, integer_property, limits, options as options_of, property, string_property,
};
use crate::blueprint::NativeBlueprint;
use crate::builder::NativeSandboxBuilder;
use crate::error::{Result, invalid_arg};
use crate::job::Job;
use crate::template::NativeTemplate;

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

/// A pool's settings, from `createPool`'s options.
struct Settings {
    size: usize,
    queue_limit: usize,
    strategy: Strategy,
    limits: CallLimits,
}

impl Settings {
    fn of(options: Option<Options<'_>>) -> Result<Self> {
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
        Ok(Self {
            size: count("size", 2)?,
            queue_limit: count("queueLimit", 64)?,
            strategy,
            limits: options
                .as_ref()
                .map(limits)
                .transpose()?
                .unwrap_or_default(),
        })
    }

    /// Builds the pool on a worker thread.
    fn build(
        self,
        pool: impl FnOnce() -> polybox::Result<PoolBuilder> + Send + 'static,
    ) -> Job<Pool, NativePool> {
        let build = move || {
            pool()?
                .size(self.size)
                .queue_limit(self.queue_limit)
                .strategy(self.strategy)
                .limits(self.limits)
                .build()
        };
        Job::new(build, |pool| NativePool { pool })
    }
}

/// Builds a pool of sandboxes made by `builder` from `blueprint`; consumes
/// the builder.
#[napi(
    ts_args_type = "builder: NativeSandboxBuilder, blueprint: NativeBlueprint, options?: object | null",
    ts_return_type = "Promise<NativePool>"
)]
pub fn create_pool(
    builder: &mut NativeSandboxBuilder,
    blueprint: &NativeBlueprint,
    options: Option<Options<'_>>,
) -> Result<Job<Pool, NativePool>> {
    let builder = builder.take()?;
    let parts = blueprint.take();
    let settings = Settings::of(options)?;
    Ok(settings.build(move || {
        let builder = builder?;
        Ok(Pool::builder(move || parts.load(builder.clone())))
    }))
}

/// Builds a pool of sandboxes created from `template`.
#[napi(
    ts_args_type = "template: NativeTemplate, options?: object | null",
    ts_return_type = "Promise<NativePool>"
)]
pub fn create_template_pool(
    template: &NativeTemplate,
    options: Option<Options<'_>>,
) -> Result<Job<Pool, NativePool>> {
    let template = template.template().clone();
    let settings = Settings::of(options)?;
    Ok(settings.build(move || Ok(Pool::of(template))))
}

/// Calls over a fixed set of sandboxes (see `polybox::Pool`).
#[napi]
pub struct NativePool {
    pool: Pool,
}

#[napi]
impl NativePool {
    /// Calls handler `name` with `event` (JSON text) in a free sandbox, on
    /// a worker thread; resolves to the JSON result.
    #[napi(
        ts_args_type = "name: string, event: string, options?: object | null",
        ts_return_type = "Promise<string>"
    )]
    pub fn call_handler(
        &self,
        name: Text<'_>,
        event: String,
        options: Option<Options<'_>>,
    ) -> Result<Job<String, String>> {
        // No `gc` among a pooled call's options: `call_parts` refuses it.
        let (name, call_limits, _) = crate::loaded::call_parts(name, options, CALL_OPTIONS)?;
        let pool = self.pool.clone();
        let call = move || match call_limits {
            Some(limits) => pool.call_with_limits(&name, &event, &limits),
            None => pool.call(&name, &event),
        };
        Ok(Job::new(call, |json| json))
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
