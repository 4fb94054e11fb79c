//! Helpers shared by the integration tests in `tests/`. Everything goes
//! through Polybox's public API.

pub mod http_server;

use std::sync::{Arc, Mutex};

use polybox::{
    ErrorCode, JSSandbox, LoadedJSSandbox, LogLevel, Result, SandboxBuilder, WasmComponent,
};

/// Log lines a sandbox's guest wrote, in order.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<(LogLevel, String)>>>);

impl LogCapture {
    /// A builder whose log sink records into this capture.
    pub fn builder(&self) -> SandboxBuilder {
        let lines = self.0.clone();
        SandboxBuilder::new()
            .log_sink(move |level, line| lines.lock().unwrap().push((level, line.to_owned())))
    }

    /// The recorded lines.
    pub fn lines(&self) -> Vec<(LogLevel, String)> {
        self.0.lock().unwrap().clone()
    }
}

/// A runtime built by `builder`, with no host functions.
pub fn runtime(builder: SandboxBuilder) -> JSSandbox {
    builder.build().unwrap().load_runtime().unwrap()
}

/// A loaded sandbox with one handler, `name`, from `source`.
pub fn load_handler(name: &str, source: &str) -> LoadedJSSandbox {
    load_handlers(&[(name, source)])
}

/// A loaded sandbox with the given handlers and default settings.
pub fn load_handlers(handlers: &[(&str, &str)]) -> LoadedJSSandbox {
    let mut sandbox = runtime(SandboxBuilder::new());
    for (name, source) in handlers {
        sandbox.add_handler(name, *source).unwrap();
    }
    sandbox.get_loaded_sandbox().unwrap()
}

/// Calls `name` with `event` and parses the JSON result.
pub fn call(
    sandbox: &mut LoadedJSSandbox,
    name: &str,
    event: serde_json::Value,
) -> Result<serde_json::Value> {
    let result = sandbox.handle_event(name, event.to_string(), None)?;
    Ok(serde_json::from_str(&result).expect("results are JSON"))
}

/// Asserts that `result` failed with `code`; returns the message.
#[track_caller]
pub fn expect_code<T: std::fmt::Debug>(
    result: std::result::Result<T, impl Into<polybox::Error>>,
    code: ErrorCode,
) -> String {
    match result.map_err(Into::into) {
        Ok(value) => panic!("expected {code}, got Ok({value:?})"),
        Err(error) => {
            assert_eq!(error.code(), code, "unexpected error: {error}");
            error.to_string()
        }
    }
}

/// A component built by this crate's build script: `echo_handler`,
/// `textkit`, `kv_store`, `runaway_handler`, `unlinkable` or `escape_probe`.
pub fn component(name: &str) -> WasmComponent {
    WasmComponent::from_file(component_path(name)).expect("the build script built the component")
}

/// Where the build script put the component `name`.
pub fn component_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("POLYBOX_COMPONENTS")).join(format!("{name}.wasm"))
}

/// Runs file operations (`[op, path, arg?]`, see the `escape-probe`
/// fixture) in the `escape_probe` component, in a sandbox built by
/// `builder`; returns one outcome per operation: `"ok: ..."` or
/// `"err: <io::ErrorKind>"`.
pub fn probe_files(builder: SandboxBuilder, ops: &[&[&str]]) -> Vec<String> {
    let mut sandbox = runtime(builder);
    sandbox
        .add_component_handler("probe", component("escape_probe"))
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    let outcomes = call(&mut loaded, "probe", serde_json::json!({ "ops": ops })).unwrap();
    serde_json::from_value(outcomes).unwrap()
}

/// Kills the running call of a sandbox from another thread: first after
/// `delay`, then every 10 ms until dropped. One kill alone could land
/// before the call starts (a kill while idle is ignored, by design), which
/// on a loaded machine would leave a runaway test call running forever.
pub struct Killer {
    done: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Starts a [`Killer`] for the sandbox `handle` stops.
pub fn kill_after(handle: polybox::InterruptHandle, delay: std::time::Duration) -> Killer {
    use std::sync::atomic::Ordering;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = done.clone();
    let thread = std::thread::spawn(move || {
        std::thread::sleep(delay);
        while !stop.load(Ordering::SeqCst) {
            handle.kill();
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    });
    Killer {
        done,
        thread: Some(thread),
    }
}

impl Drop for Killer {
    fn drop(&mut self) {
        self.done.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
