//! Helpers shared by the integration tests in `tests/`. Everything goes
//! through Polybox's public API.

pub mod http_server;
pub mod net_oracle;

use std::sync::{Arc, Mutex};

use polybox::{
    ErrorCode, JSSandbox, LoadedJSSandbox, LogLevel, ProtoJSSandbox, Result, SandboxBuilder,
    WasmComponent,
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
    load_with(SandboxBuilder::new(), handlers)
}

/// A loaded sandbox of `builder` with the given handlers.
pub fn load_with(builder: SandboxBuilder, handlers: &[(&str, &str)]) -> LoadedJSSandbox {
    load_with_proto(builder.build().unwrap(), handlers)
}

/// A loaded sandbox of `proto` (its host functions registered) with the
/// given handlers.
pub fn load_with_proto(proto: ProtoJSSandbox, handlers: &[(&str, &str)]) -> LoadedJSSandbox {
    let mut sandbox = proto.load_runtime().unwrap();
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

/// A host directory laid out to tempt a guest out of it: a symbolic link to
/// `/etc`, one to a file outside, a relative one climbing out, one that stays
/// inside, and a FIFO. `name` keeps tests
/// apart; the mount is `<tmp>/polybox-escape-<pid>-<name>/mount`, with
/// `outside.txt` ("outside") next to it.
pub fn tempting_mount(name: &str) -> std::path::PathBuf {
    let root = std::env::temp_dir().join(format!("polybox-escape-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let mount = root.join("mount");
    std::fs::create_dir_all(mount.join("sub")).unwrap();
    std::fs::write(root.join("outside.txt"), "outside").unwrap();
    std::fs::write(mount.join("inside.txt"), "inside").unwrap();
    std::os::unix::fs::symlink("/etc", mount.join("etc")).unwrap();
    std::os::unix::fs::symlink(root.join("outside.txt"), mount.join("abs-link")).unwrap();
    std::os::unix::fs::symlink("../../outside.txt", mount.join("sub/rel-link")).unwrap();
    std::os::unix::fs::symlink("inside.txt", mount.join("ok-link")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        mount.join("fifo"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    mount
}

/// A program trying every way out of a [`tempting_mount`] at `/data`
/// (writable): `..`, relative paths after `chdir`, absolute paths, `/proc`,
/// `/dev`, links leading out, a FIFO, making a link, URL-encoded dot
/// segments, a NUL byte, renaming out, removing the mount or the root. It
/// prints, as JSON, each attempt's error code (see
/// [`mount_escapes_refused`]).
pub const MOUNT_ESCAPES: &str = "const fs = require('fs');
             const tries = {
               dotdot: () => fs.readFileSync('/data/../../../../etc/passwd'),
               relative: () => { process.chdir('/data'); return fs.readFileSync('../../etc/hostname'); },
               absolute: () => fs.readFileSync('/etc/passwd'),
               proc: () => fs.readFileSync('/proc/self/environ'),
               dev: () => fs.readFileSync('/dev/zero'),
               etcLink: () => fs.readFileSync('/data/etc/passwd'),
               etcList: () => fs.readdirSync('/data/etc'),
               absLink: () => fs.readFileSync('/data/abs-link'),
               relLink: () => fs.readFileSync('/data/sub/rel-link'),
               writeThroughLink: () => fs.writeFileSync('/data/abs-link', 'pwned'),
               fifo: () => fs.readFileSync('/data/fifo'),
               symlink: () => fs.symlinkSync('/etc/passwd', '/data/new-link'),
               urlPath: () => fs.readFileSync(new URL('file:///data/%2e%2e/%2e%2e/etc/passwd')),
               nul: () => fs.readFileSync('/data/inside.txt\\0/../../etc/passwd'),
               renameOut: () => fs.renameSync('/data/inside.txt', '/tmp/stolen'),
               rmMount: () => fs.rmSync('/data', { recursive: true }),
               rmRoot: () => fs.rmSync('/', { recursive: true }),
             };
             const result = {};
             for (const [name, attempt] of Object.entries(tries)) {
               try { const got = attempt(); result[name] = 'REACHED ' + String(got).slice(0, 20); }
               catch (e) { result[name] = e.code; }
             }
             result.okLink = fs.readFileSync('/data/ok-link', 'utf8');
             console.log(JSON.stringify(result));";

/// What [`MOUNT_ESCAPES`] prints when nothing gets out.
pub fn mount_escapes_refused() -> serde_json::Value {
    serde_json::json!({
        "dotdot": "EACCES", "relative": "EACCES", "absolute": "EACCES", "proc": "EACCES",
        "dev": "EACCES", "etcLink": "EACCES", "etcList": "EACCES", "absLink": "EACCES",
        "relLink": "EACCES", "writeThroughLink": "EACCES", "fifo": "EACCES",
        "symlink": "EPERM", "urlPath": "EACCES", "nul": "ERR_INVALID_ARG_VALUE",
        "renameOut": "EXDEV", "rmMount": "EBUSY", "rmRoot": "EACCES", "okLink": "inside",
    })
}

/// A fresh, empty host directory for one test, named `name`.
pub fn host_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("polybox-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A sandbox whose `network` policy allows fetching what `patterns` match.
pub fn allowing(patterns: &[String]) -> SandboxBuilder {
    let policy =
        serde_json::json!({ "network": { "rules": [{ "mode": "allow", "patterns": patterns }] } });
    SandboxBuilder::new()
        .permissions(polybox::permissions::Permissions::from_json(&policy.to_string()).unwrap())
}

/// A host name other than `localhost` that this machine resolves to
/// loopback addresses only (its own name, or Debian's `ip6-localhost`):
/// what a guest's "public-looking" name with a private DNS answer is made
/// of. `None` where there is none, so a test can say it was skipped.
pub fn name_resolving_to_loopback() -> Option<String> {
    use std::net::ToSocketAddrs;
    let own = rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned();
    [own.as_str(), "ip6-localhost", "ip6-loopback"]
        .into_iter()
        .filter(|name| !name.is_empty() && !name.contains('.') && *name != "localhost")
        .find(|name| {
            (*name, 80).to_socket_addrs().is_ok_and(|addresses| {
                let addresses: Vec<_> = addresses.collect();
                !addresses.is_empty() && addresses.iter().all(|a| a.ip().is_loopback())
            })
        })
        .map(str::to_owned)
}

/// Runs `code` as the next line of a REPL in `runtime`: a global script
/// continuing the process the last run left, within 2 s.
pub fn repl_line(runtime: &mut polybox::Runtime, code: &str) -> polybox::RunOutput {
    let options = polybox::ExecOptions {
        kind: polybox::ProgramKind::Script,
        continue_process: true,
        limits: polybox::CallLimits {
            wall_clock: Some(std::time::Duration::from_millis(2000)),
            ..Default::default()
        },
        ..Default::default()
    };
    runtime.run(code, options).unwrap()
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
