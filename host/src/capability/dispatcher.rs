//! [`Dispatcher`]: one sandbox's capabilities, and the one place every
//! backend sends a guest's host calls and platform requests.
//!
//! Each backend implements the guest's imports by handing them here
//! unchanged, whatever store or VM the call came from: the JS guest's, a
//! handler component's, a component module's. So a capability is served the
//! same way to every guest on every backend, and the dispatcher is the
//! sandbox's per-sandbox capability state, in one place.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use super::host_functions::CallContext;
use super::log::{LogLevel, LogSink};
use super::process::ProcessIo;
use super::provider::{HostCallError, Provider};
use super::sockets::Sockets;
use super::{clock, random};
use crate::error::{Error, Result};
use crate::monitor::InterruptState;

/// How long a provider stays in the dispatcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lifetime {
    /// For the sandbox's life: installed by a capability (host functions,
    /// host components).
    Sandbox,
    /// Until the guest's handlers and modules are unloaded: loaded with them
    /// (component modules).
    Load,
}

struct Route {
    provider: Arc<dyn Provider>,
    lifetime: Lifetime,
    /// Whether guests learn of it as a module they can import; the internal
    /// modules the runtime's own libraries call (`polybox:fs`) are not.
    declared: bool,
}

/// The last sandbox id handed out.
static SANDBOX_IDS: AtomicU64 = AtomicU64::new(0);

/// A sandbox's capabilities: the providers of the modules its guests import,
/// by specifier, and its log sink.
pub(crate) struct Dispatcher {
    /// Names the sandbox in logs (denials), unique within the process.
    sandbox_id: u64,
    log: LogSink,
    /// The sandbox's calls, which providers may watch for a stop.
    interrupt: Arc<InterruptState>,
    routes: RwLock<BTreeMap<String, Route>>,
    process: ProcessIo,
    sockets: Arc<Sockets>,
}

impl Dispatcher {
    /// A dispatcher that serves nothing yet, for the sandbox whose calls
    /// `interrupt` tracks; guest output goes to `log`.
    pub fn new(log: LogSink, interrupt: Arc<InterruptState>) -> Self {
        Self {
            sandbox_id: SANDBOX_IDS.fetch_add(1, Ordering::Relaxed) + 1,
            process: ProcessIo::new(interrupt.clone(), log.clone()),
            log,
            interrupt,
            routes: RwLock::default(),
            sockets: Arc::default(),
        }
    }

    /// Serves the module `specifier` with `provider`. A specifier is served
    /// by one provider only: a second is `ERR_INVALID_ARG`.
    pub fn serve(
        &self,
        specifier: &str,
        lifetime: Lifetime,
        provider: Arc<dyn Provider>,
    ) -> Result<()> {
        self.route(specifier, lifetime, provider, true)
    }

    /// Serves the internal module `specifier` for the sandbox's life,
    /// without declaring it to guests as an importable module.
    pub fn serve_internal(&self, specifier: &str, provider: Arc<dyn Provider>) -> Result<()> {
        self.route(specifier, Lifetime::Sandbox, provider, false)
    }

    fn route(
        &self,
        specifier: &str,
        lifetime: Lifetime,
        provider: Arc<dyn Provider>,
        declared: bool,
    ) -> Result<()> {
        let mut routes = self.routes.write().unwrap_or_else(|p| p.into_inner());
        if routes.contains_key(specifier) {
            return Err(Error::invalid_arg(format!(
                "the module {specifier:?} is defined twice"
            )));
        }
        routes.insert(
            specifier.to_owned(),
            Route {
                provider,
                lifetime,
                declared,
            },
        );
        Ok(())
    }

    /// Calls `function` of the module scripts import as `specifier`, with
    /// `args` (a JSON array).
    pub fn call(
        &self,
        specifier: &str,
        function: &str,
        args: &str,
    ) -> Result<String, HostCallError> {
        let provider = self
            .routes
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(specifier)
            .map(|route| route.provider.clone());
        match provider {
            // The lock is released: a provider may call back into guests
            // whose own host calls come here.
            Some(provider) => provider.call(function, args, &CallContext::new(&self.interrupt)),
            None => Err(HostCallError::Failed(format!(
                "no module {specifier:?} is registered"
            ))),
        }
    }

