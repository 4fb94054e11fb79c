//! [`Session`]: isola's model of a sandbox. Scripts are loaded into one
//! global scope that lasts ([`load_script`](Session::load_script)), and
//! their functions are called by name with positional and keyword
//! arguments ([`call`](Session::call)); a generator's values stream out as
//! they are yielded ([`call_streaming`](Session::call_streaming)), beside
//! what the call prints.
//!
//! # How it works
//!
//! A session is a [`Runtime`] whose runs continue one process (a REPL's
//! lines). A call is a small script the host writes,
//! `await __polybox_session.call("name", () => name, args, kwargs, streams)`;
//! the guest's side (`session.js` in the guest) binds keyword arguments to
//! parameters by name, drives generators, and writes what the call
//! produced as JSON records to the process's events stream (fd 3): one
//! `{"result": value}` per yielded value, then `{"end": value}` or
//! `{"error": message}`. Arguments are JSON text in string literals that
//! the guest parses, so they are data, never code.
//!
//! Sessions start from a [`SessionTemplate`]: the runtime started, the
//! hostcall global defined and the prelude evaluated once, captured, and
//! mapped copy-on-write into every session created from it.

mod template;

use std::sync::{Arc, Mutex};

pub use template::{SessionTemplate, SessionTemplateBuilder};

use crate::config::Language;
use crate::error::{Error, GuestError, GuestErrorKind, Result};
use crate::monitor::{CallLimits, InterruptHandle};
use crate::names::is_identifier;
use crate::program::{ExecOptions, OutputCallback, ProgramKind, RunOutput, Runtime};

/// What a streaming call reports, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// A value a generator yielded, as JSON text.
    Result(String),
    /// What the call returned, as JSON text (`null` for nothing): the last
    /// event of a call that succeeded.
    End(String),
    /// Text the call wrote to standard output (`console.log`).
    Stdout(String),
    /// Text the call wrote to standard error (`console.error`).
    Stderr(String),
    /// Why the call failed: the last event of a call that failed.
    Error(String),
}

/// An argument of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Argument {
    /// A JSON value, as text.
    Json(String),
    /// An async iterable the guest pulls items from, each with
    /// `hostcall("__polybox_stream", { id })`, which the session's hostcall
    /// handler answers with `{ "done": bool, "value": v }` (or
    /// `{ "error": message }`, which the guest's loop throws).
    Stream(u64),
}

/// Scripts in one lasting global scope, and their functions called by name
/// (see the [module docs](self)).
pub struct Session {
    runtime: Runtime,
    /// Why the loaded scripts are gone, once a call was stopped.
    lost: Option<String>,
}

impl Session {
    pub(crate) fn new(runtime: Runtime) -> Self {
        Self {
            runtime,
            lost: None,
        }
    }

    /// Evaluates `code` as a global script (top-level `await` allowed);
    /// its top-level declarations stay for later scripts and calls.
    /// `ERR_GUEST_ERROR` with the error's report when it fails to parse or
    /// throws (what it declared before the throw stays).
    pub fn load_script(&mut self, code: &str) -> Result<()> {
        self.load_script_as(code, None)
    }

    /// [`load_script`](Self::load_script) under the file name `filename`
    /// (what stack traces name; `[eval]` in the working directory when
    /// `None`).
    pub fn load_script_as(&mut self, code: &str, filename: Option<&str>) -> Result<()> {
        let mut options = script_options(&CallLimits::default());
        options.filename = filename.map(str::to_owned);
        let run = self.run(code, options, None)?;
        if run.output.exit_code != 0 {
            return Err(script_failed(&run));
        }
        Ok(())
    }

    /// Calls the global function `name` with `args` and `kwargs` (bound to
    /// its parameters by name) under `limits`, and returns what it returned
    /// (for a generator, its return value; `null` for nothing) as JSON.
    ///
    /// Fails with `ERR_INVALID_ARG` for a name that is not an identifier or
    /// an argument that is not JSON; with `ERR_GUEST_ERROR` when the
    /// function is missing or not a function, cannot take a keyword
    /// argument, throws, or returns what JSON cannot hold; with
    /// `ERR_CANCELLED` when a limit or a kill stopped it, which also loses
    /// the loaded scripts: later calls fail with `ERR_POISONED` until
    /// [`restart`](Self::restart).
    pub fn call(
        &mut self,
        name: &str,
        args: &[Argument],
        kwargs: &[(String, Argument)],
        limits: &CallLimits,
    ) -> Result<String> {
        self.call_streaming(name, args, kwargs, limits, |_| {})
    }

