//! The native side of isola's API (`isola.js`): `polybox::SessionTemplate`
//! and `polybox::Session`. Templates and sessions take `NodeRuntime`'s
//! options and capabilities (`runtime.rs`); a session's hostcalls go to one
//! JavaScript dispatcher on the main thread; a call's output and yielded
//! values reach `isola.js` through a `NativeOutput` (fd 1 and 2 for the
//! streams, 3 for each yielded value's JSON).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use napi::Either;
use napi::bindgen_prelude::{Function, Promise, Undefined};
use napi_derive::napi;
use polybox::{Argument, CallLimits, Session, SessionEvent, SessionTemplate};

use crate::args::{Options, Text, string, timeout_ms};
use crate::capabilities::CapabilitiesSpec;
use crate::error::{Result, invalid_arg};
use crate::host_functions::{self, HostReply};
use crate::interrupt::NativeInterruptHandle;
use crate::job::Job;
use crate::output::NativeOutput;
use crate::runtime::builders;

/// Builds a session template from `NodeRuntime`'s `options` and
/// `capabilities`, with `prelude` evaluated and kept in `cacheDir`.
#[napi(
    ts_args_type = "options: object | null, capabilities: CapabilitiesSpec | null, prelude: string | null, cacheDir: string | null",
    ts_return_type = "Promise<NativeSessionTemplate>"
)]
pub fn build_session_template(
    options: Option<Options<'_>>,
    capabilities: Option<CapabilitiesSpec>,
    prelude: Option<String>,
    cache_dir: Option<String>,
) -> Result<Job<SessionTemplate, NativeSessionTemplate>> {
    let (runtime, sandbox) = builders(options, capabilities, None, None)?;
    let build = move || {
        let mut template = SessionTemplate::builder(runtime.sandbox(sandbox));
        if let Some(prelude) = prelude {
            template = template.prelude(prelude);
        }
        if let Some(dir) = cache_dir {
            template = template.cache_dir(PathBuf::from(dir));
        }
        template.build()
    };
    Ok(Job::new(build, |template| NativeSessionTemplate {
        template,
    }))
}

/// What sessions start from.
#[napi]
pub struct NativeSessionTemplate {
    template: SessionTemplate,
}

#[napi]
impl NativeSessionTemplate {
    /// A session of `NodeRuntime`'s `options` and `capabilities`, its
    /// hostcalls answered by `hostcall` (`(argsJson: '[name, payload]')`)
    /// and its requests by `http`.
    #[napi(
        ts_args_type = "options: object | null, capabilities: CapabilitiesSpec | null, hostcall: ((argsJson: string) => Promise<HostReply>) | null, http: ((requestJson: string) => Promise<HostReply>) | null",
        ts_return_type = "Promise<NativeSession>"
    )]
    pub fn create(
        &self,
        options: Option<Options<'_>>,
        capabilities: Option<CapabilitiesSpec>,
        hostcall: Option<Function<'_, String, Promise<HostReply>>>,
        http: Option<Function<'_, String, Promise<HostReply>>>,
    ) -> Result<Job<Session, NativeSession>> {
        let (runtime, mut sandbox) = builders(options, capabilities, None, http)?;
        if let Some(hostcall) = hostcall {
            let invoke = host_functions::raw(host_functions::invoker(hostcall)?);
            sandbox = sandbox.hostcall_handler(move |name, payload, call| {
                let args = serde_json::json!([name, payload]).to_string();
                let reply = invoke(&args, call)?;
                serde_json::from_str(&reply)
                    .map_err(|e| format!("a hostcall's result is not JSON: {e}"))
            });
        }
        let template = self.template.clone();
        let create = move || template.create(runtime.sandbox(sandbox));
        Ok(Job::new(create, NativeSession::new))
    }

    /// `"disabled"`, `"hit"`, `"stored"` or `"unusable"`.
    #[napi(getter)]
    pub fn cache_status(&self) -> &'static str {
        crate::template::status_name(self.template.cache_status())
    }

    /// Why the cache could not be used, when it could not.
    #[napi(getter)]
    pub fn cache_problem(&self) -> Option<String> {
        crate::template::problem(self.template.cache_status())
    }
}

/// A session: scripts and calls.
#[napi]
pub struct NativeSession {
    session: Arc<Mutex<Option<Session>>>,
    closed: Arc<AtomicBool>,
    interrupt: polybox::InterruptHandle,
}

