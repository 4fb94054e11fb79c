//! The native `NodeRuntime`: programs run as fresh processes
//! (`polybox::Runtime`), each on a worker thread.
//!
//! secure-exec's `NodeRuntime` runs every `exec` as its own process, so
//! runs on one runtime may overlap. Here each run takes an idle
//! `polybox::Runtime` from the pool (or builds one: microseconds) and puts
//! it back when done, so overlapping runs proceed side by side and a busy
//! runtime never blocks another run's worker thread.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use napi::bindgen_prelude::{
    Buffer, Function, JsObjectValue, JsValue, Object, Promise, Undefined, Unknown,
};
use napi::{Either, ValueType};
use napi_derive::napi;
use polybox::{CallLimits, ExecOptions, RuntimeBuilder, SandboxBuilder, SharedFiles};

use crate::abort::NativeAbortToken;
use crate::args::{
    Options, OptionsObject, Text, bytes as bytes_of, describe, integer_property,
    options as options_of, property, string, string_property, timeout_ms,
};
use crate::capabilities::{self, CapabilitiesSpec};
use crate::error::{Result, invalid_arg};
use crate::exchange::FetchResponse;
use crate::host_functions::HostReply;
use crate::job::Job;
use crate::live::Registration;
use crate::loaded::CallStatsJs;
use crate::output::NativeOutput;
use crate::process::{NativeProcess, Processes};
use crate::tools::NativeTools;

/// The options `NodeRuntime.create` takes natively.
const CREATE_OPTIONS: &[&str] = &[
    "env",
    "cwd",
    "memoryLimit",
    "cpuTimeLimitMs",
    "timeout",
    "outputLimit",
    "backend",
    "language",
];

/// The options `exec` and `run` take natively (`signal`, `onStdout` and
/// `onStderr` are `lib.js`'s).
const EXEC_OPTIONS: &[&str] = &[
    "env",
    "cwd",
    "stdin",
    "timeout",
    "cpuTimeLimitMs",
    "args",
    "filename",
    "signal",
    "onStdout",
    "onStderr",
];

/// secure-exec's default working directory.
const DEFAULT_CWD: &str = "/home/user";

/// What a run left behind.
#[napi(object, use_nullable = true)]
pub struct ProgramResult {
    pub stdout: Buffer,
    pub stderr: Buffer,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    pub exit_code: i32,
    /// The JSON of the program's value (`run`).
    pub value: Option<String>,
    pub stats: CallStatsJs,
    /// Why the run did not end by itself: the error's code and message.
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

impl From<polybox::RunOutput> for ProgramResult {
    fn from(run: polybox::RunOutput) -> Self {
        let output = run.output;
        Self {
            stdout: output.stdout.into(),
            stderr: output.stderr.into(),
            stdout_truncated: output.stdout_truncated,
            stderr_truncated: output.stderr_truncated,
            exit_code: output.exit_code,
            value: run.value,
            stats: output.stats.into(),
            error_code: output.error.as_ref().map(|e| e.code().as_str().to_owned()),
            error_message: output.error.as_ref().map(crate::error::message),
        }
    }
}

/// Idle runtimes, and the interrupt handles of every runtime of this
/// `NodeRuntime` (running or not), for `dispose`.
pub struct Pool {
    /// What each runtime is built from (the sandbox's tools can grow).
    builder: Mutex<(RuntimeBuilder, SandboxBuilder)>,
    idle: Mutex<Option<Vec<polybox::Runtime>>>,
    handles: Mutex<Vec<polybox::InterruptHandle>>,
}

impl Pool {
    fn idle(&self) -> MutexGuard<'_, Option<Vec<polybox::Runtime>>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An idle runtime, or a new one; `ERR_CONSUMED` once disposed.
    fn take(&self) -> polybox::Result<(polybox::Runtime, Registration)> {
        let runtime = match self.idle().as_mut() {
            None => return Err(polybox::Error::Consumed("NodeRuntime")),
            Some(idle) => idle.pop(),
        };
        let runtime = match runtime {
            Some(runtime) => runtime,
            None => {
                let runtime = self.build()?;
                self.handles
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(runtime.interrupt_handle());
                runtime
            }
        };
        let registration = Registration::new(runtime.interrupt_handle());
        Ok((runtime, registration))
    }

    /// A new runtime.
    fn build(&self) -> polybox::Result<polybox::Runtime> {
        let (runtime, sandbox) = self
            .builder
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        runtime.sandbox(sandbox).build()
    }