    /// [`call`](Self::call), reporting each [`SessionEvent`] to `on_event`
    /// as it happens, on the calling thread's behalf (from the guest's
    /// thread, which waits for it).
    pub fn call_streaming(
        &mut self,
        name: &str,
        args: &[Argument],
        kwargs: &[(String, Argument)],
        limits: &CallLimits,
        on_event: impl FnMut(SessionEvent) + Send + 'static,
    ) -> Result<String> {
        if let Some(why) = &self.lost {
            return Err(Error::Poisoned(format!(
                "{why}; its scripts are gone: restart the session"
            )));
        }
        let language = self.runtime.core().config.language;
        let code = call_script(language, name, args, kwargs)?;
        let outcome = Arc::new(Mutex::new(Outcome::default()));
        let events = Events::new(on_event, outcome.clone());
        let run = self.run(&code, script_options(limits), Some(events))?;
        let outcome = std::mem::take(&mut *outcome.lock().unwrap_or_else(|p| p.into_inner()));
        if let Some(error) = run.output.error {
            self.lost = Some(format!("a call was stopped ({})", error.code()));
            return Err(error);
        }
        match outcome {
            Outcome {
                end: Some(value), ..
            } => Ok(value),
            Outcome {
                error: Some(message),
                ..
            } => Err(Error::Guest(GuestError {
                kind: GuestErrorKind::Exception,
                message,
                stack: None,
            })),
            _ => Err(script_failed(&run)),
        }
    }

    /// Starts the session afresh from its template: the scripts loaded
    /// since are gone. Recovers a session a stopped call poisoned.
    pub fn restart(&mut self) -> Result<()> {
        self.runtime.exec("", ExecOptions::default())?;
        self.lost = None;
        Ok(())
    }

    /// Whether a stopped call lost the scripts (see [`restart`](Self::restart)).
    pub fn poisoned(&self) -> bool {
        self.lost.is_some()
    }

    /// A handle that stops the running call from any thread.
    pub fn interrupt_handle(&self) -> InterruptHandle {
        self.runtime.interrupt_handle()
    }

    fn run(
        &mut self,
        code: &str,
        mut options: ExecOptions,
        events: Option<Events>,
    ) -> Result<RunOutput> {
        let mut callback = None;
        if let Some(events) = events {
            options.on_stdout = Some(events.stream(SessionEvent::Stdout));
            options.on_stderr = Some(events.stream(SessionEvent::Stderr));
            callback = Some(events.records());
        }
        self.runtime
            .run_with_events(code, options, &None::<CallLimits>, callback, None)
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("runtime", &self.runtime)
            .field("lost", &self.lost)
            .finish()
    }
}

/// A run continuing the session's process as a global script.
pub(crate) fn script_options(limits: &CallLimits) -> ExecOptions {
    ExecOptions {
        kind: ProgramKind::Script,
        continue_process: true,
        limits: *limits,
        ..ExecOptions::default()
    }
}

/// How a call ended, from its records.
#[derive(Default)]
struct Outcome {
    end: Option<String>,
    error: Option<String>,
}

/// Hands a call's output and records to the caller's `on_event`.
#[derive(Clone)]
struct Events {
    on_event: Arc<Mutex<dyn FnMut(SessionEvent) + Send>>,
    outcome: Arc<Mutex<Outcome>>,
}

impl Events {
    fn new(
        on_event: impl FnMut(SessionEvent) + Send + 'static,
        outcome: Arc<Mutex<Outcome>>,
    ) -> Self {
        Self {
            on_event: Arc::new(Mutex::new(on_event)),
            outcome,
        }
    }

