//! [`Runtime`]: a sandbox kept for programs, each run as a fresh process.

use std::sync::Arc;

use super::builder::{RuntimeBuilder, check_cwd, check_env_name};
use super::output::{EXIT_CRASHED, EXIT_KILLED, EXIT_TIMEOUT};
use super::{ExecOptions, ExecOutput, Process, RunOutput};
use crate::backend::{GuestImage, ProgramCall, ProgramExit};
use crate::capability::env;
use crate::capability::process::{OutputCallback, OutputStream, Pipe, Stdio};
use crate::capability::sockets::Listeners;
use crate::error::{Error, Result};
use crate::metrics::ActiveSandbox;
use crate::monitor::{CallLimits, InterruptHandle, MonitorSet};
use crate::sandbox::SandboxCore;
use crate::stats::measure;

/// The file name of code given as a string, as `node -e` names it.
const EVAL_NAME: &str = "[eval]";

/// Runs programs (ES modules or CommonJS scripts) as fresh processes in one
/// sandbox. See the [module docs](crate::program).
pub struct Runtime {
    core: SandboxCore,
    /// The guest as it started: every program starts from it.
    start: GuestImage,
    /// Whether the guest has run a program since it was at `start`.
    dirty: bool,
    /// Whether the last run ended by itself, leaving a process a next run
    /// may continue (`ExecOptions::continue_process`).
    continuable: bool,
    env: Vec<(String, String)>,
    args: Vec<String>,
    cwd: String,
    limits: CallLimits,
    output_limit: usize,
    _active: ActiveSandbox,
}