    /// Runs `f` on an idle runtime (every runtime of the pool shares one
    /// filesystem).
    fn with_runtime<R>(
        &self,
        f: impl FnOnce(&polybox::Runtime) -> polybox::Result<R>,
    ) -> polybox::Result<R> {
        let (runtime, _registration) = self.take()?;
        let result = f(&runtime);
        self.give_back(runtime);
        result
    }

    /// Puts a runtime back, unless the pool was disposed meanwhile.
    fn give_back(&self, runtime: polybox::Runtime) {
        if let Some(idle) = self.idle().as_mut() {
            idle.push(runtime);
        }
    }
}

/// A factory of fresh processes for programs.
#[napi]
pub struct NativeRuntime {
    pool: Arc<Pool>,
    processes: Arc<Processes>,
}

/// A process just spawned, with where its runtime goes back and the list
/// it joins.
pub struct Spawned(
    polybox::Process,
    Arc<dyn Fn(polybox::Runtime) + Send + Sync>,
    Arc<Processes>,
);

/// Creates a runtime, checking `options`; the first `polybox::Runtime` is
/// built on a worker thread.
#[napi(
    ts_args_type = "options?: object | null, capabilities?: CapabilitiesSpec | null, tools?: NativeTools | null, http?: ((requestJson: string) => Promise<HostReply>) | null",
    ts_return_type = "Promise<NativeRuntime>"
)]
pub fn create_runtime(
    options: Option<Options<'_>>,
    capabilities: Option<CapabilitiesSpec>,
    tools: Option<&NativeTools>,
    http: Option<Function<'_, String, Promise<HostReply>>>,
) -> Result<Job<Arc<Pool>, NativeRuntime>> {
    let (builder, sandbox) = builders(options, capabilities, tools, http)?;
    Ok(Job::new(
        move || {
            // The first runtime is built here, so that a bad setting fails
            // `create` rather than the first run.
            let first = builder.clone().sandbox(sandbox.clone()).build()?;
            let handles = Mutex::new(vec![first.interrupt_handle()]);
            Ok(Arc::new(Pool {
                builder: Mutex::new((builder, sandbox)),
                idle: Mutex::new(Some(vec![first])),
                handles,
            }))
        },
        |pool| NativeRuntime {
            pool,
            processes: Arc::default(),
        },
    ))
}

/// What a runtime is built from, from `NodeRuntime.create`'s options (also
/// the sessions' of `session.rs`).
pub(crate) fn builders(
    options: Option<Options<'_>>,
    capabilities: Option<CapabilitiesSpec>,
    tools: Option<&NativeTools>,
    http: Option<Function<'_, String, Promise<HostReply>>>,
) -> Result<(RuntimeBuilder, SandboxBuilder)> {
    let mut builder = RuntimeBuilder::new().cwd(DEFAULT_CWD);
    // Every runtime of the pool sees one filesystem, as one VM would.
    let mut sandbox = SandboxBuilder::new().shared_files(SharedFiles::new());
    if let Some(capabilities) = capabilities {
        sandbox = capabilities::apply(sandbox, capabilities)?;
    }
    for tool in tools.map(NativeTools::list).unwrap_or_default() {
        sandbox = sandbox.tool(tool);
    }
    if let Some(invoke) = http {
        sandbox = sandbox.http_handler_with_context(crate::http::handler(
            crate::host_functions::invoker(invoke)?,
        ));
    }
    let mut limits = CallLimits::default();
    if let Some(options) = options_of(options, CREATE_OPTIONS)? {
        for (name, value) in env(&options)? {
            builder = builder.env(name, value);
        }
        if let Some(cwd) = property(&options, "cwd")? {
            builder = builder.cwd(string_property("cwd", cwd)?);
        }
        if let Some(mib) = property(&options, "memoryLimit")? {
            let mib = integer_property("memoryLimit (MiB)", mib)?;
            let bytes = usize::try_from(mib)
                .ok()
                .and_then(|mib| mib.checked_mul(1024 * 1024))
                .ok_or_else(|| invalid_arg("memoryLimit is too large"))?;
            sandbox = sandbox.heap_size(bytes);
        }
        if let Some(ms) = property(&options, "cpuTimeLimitMs")? {
            limits.cpu_time = Some(timeout_ms("cpuTimeLimitMs", ms)?);
        }
        if let Some(ms) = property(&options, "timeout")? {
            limits.wall_clock = Some(timeout_ms("timeout", ms)?);
        }
        if let Some(limit) = property(&options, "outputLimit")? {
            builder = builder.output_limit(bytes_of(
                "outputLimit",
                Either::A(integer_property("outputLimit", limit)? as f64),
            )?);
        }
        if let Some(backend) = property(&options, "backend")? {
            let backend = string_property("backend", backend)?;
            sandbox = sandbox.backend(backend.parse().map_err(crate::error::to_js)?);
        }
        if let Some(language) = property(&options, "language")? {
            let language = string_property("language", language)?;
            sandbox = sandbox.language(language.parse().map_err(crate::error::to_js)?);
        }
    }
    Ok((builder.limits(limits), sandbox))
}