    fn emit(&self, event: SessionEvent) {
        (self.on_event.lock().unwrap_or_else(|p| p.into_inner()))(event);
    }

    /// A standard stream's callback, each write one event.
    fn stream(&self, event: fn(String) -> SessionEvent) -> OutputCallback {
        let events = self.clone();
        Box::new(move |bytes| events.emit(event(String::from_utf8_lossy(bytes).into_owned())))
    }

    /// The events stream's callback: complete JSON lines become events.
    fn records(self) -> OutputCallback {
        let mut pending = Vec::new();
        Box::new(move |bytes| {
            pending.extend_from_slice(bytes);
            while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                self.record(&line[..end]);
            }
        })
    }

    fn record(&self, line: &[u8]) {
        let Ok(serde_json::Value::Object(record)) = serde_json::from_slice(line) else {
            return;
        };
        let mut outcome = self.outcome.lock().unwrap_or_else(|p| p.into_inner());
        if outcome.end.is_some() || outcome.error.is_some() {
            return;
        }
        let event = if let Some(value) = record.get("result") {
            SessionEvent::Result(value.to_string())
        } else if let Some(value) = record.get("end") {
            outcome.end = Some(value.to_string());
            SessionEvent::End(value.to_string())
        } else if let Some(message) = record.get("error") {
            let message = message.as_str().unwrap_or("the call failed").to_owned();
            outcome.error = Some(message.clone());
            SessionEvent::Error(message)
        } else {
            return;
        };
        drop(outcome);
        self.emit(event);
    }
}

/// The script, in the session's `language`, that calls `name`. Arguments
/// cross as JSON text that the guest parses (so `"__proto__"` is a key like
/// any other, as JSON has it), and streams as `[slot, id]` pairs: a
/// position or a keyword.
fn call_script(
    language: Language,
    name: &str,
    args: &[Argument],
    kwargs: &[(String, Argument)],
) -> Result<String> {
    let python = language == Language::Python;
    if !is_identifier(name) || (python && name.contains('$')) {
        return Err(Error::invalid_arg(format!(
            "{name:?} is not a function name (an identifier: letters, digits, _{})",
            if python { "" } else { " and $" }
        )));
    }
    let mut streams = Vec::new();
    let mut positional = Vec::with_capacity(args.len());
    for (i, arg) in args.iter().enumerate() {
        positional.push(value(arg, || serde_json::json!(i), &mut streams)?);
    }
    let mut keywords = serde_json::Map::new();
    for (key, arg) in kwargs {
        let value = value(arg, || serde_json::json!(key), &mut streams)?;
        keywords.insert(key.clone(), value);
    }
    let literal = |value: serde_json::Value| {
        serde_json::to_string(&value.to_string()).expect("a string is JSON")
    };
    let lookup = if python {
        format!("lambda: {name}")
    } else {
        format!("() => {name}")
    };
    Ok(format!(
        "await __polybox_session.call(\"{name}\", {lookup}, {}, {}, {})",
        literal(serde_json::Value::Array(positional)),
        literal(serde_json::Value::Object(keywords)),
        serde_json::Value::Array(streams)
    ))
}

/// An argument's JSON value (`null` for a stream, whose `[slot, id]` goes to
/// `streams`).
fn value(
    arg: &Argument,
    slot: impl FnOnce() -> serde_json::Value,
    streams: &mut Vec<serde_json::Value>,
) -> Result<serde_json::Value> {
    match arg {
        Argument::Json(json) => serde_json::from_str(json)
            .map_err(|e| Error::invalid_arg(format!("an argument is not JSON: {e}"))),
        Argument::Stream(id) => {
            streams.push(serde_json::json!([slot(), id]));
            Ok(serde_json::Value::Null)
        }
    }
}

/// A script's or call's failure, from what it wrote to standard error.
fn script_failed(run: &RunOutput) -> Error {
    let stderr = String::from_utf8_lossy(&run.output.stderr);
    Error::Guest(GuestError {
        kind: if stderr.contains("SyntaxError") {
            GuestErrorKind::Syntax
        } else {
            GuestErrorKind::Exception
        },
        message: stderr.trim_end().to_owned(),
        stack: None,
    })
}