    /// Every module served, as the guest must learn them: `declare` makes
    /// a backend's declaration from a specifier and its function names.
    pub fn declarations<T>(&self, declare: impl Fn(String, Vec<String>) -> T) -> Vec<T> {
        let routes = self.routes.read().unwrap_or_else(|p| p.into_inner());
        routes
            .iter()
            .filter(|(_, route)| route.declared)
            .map(|(specifier, route)| declare(specifier.clone(), route.provider.functions()))
            .collect()
    }

    /// Drops the providers loaded with handlers, keeping the sandbox's.
    pub fn unload(&self) {
        let mut routes = self.routes.write().unwrap_or_else(|p| p.into_inner());
        routes.retain(|_, route| route.lifetime == Lifetime::Sandbox);
    }

    /// Has the providers loaded with handlers forget their guest state: a
    /// restore rewinds the guest, and they are part of it.
    pub fn discard_guest_state(&self) {
        let routes = self.routes.read().unwrap_or_else(|p| p.into_inner());
        for route in routes.values().filter(|r| r.lifetime == Lifetime::Load) {
            route.provider.discard_guest_state();
        }
    }

    /// The sandbox's id, unique within the process, for logs.
    pub fn sandbox_id(&self) -> u64 {
        self.sandbox_id
    }

    /// Sends one line of guest output to the log sink.
    pub fn log(&self, level: LogLevel, message: &str) {
        (self.log)(level, message);
    }

    /// The log sink, for guest output that arrives as streams (a
    /// component's stdout and stderr).
    pub fn log_sink(&self) -> &LogSink {
        &self.log
    }

    /// The sandbox's process: the streams of the program running now.
    pub fn process(&self) -> &ProcessIo {
        &self.process
    }

    /// The sandbox's virtual sockets: the ports its program listens on.
    pub fn sockets(&self) -> &Arc<Sockets> {
        &self.sockets
    }

    /// Wall-clock time in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> f64 {
        clock::now_ms()
    }

    /// Monotonic time in nanoseconds, in whole microseconds.
    pub fn monotonic_ns(&self) -> u64 {
        clock::monotonic_ns()
    }

    /// `len` random bytes (at most 64 KiB).
    pub fn random_bytes(&self, len: u32) -> Vec<u8> {
        random::bytes(len)
    }
}

/// The `call` method of a backend's `host-call` import trait, for bindings
/// whose `call-error` variant is `$error`: gets the sandbox's dispatcher with
/// `$dispatcher` (given `$this`, the implementing value; it may `return` an
/// error) and hands the call to it.
macro_rules! host_call_import {
    ($error:ident, |$this:ident| $dispatcher:expr) => {
        fn call(
            &mut self,
            module: String,
            function: String,
            args: String,
        ) -> Result<String, $error> {
            let $this = self;
            let dispatcher = $dispatcher;
            dispatcher
                .call(&module, &function, &args)
                .map_err(|error| match error {
                    $crate::capability::HostCallError::Failed(message) => $error::Failed(message),
                    $crate::capability::HostCallError::TypeMismatch(message) => {
                        $error::TypeMismatch(message)
                    }
                })
        }
    };
}
pub(crate) use host_call_import;