#[napi]
impl NativeRuntime {
    /// Runs `code` as a fresh process. `abort` (from the call's
    /// `AbortSignal`) stops it, reported as `"signal"`; `output` hears its
    /// output while it runs.
    #[napi(
        ts_args_type = "code: string, options?: object | null, abort?: NativeAbortToken | null, output?: NativeOutput | null",
        ts_return_type = "Promise<ProgramResult>"
    )]
    pub fn exec(
        &self,
        code: Text<'_>,
        options: Option<Options<'_>>,
        abort: Option<&NativeAbortToken>,
        output: Option<&NativeOutput>,
    ) -> Result<Job<polybox::RunOutput, ProgramResult>> {
        let code = string("code", code)?;
        let exec = exec_options(options, output)?;
        let abort = abort.map(NativeAbortToken::monitor);
        let pool = self.pool.clone();
        let run = move || {
            let (mut runtime, _registration) = pool.take()?;
            let result = match abort {
                Some(abort) => runtime.run_with_monitor(&code, exec, &abort),
                None => runtime.run(&code, exec),
            };
            pool.give_back(runtime);
            result
        };
        Ok(Job::new(run, ProgramResult::from))
    }

    /// Starts `code` as a process that runs until it exits or is killed
    /// (`NodeRuntime.spawn`), with one of the runtimes.
    #[napi(
        ts_args_type = "code: string, options?: object | null, output?: NativeOutput | null",
        ts_return_type = "Promise<NativeProcess>"
    )]
    pub fn spawn(
        &self,
        code: Text<'_>,
        options: Option<Options<'_>>,
        output: Option<&NativeOutput>,
    ) -> Result<Job<Spawned, NativeProcess>> {
        let code = string("code", code)?;
        let exec = exec_options(options, output)?;
        let (pool, processes) = (self.pool.clone(), self.processes.clone());
        Ok(Job::new(
            move || {
                let (runtime, _registration) = pool.take()?;
                let process = runtime.spawn(&code, exec)?;
                let give_back: Arc<dyn Fn(polybox::Runtime) + Send + Sync> =
                    Arc::new(move |runtime| pool.give_back(runtime));
                Ok(Spawned(process, give_back, processes))
            },
            |Spawned(process, give_back, processes)| {
                NativeProcess::new(process, give_back, processes)
            },
        ))
    }

    /// The pid of the process listening on `port`, if one does.
    #[napi]
    pub fn find_listener(&self, port: u32) -> Option<u32> {
        let port = u16::try_from(port).ok()?;
        self.processes.listening(port).map(|process| process.pid())
    }

    /// Sends a request to the server of the process listening on `port`;
    /// `timeout_ms` bounds the wait for its answer.
    #[napi(ts_return_type = "Promise<FetchResponse>")]
    pub fn fetch(
        &self,
        port: u32,
        method: String,
        path: String,
        headers: Vec<Vec<String>>,
        body: Buffer,
        timeout_ms: u32,
    ) -> Result<Job<polybox::HttpResponse, FetchResponse>> {
        crate::process::fetch(
            self.processes.clone(),
            port,
            method,
            path,
            headers,
            body,
            std::time::Duration::from_millis(u64::from(timeout_ms)),
        )
    }

    /// Adds `tools` to every runtime built from now on, and lets the idle
    /// ones go (runs in progress keep the tools they started with).
    #[napi]
    pub fn add_tools(&self, tools: &NativeTools) -> Result<()> {
        let mut builder = self.pool.builder.lock().unwrap_or_else(|p| p.into_inner());
        for tool in tools.list() {
            builder.1 = builder.1.clone().tool(tool);
        }
        drop(builder);
        if let Some(idle) = self.pool.idle().as_mut() {
            idle.clear();
        }
        Ok(())
    }

    /// Writes `bytes` to the file at guest `path` in the runtime's
    /// filesystem (see `polybox::Runtime::write_file`).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn write_file(&self, path: String, bytes: Buffer) -> Job<(), Undefined> {
        let pool = self.pool.clone();
        let bytes = bytes.to_vec();
        Job::new(
            move || pool.with_runtime(|runtime| runtime.write_file(&path, &bytes)),
            |()| (),
        )
    }

    /// The bytes of the file at guest `path` in the runtime's filesystem.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn read_file(&self, path: String) -> Job<Vec<u8>, Buffer> {
        let pool = self.pool.clone();
        Job::new(
            move || pool.with_runtime(|runtime| runtime.read_file(&path)),
            Buffer::from,
        )
    }

    /// Stops every running program and frees the runtimes; later runs are
    /// `ERR_CONSUMED`.
    #[napi]
    pub fn dispose(&self) -> Undefined {
        drop(self.pool.idle().take());
        self.processes.kill_all();
        for handle in self
            .pool
            .handles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            handle.kill();
        }
    }
}