impl Runtime {
    /// A builder: sandbox, environment, arguments, limits.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::new()
    }

    pub(super) fn new(builder: RuntimeBuilder) -> Result<Self> {
        let mut core = builder.proto()?.load_runtime()?.into_core();
        let start = core.guest.start_image()?;
        Ok(Self::from_core(core, start, builder))
    }

    /// A runtime whose guest is `core`'s, at `start`, which every fresh
    /// process starts from; `builder` gives its environment, arguments,
    /// working directory and limits (its sandbox settings are `core`'s).
    pub(crate) fn from_core(core: SandboxCore, start: GuestImage, builder: RuntimeBuilder) -> Self {
        Self {
            core,
            start,
            dirty: false,
            continuable: false,
            env: builder.env,
            args: builder.args,
            cwd: builder.cwd,
            limits: builder.limits,
            output_limit: builder.output_limit,
            _active: ActiveSandbox::new("program-runtime"),
        }
    }

    /// Runs `code` as a fresh process and returns what it wrote and how it
    /// ended. A program's own failures (a syntax error, an uncaught
    /// exception, `process.exit(2)`) are its exit code and standard error,
    /// as in Node.js; so is a stop: a limit gives [`EXIT_TIMEOUT`], a kill
    /// [`EXIT_KILLED`], a guest crash [`EXIT_CRASHED`], with the output
    /// written until then.
    ///
    /// Fails with `ERR_INVALID_ARG`, before anything runs, when the source
    /// or stdin is larger than the sandbox's input buffer, an environment
    /// variable name or the working directory is malformed, or a limit is
    /// zero.
    pub fn exec(&mut self, code: &str, options: ExecOptions) -> Result<ExecOutput> {
        self.run(code, options).map(|run| run.output)
    }

    /// [`exec`](Self::exec), also returning the program's value: what it
    /// passed to `__return(value)`, else an ES module's default export.
    ///
    /// ```
    /// # fn main() -> polybox::Result<()> {
    /// let mut runtime = polybox::Runtime::builder().build()?;
    /// let run = runtime.run("export default { sum: 1 + 2 }", Default::default())?;
    /// assert_eq!(run.value.as_deref(), Some(r#"{"sum":3}"#));
    /// # Ok(()) }
    /// ```
    pub fn run(&mut self, code: &str, options: ExecOptions) -> Result<RunOutput> {
        self.run_with_monitor(code, options, &None::<CallLimits>)
    }

    /// [`exec`](Self::exec), also bounded by `monitor` (any monitor set, as
    /// [`handle_event_with_monitor`](crate::LoadedJSSandbox::handle_event_with_monitor)
    /// takes), which races with the limits.
    pub fn exec_with_monitor<M: MonitorSet + ?Sized>(
        &mut self,
        code: &str,
        options: ExecOptions,
        monitor: &M,
    ) -> Result<ExecOutput> {
        self.run_with_monitor(code, options, monitor)
            .map(|run| run.output)
    }

    /// [`run`](Self::run), also bounded by `monitor`.
    pub fn run_with_monitor<M: MonitorSet + ?Sized>(
        &mut self,
        code: &str,
        options: ExecOptions,
        monitor: &M,
    ) -> Result<RunOutput> {
        self.run_with_events(code, options, monitor, None, None)
    }

    /// Runs `code` as a process on a thread of its own, which the runtime
    /// goes with: see [`Process`]. Its standard input starts with
    /// `options.stdin` and stays open until [`ProcessHandle::close_stdin`](super::ProcessHandle::close_stdin); its
    /// output reaches `options.on_stdout` and `on_stderr` as it is written.
    ///
    /// ```
    /// # fn main() -> polybox::Result<()> {
    /// use std::time::Duration;
    /// use polybox::{ExecOptions, HttpRequest, Runtime};
    ///
    /// let runtime = Runtime::builder().build()?;
    /// let server = runtime.spawn(
    ///     "require('http').createServer((req, res) => res.end(`hello ${req.url}`)).listen(3000)",
    ///     ExecOptions::default(),
    /// )?;
    /// server.wait_for_listener(3000, Duration::from_secs(10))?;
    /// let response = server.fetch(3000, HttpRequest::new("GET", "http://localhost:3000/there"))?;
    /// assert_eq!(response.body, b"hello /there");
    /// server.kill();
    /// let (output, _runtime) = server.wait()?;
    /// assert_eq!(output.exit_code, polybox::program::EXIT_KILLED);
    /// # Ok(()) }
    /// ```
    pub fn spawn(self, code: &str, options: ExecOptions) -> Result<Process> {
        self.check(code, &options)?;
        Process::spawn(self, code, options)
    }

    /// The ports programs of this runtime listen on, and requests to them.
    pub fn listeners(&self) -> Listeners {
        Listeners(self.core.dispatcher.sockets().clone())
    }

    /// [`run_with_monitor`](Self::run_with_monitor) with standard input from
    /// `pipe`, for [`Process`].
    pub(super) fn run_piped<M: MonitorSet + ?Sized>(
        &mut self,
        code: &str,
        options: ExecOptions,
        monitor: &M,
        pipe: Arc<Pipe>,
    ) -> Result<RunOutput> {
        self.run_with_events(code, options, monitor, None, Some(pipe))
    }

    /// [`run_with_monitor`](Self::run_with_monitor), a session's records
    /// (fd 3) handed to `events` as they are written, standard input from
    /// `pipe` if there is one.
    pub(crate) fn run_with_events<M: MonitorSet + ?Sized>(
        &mut self,
        code: &str,
        options: ExecOptions,
        monitor: &M,
        events: Option<OutputCallback>,
        pipe: Option<Arc<Pipe>>,
    ) -> Result<RunOutput> {
        let mut arming = self.core.armed(&self.limits_for(&options.limits))?;
        monitor.arm(&mut arming)?;
        self.check(code, &options)?;
        if self.dirty && !(options.continue_process && self.continuable) {
            self.core.guest.restore(&self.start)?;
        }
        self.dirty = true;
        self.continuable = false;

        let mut env = self.env.clone();
        for (name, value) in options.env {
            env.retain(|(existing, _)| *existing != name);
            env.push((name, value));
        }
        let env = env::visible(
            &self.core.config.permissions,
            self.core.dispatcher.sandbox_id(),
            env,
        );
        let args = if options.args.is_empty() {
            self.args.clone()
        } else {
            options.args
        };
        let cwd = options.cwd.unwrap_or_else(|| self.cwd.clone());
        let filename = options
            .filename
            .unwrap_or_else(|| format!("{}/{EVAL_NAME}", cwd.trim_end_matches('/')));
        let output_limit = options.output_limit.unwrap_or(self.output_limit);
        let dispatcher = Arc::clone(&self.core.dispatcher);
        let process = dispatcher.process();
        let mut stdio = Stdio::new(
            options.stdin,
            OutputStream::new(output_limit, options.on_stdout),
            OutputStream::new(output_limit, options.on_stderr),
        );
        // Records are heard, not kept.
        stdio.events = events.map(|events| OutputStream::new(0, Some(events)));
        if let Some(pipe) = pipe {
            stdio = stdio.piped(pipe);
        }
        // Ports belong to the process: a fresh table for each.
        let sockets = dispatcher.sockets().clone();
        sockets.reset();
        process.begin(stdio);
        let interrupt = Arc::clone(&self.core.interrupt);
        let (result, stats) = measure(|| {
            let run = self.core.bounded(arming, |guest, id, budgets| {
                let outcome = guest.run_program(ProgramCall {
                    source: code,
                    kind: options.kind,
                    filename: &filename,
                    args: &args,
                    env: &env,
                    cwd: &cwd,
                    id,
                    budgets,
                });
                // A program stopped while it waited may end by itself
                // before the stop reaches it: it was stopped all the same.
                let result = match (outcome.result, interrupt.stop_reason(id)) {
                    (Ok(_), Some(reason)) => Err(Error::Cancelled(reason)),
                    (result, _) => result,
                };
                Ok((result, outcome.fuel_consumed))
            });
            match run {
                Ok((result, fuel)) => (result, fuel),
                Err(error) => (Err(error), None),
            }
        });
        sockets.reset();
        let stdio = process
            .end()
            .ok_or_else(|| Error::Internal("the program's streams were lost".into()))?;
        let (exit_code, value, error) = match result {
            Ok(ProgramExit { code, value }) => (code, value, None),
            Err(error) => match exit_code_of(&error) {
                Some(code) => (code, None, Some(error)),
                None => return Err(error),
            },
        };
        self.continuable = error.is_none();
        Ok(RunOutput {
            value,
            output: ExecOutput {
                stdout: stdio.stdout.captured,
                stderr: stdio.stderr.captured,
                stdout_truncated: stdio.stdout.truncated,
                stderr_truncated: stdio.stderr.truncated,
                exit_code,
                stats,
                error,
            },
        })
    }

    /// Writes `bytes` to the file at guest `path` (absolute) in the
    /// runtime's filesystem, making directories as needed: programs may read
    /// and write it from their next run, as a seeded file (the permissions
    /// can still narrow that). In memory unless `path` lies in a writable
    /// mount; fails with `ERR_INVALID_ARG` naming the error (`EROFS` in a
    /// read-only mount, `ENOSPC` past the memory limit).
    pub fn write_file(&self, path: &str, bytes: &[u8]) -> Result<()> {
        self.core.files.host_write(path, bytes)
    }

    /// The bytes of the file at guest `path` in the runtime's filesystem
    /// (what programs wrote, seeded files, mounted ones); `ERR_INVALID_ARG`
    /// naming the error (`ENOENT`, `EISDIR`) when there is none.
    pub fn read_file(&self, path: &str) -> Result<Vec<u8>> {
        self.core.files.host_read(path)
    }

    /// Forgets what programs and the host wrote to the runtime's in-memory
    /// files (for every runtime sharing them): `/tmp` is empty again and
    /// seeded files hold what they were seeded with. Mounts are host
    /// directories and keep what was written. With this between runs, a
    /// reused runtime leaves no state at all from one run to the next (each
    /// run is a fresh process already).
    pub fn reset_files(&self) -> Result<()> {
        self.core.files.reset()
    }

    /// The sandbox's configuration, for a template of it.
    pub(crate) fn core(&mut self) -> &mut SandboxCore {
        &mut self.core
    }

    /// A handle that stops the running program from any thread: it ends
    /// with [`EXIT_KILLED`].
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle(self.core.interrupt.clone())
    }

    /// The runtime's limits with those of `overrides` that are set.
    fn limits_for(&self, overrides: &CallLimits) -> CallLimits {
        CallLimits {
            wall_clock: overrides.wall_clock.or(self.limits.wall_clock),
            cpu_time: overrides.cpu_time.or(self.limits.cpu_time),
            fuel: overrides.fuel.or(self.limits.fuel),
        }
    }

    fn check(&self, code: &str, options: &ExecOptions) -> Result<()> {
        let input_buffer = self.core.config.input_buffer_size;
        for (what, size) in [("program", code.len()), ("stdin", options.stdin.len())] {
            if size > input_buffer {
                return Err(Error::invalid_arg(format!(
                    "the {what} is {size} bytes, more than the input buffer's {input_buffer} bytes; raise it with SandboxBuilder::input_buffer_size"
                )));
            }
        }
        for (name, _) in &options.env {
            check_env_name(name)?;
        }
        if let Some(cwd) = &options.cwd {
            check_cwd(cwd)?;
        }
        Ok(())
    }
}

/// The exit code of a program the runtime ended; `None` when the error is
/// not the program's end but a failure to run it.
fn exit_code_of(error: &Error) -> Option<i32> {
    match error {
        Error::Cancelled("killed") => Some(EXIT_KILLED),
        Error::Cancelled(_) => Some(EXIT_TIMEOUT),
        Error::StackOverflow { .. } | Error::GuestAbort(_) => Some(EXIT_CRASHED),
        _ => None,
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("backend", &self.core.config.backend)
            .field(
                "env",
                &self.env.iter().map(|(name, _)| name).collect::<Vec<_>>(),
            )
            .field("args", &self.args)
            .field("cwd", &self.cwd)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}