impl NativeSession {
    fn new(session: Session) -> Self {
        Self {
            interrupt: session.interrupt_handle(),
            session: Arc::new(Mutex::new(Some(session))),
            closed: Arc::default(),
        }
    }

    /// Runs `f` on the session on a worker thread.
    fn job<T: Send + 'static, J>(
        &self,
        f: impl FnOnce(&mut Session) -> polybox::Result<T> + Send + 'static,
        finish: fn(T) -> J,
    ) -> Job<T, J> {
        let (session, closed) = (self.session.clone(), self.closed.clone());
        Job::new(
            move || {
                let mut session = lock(&session);
                if closed.load(Ordering::SeqCst) {
                    // Closed while this waited or ran: the session goes.
                    *session = None;
                }
                match session.as_mut() {
                    Some(session) => f(session),
                    None => Err(polybox::Error::Consumed("Sandbox")),
                }
            },
            finish,
        )
    }
}

fn lock(session: &Mutex<Option<Session>>) -> MutexGuard<'_, Option<Session>> {
    session.lock().unwrap_or_else(|p| p.into_inner())
}

/// A positional or keyword argument: JSON text, or a stream's id.
type ArgumentJs = Either<String, u32>;

fn argument(arg: ArgumentJs) -> Argument {
    match arg {
        Either::A(json) => Argument::Json(json),
        Either::B(id) => Argument::Stream(u64::from(id)),
    }
}

#[napi]
impl NativeSession {
    /// Evaluates a script in the session.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn load_script(&self, code: Text<'_>) -> Result<Job<(), Undefined>> {
        let code = string("code", code)?;
        Ok(self.job(move |session| session.load_script(&code), |()| ()))
    }

    /// Calls `name`; resolves to the JSON of what it returned. Output and
    /// yielded values go to `output` as they happen.
    #[napi(
        ts_args_type = "name: string, args: Array<string | number>, kwargNames: string[], kwargValues: Array<string | number>, timeoutMs: number | null, output: NativeOutput | null",
        ts_return_type = "Promise<string>"
    )]
    pub fn call(
        &self,
        name: Text<'_>,
        args: Vec<ArgumentJs>,
        kwarg_names: Vec<String>,
        kwarg_values: Vec<ArgumentJs>,
        timeout: Option<napi::bindgen_prelude::Unknown<'_>>,
        output: Option<&NativeOutput>,
    ) -> Result<Job<String, String>> {
        let name = string("function name", name)?;
        if kwarg_names.len() != kwarg_values.len() {
            return Err(invalid_arg(
                "keyword argument names and values differ in number",
            ));
        }
        let args: Vec<Argument> = args.into_iter().map(argument).collect();
        let kwargs: Vec<(String, Argument)> = kwarg_names
            .into_iter()
            .zip(kwarg_values.into_iter().map(argument))
            .collect();
        let limits = CallLimits {
            wall_clock: match timeout {
                Some(ms) if !crate::args::is_absent(&ms) => Some(timeout_ms("timeoutMs", ms)?),
                _ => None,
            },
            ..CallLimits::default()
        };
        let mut sinks =
            output.map(|output| [output.callback(1), output.callback(2), output.callback(3)]);
        let call = move |session: &mut Session| {
            session.call_streaming(&name, &args, &kwargs, &limits, move |event| {
                let Some(sinks) = sinks.as_mut() else { return };
                match event {
                    SessionEvent::Stdout(text) => sinks[0](text.as_bytes()),
                    SessionEvent::Stderr(text) => sinks[1](text.as_bytes()),
                    SessionEvent::Result(json) => sinks[2](json.as_bytes()),
                    SessionEvent::End(_) | SessionEvent::Error(_) => {}
                }
            })
        };
        Ok(self.job(call, |json| json))
    }

    /// Starts the session afresh from its template.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn restart(&self) -> Job<(), Undefined> {
        self.job(Session::restart, |()| ())
    }

    /// A handle that stops the running call.
    #[napi]
    pub fn interrupt_handle(&self) -> NativeInterruptHandle {
        NativeInterruptHandle::new(self.interrupt.clone())
    }

    /// Stops a running call and frees the session; later calls reject with
    /// `ERR_CONSUMED`.
    #[napi]
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.interrupt.kill();
        // Free now unless a call holds it: then the next job frees it.
        if let Ok(mut session) = self.session.try_lock() {
            *session = None;
        }
    }
}