/// What `exec`, `run` and `spawn` take: `options` and the `output` that
/// hears the program's streams.
fn exec_options(
    options: Option<Options<'_>>,
    output: Option<&NativeOutput>,
) -> Result<ExecOptions> {
    let mut exec = ExecOptions::default();
    if let Some(options) = options_of(options, EXEC_OPTIONS)? {
        exec.env = env(&options)?;
        if let Some(cwd) = property(&options, "cwd")? {
            exec.cwd = Some(string_property("cwd", cwd)?);
        }
        if let Some(stdin) = property(&options, "stdin")? {
            exec.stdin = stdin_bytes(stdin)?;
        }
        if let Some(ms) = property(&options, "timeout")? {
            exec.limits.wall_clock = Some(timeout_ms("timeout", ms)?);
        }
        if let Some(ms) = property(&options, "cpuTimeLimitMs")? {
            exec.limits.cpu_time = Some(timeout_ms("cpuTimeLimitMs", ms)?);
        }
        if let Some(args) = property(&options, "args")? {
            exec.args = strings("args", args)?;
        }
        if let Some(filename) = property(&options, "filename")? {
            exec.filename = Some(string_property("filename", filename)?);
        }
    }
    if let Some(output) = output {
        exec.on_stdout = Some(output.callback(1));
        exec.on_stderr = Some(output.callback(2));
    }
    Ok(exec)
}

/// The `env` option: an object of strings.
fn env(options: &OptionsObject<'_>) -> Result<Vec<(String, String)>> {
    let Some(env) = property(options, "env")? else {
        return Ok(Vec::new());
    };
    if !matches!(env.get_type(), Ok(ValueType::Object)) {
        return Err(invalid_arg(format!(
            "env must be an object of strings, not {}",
            describe(&env)
        )));
    }
    // SAFETY: the value was just found to be an object.
    let env: Object<'_> = unsafe { env.cast() }.map_err(|e| invalid_arg(e.reason))?;
    let mut pairs = BTreeMap::new();
    for name in Object::keys(&env).map_err(|e| invalid_arg(e.reason))? {
        let value: Unknown<'_> = env
            .get_named_property(&name)
            .map_err(|e| invalid_arg(e.reason))?;
        let value = string_property(&format!("env.{name}"), value)?;
        pairs.insert(name, value);
    }
    Ok(pairs.into_iter().collect())
}

/// The `stdin` option: a string or a `Uint8Array`.
fn stdin_bytes(value: Unknown<'_>) -> Result<Vec<u8>> {
    if matches!(value.get_type(), Ok(ValueType::String)) {
        return Ok(string_property("stdin", value)?.into_bytes());
    }
    if value.is_typedarray().unwrap_or(false) {
        // SAFETY: the value was just found to be a typed array.
        let bytes: Option<napi::bindgen_prelude::Uint8Array> = unsafe { value.cast() }.ok();
        if let Some(bytes) = bytes {
            return Ok(bytes.to_vec());
        }
    }
    Err(invalid_arg(format!(
        "stdin must be a string or a Uint8Array, not {}",
        describe(&value)
    )))
}

/// An array of strings.
fn strings(what: &str, value: Unknown<'_>) -> Result<Vec<String>> {
    let expected = || invalid_arg(format!("{what} must be an array of strings"));
    if !value.is_array().unwrap_or(false) {
        return Err(expected());
    }
    // SAFETY: the value was just found to be an array.
    let array: Vec<String> = unsafe { value.cast() }.map_err(|_| expected())?;
    Ok(array)
}