/// The methods of a backend's `platform` import trait, for bindings whose
/// `log-level` enum is `$level`, served by the implementing type's
/// `dispatcher`. Each backend's bindings generate their own types, so the
/// methods are written once here and expanded into each backend's impl.
macro_rules! platform_imports {
    ($level:ident) => {
        fn log(&mut self, level: $level, message: String) {
            let level = match level {
                $level::Debug => $crate::capability::LogLevel::Debug,
                $level::Info => $crate::capability::LogLevel::Info,
                $level::Warn => $crate::capability::LogLevel::Warn,
                $level::Error => $crate::capability::LogLevel::Error,
            };
            self.dispatcher.log(level, &message);
        }

        fn now_ms(&mut self) -> f64 {
            self.dispatcher.now_ms()
        }

        fn monotonic_ns(&mut self) -> u64 {
            self.dispatcher.monotonic_ns()
        }

        fn random_bytes(&mut self, len: u32) -> Vec<u8> {
            self.dispatcher.random_bytes(len)
        }
    };
}
pub(crate) use platform_imports;

/// The methods of a backend's `process` import trait, served by the
/// implementing type's `dispatcher`; `$limit` (given `$this`) is the
/// backend's own deadline for the running call, if it has one, which cuts a
/// timer's wait short.
macro_rules! process_imports {
    (|$this:ident| $limit:expr) => {
        fn write(&mut self, fd: u32, bytes: Vec<u8>) {
            self.dispatcher.process().write(fd, &bytes);
        }

        fn read_stdin(&mut self, max: u32) -> Vec<u8> {
            self.dispatcher.process().read_stdin(max)
        }

        fn wait_until(&mut self, deadline_ns: u64) -> bool {
            let $this = &*self;
            let limit = $limit;
            $this.dispatcher.process().wait_until(deadline_ns, limit)
        }
    };
}
pub(crate) use process_imports;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Echoes its function name and arguments; counts discards.
    #[derive(Default)]
    struct Echo(Mutex<usize>);

    impl Provider for Echo {
        fn functions(&self) -> Vec<String> {
            vec!["echo".into()]
        }

        fn call(
            &self,
            function: &str,
            args: &str,
            _: &CallContext<'_>,
        ) -> Result<String, HostCallError> {
            Ok(format!("[{function:?},{args}]"))
        }

        fn discard_guest_state(&self) {
            *self.0.lock().unwrap() += 1;
        }
    }

    fn dispatcher() -> Dispatcher {
        Dispatcher::new(Arc::new(|_, _| {}), Arc::default())
    }

    #[test]
    fn routes_a_call_to_the_provider_of_its_specifier() {
        let dispatcher = dispatcher();
        dispatcher
            .serve("host:a", Lifetime::Sandbox, Arc::new(Echo::default()))
            .unwrap();
        assert_eq!(
            dispatcher.call("host:a", "echo", "[1]"),
            Ok(r#"["echo",[1]]"#.into())
        );
        assert_eq!(
            dispatcher.call("host:b", "echo", "[]"),
            Err(HostCallError::Failed(
                r#"no module "host:b" is registered"#.into()
            ))
        );
    }

    #[test]
    fn refuses_a_second_provider_for_one_specifier() {
        let dispatcher = dispatcher();
        let echo = Arc::new(Echo::default());
        dispatcher
            .serve("host:a", Lifetime::Sandbox, echo.clone())
            .unwrap();
        let error = dispatcher
            .serve("host:a", Lifetime::Load, echo)
            .unwrap_err();
        assert_eq!(error.code(), crate::ErrorCode::InvalidArg);
    }

    #[test]
    fn unloading_keeps_the_sandboxs_providers_and_discarding_touches_only_loaded_ones() {
        let dispatcher = dispatcher();
        let (kept, loaded) = (Arc::new(Echo::default()), Arc::new(Echo::default()));
        dispatcher
            .serve("host:kept", Lifetime::Sandbox, kept.clone())
            .unwrap();
        dispatcher
            .serve("user:loaded", Lifetime::Load, loaded.clone())
            .unwrap();
        dispatcher.discard_guest_state();
        assert_eq!((*kept.0.lock().unwrap(), *loaded.0.lock().unwrap()), (0, 1));
        dispatcher.unload();
        let specifiers = dispatcher.declarations(|specifier, _| specifier);
        assert_eq!(specifiers, ["host:kept"]);
    }
}
