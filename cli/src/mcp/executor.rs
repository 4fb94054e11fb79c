//! [`Executor`]: runs the code of `execute_javascript` (or
//! `execute_python`) calls. By default
//! every call is a fresh process over fresh files, as a new `node` would
//! be: runtimes are reused, but each run restores the runtime's started
//! image and each call's end resets its in-memory files
//! (`Runtime::reset_files`), so nothing of one call reaches the next
//! (a new runtime per call made the round trip ~4× slower: 818 µs against
//! 208 µs, in page faults, unmapping, and their contention on 2 cores). A stateful session keeps one runtime for all its
//! calls ([`super::session`]).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use polybox::{CallLimits, ExecOptions, ProgramKind, Runtime, RuntimeBuilder};
use serde_json::{Value, json};

/// How many idle runtimes are kept for the next calls.
const IDLE: usize = 4;

/// What one run did.
pub struct Execution {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
    /// What the code returned: `__return(value)`, or a module's default
    /// export.
    pub value: Option<Value>,
    pub duration: Duration,
    /// What stopped it, if it did not end by itself (`"wall-clock"`, ...).
    pub stopped_by: Option<&'static str>,
    /// Whether output went past the cap.
    pub truncated: bool,
}

impl Execution {
    /// The JSON the tool's structured result carries.
    pub fn json(&self) -> Value {
        json!({
            "stdout": self.stdout,
            "stderr": self.stderr,
            "exitCode": self.exit_code,
            "value": self.value,
            "durationMs": self.duration.as_secs_f64() * 1000.0,
            "stoppedBy": self.stopped_by,
            "truncated": self.truncated,
        })
    }

    /// What a model reads: the exit, the value, then the streams.
    pub fn text(&self) -> String {
        let mut text = format!("exit code {}", self.exit_code);
        if let Some(reason) = self.stopped_by {
            text.push_str(&format!(" (stopped by the {reason} limit)"));
        }
        if let Some(value) = &self.value {
            text.push_str(&format!("\nvalue: {value}"));
        }
        for (name, stream) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            if !stream.is_empty() {
                text.push_str(&format!("\n--- {name} ---\n{stream}"));
            }
        }
        if self.truncated {
            text.push_str("\n(output past the limit was cut)");
        }
        text
    }
}

/// Runs code in runtimes built by one builder.
pub struct Executor {
    builder: RuntimeBuilder,
    /// Runtimes no call is using, their files reset.
    idle: Mutex<Vec<Runtime>>,
    /// The longest a run may take.
    wall: Duration,
}

impl Executor {
    /// Runs built by `builder`, each for at most `wall`. Builds one runtime
    /// now, so that a bad configuration fails at once.
    pub fn new(builder: RuntimeBuilder, wall: Duration) -> polybox::Result<Self> {
        let first = builder.clone().build()?;
        Ok(Self {
            builder,
            idle: Mutex::new(vec![first]),
            wall,
        })
    }

    /// As [`new`](Self::new), but builds its first runtime when a call
    /// needs it: for a language a server offers but may never be asked for.
    pub fn unbuilt(builder: RuntimeBuilder, wall: Duration) -> Self {
        Self {
            builder,
            idle: Mutex::new(Vec::new()),
            wall,
        }
    }

    /// The longest a run may take.
    pub fn wall(&self) -> Duration {
        self.wall
    }

    /// A runtime for a call: an idle one, else a new one. Either way its
    /// next run is a fresh process over files as they were seeded.
    pub fn take(&self) -> polybox::Result<Runtime> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match idle {
            Some(runtime) => Ok(runtime),
            None => self.builder.clone().build(),
        }
    }

    /// Takes `runtime` back once a call is done with it: its files are
    /// reset, and its next run restores a fresh process (dropped instead
    /// when enough are idle).
    pub fn give_back(&self, runtime: Runtime) {
        if runtime.reset_files().is_ok() {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < IDLE {
                idle.push(runtime);
            }
        }
    }

    /// Runs `code` as a program (an ES module or a CommonJS script) in
    /// `runtime`, as a fresh process, stopped after `timeout` (at most the
    /// configured wall-clock limit).
    pub fn run(
        &self,
        runtime: &mut Runtime,
        code: &str,
        timeout: Option<Duration>,
    ) -> polybox::Result<Execution> {
        self.execute(runtime, code, timeout, ExecOptions::default())
    }

    /// Runs `code` as a line of a REPL in `runtime`: a global script that,
    /// if `continues`, continues the process the last run left, so the
    /// session's earlier declarations are there (see `ProgramKind::Script`).
    pub fn run_line(
        &self,
        runtime: &mut Runtime,
        code: &str,
        timeout: Option<Duration>,
        continues: bool,
    ) -> polybox::Result<Execution> {
        let options = ExecOptions {
            kind: ProgramKind::Script,
            continue_process: continues,
            ..ExecOptions::default()
        };
        self.execute(runtime, code, timeout, options)
    }

    fn execute(
        &self,
        runtime: &mut Runtime,
        code: &str,
        timeout: Option<Duration>,
        options: ExecOptions,
    ) -> polybox::Result<Execution> {
        let wall = timeout.map_or(self.wall, |t| t.min(self.wall));
        let options = ExecOptions {
            limits: CallLimits {
                wall_clock: Some(wall),
                ..CallLimits::default()
            },
            ..options
        };
        let started = Instant::now();
        let run = runtime.run(code, options)?;
        let output = run.output;
        Ok(Execution {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            exit_code: output.exit_code,
            value: run.value.and_then(|v| serde_json::from_str(&v).ok()),
            duration: started.elapsed(),
            stopped_by: output.stats.terminated_by,
            truncated: output.stdout_truncated || output.stderr_truncated,
        })
    }
}
