//! The escape corpus: classic sandbox-escape payloads, each asserting that
//! the guest reaches no host filesystem, environment, network or process,
//! and that one sandbox cannot read another's state.

use polybox::{LoadedJSSandbox, SandboxBuilder};
use polybox_tests::{
    MOUNT_ESCAPES, call, component, load_handler, mount_escapes_refused, probe_files, repl_line,
    runtime, tempting_mount,
};
use serde_json::{Value, json};

/// Every global a script sees: the ECMAScript built-ins QuickJS provides,
/// plus `console`, `print`, `TextEncoder`, `TextDecoder`, `performance`,
/// `queueMicrotask`, the web encoding helpers, the timers (which wait
/// through the host, in milliseconds), the web globals (`URL`, `Event`,
/// `AbortController`, `structuredClone`, `Headers`, `Request`, `Response`,
/// `ReadableStream`, `Blob`, `File`, `FormData`, ...), `fetch` (which
/// reaches only what the sandbox's permissions grant, nothing by default),
/// `tools` (the host's tools, none unless registered), and hyperlight-js's
/// `require`, which imports only the modules the sandbox has.
const GLOBALS: &[&str] = &[
    "AbortController",
    "AbortSignal",
    "AggregateError",
    "Array",
    "ArrayBuffer",
    "AsyncDisposableStack",
    "BigInt",
    "BigInt64Array",
    "BigUint64Array",
    "Blob",
    "Boolean",
    "DOMException",
    "DataView",
    "Date",
    "DisposableStack",
    "Error",
    "EvalError",
    "Event",
    "EventTarget",
    "File",
    "FinalizationRegistry",
    "Float16Array",
    "Float32Array",
    "Float64Array",
    "FormData",
    "Function",
    "Headers",
    "Infinity",
    "Int16Array",
    "Int32Array",
    "Int8Array",
    "InternalError",
    "Iterator",
    "JSON",
    "Map",
    "Math",
    "NaN",
    "Number",
    "Object",
    "Promise",
    "Proxy",
    "RangeError",
    "ReadableStream",
    "ReferenceError",
    "Reflect",
    "RegExp",
    "Request",
    "Response",
    "Set",
    "SharedArrayBuffer",
    "String",
    "SuppressedError",
    "Symbol",
    "SyntaxError",
    "TextDecoder",
    "TextEncoder",
    "TypeError",
    "URIError",
    "URL",
    "URLSearchParams",
    "Uint16Array",
    "Uint32Array",
    "Uint8Array",
    "Uint8ClampedArray",
    "WeakMap",
    "WeakRef",
    "WeakSet",
    "addEventListener",
    "atob",
    "btoa",
    "clearImmediate",
    "clearInterval",
    "clearTimeout",
    "console",
    "decodeURI",
    "decodeURIComponent",
    "encodeURI",
    "encodeURIComponent",
    "escape",
    "eval",
    "fetch",
    "globalThis",
    "isFinite",
    "isNaN",
    "parseFloat",
    "parseInt",
    "performance",
    "print",
    "queueMicrotask",
    "removeEventListener",
    "require",
    "setImmediate",
    "setInterval",
    "setTimeout",
    "structuredClone",
    "tools",
    "undefined",
    "unescape",
];

/// Names of capabilities other JavaScript hosts give scripts.
const CAPABILITIES: &str = "['process', 'module', 'exports', 'Deno', 'Bun', 'std', 'os', \
    'XMLHttpRequest', 'WebSocket', 'WebAssembly', 'Worker', 'Atomics', \
    'scriptArgs', '__filename', '__dirname', 'importScripts', 'navigator', \
    'location', 'document', 'global', 'Buffer', 'crypto']";

fn run(source: &str) -> Value {
    let mut loaded = load_handler("h", source);
    call(&mut loaded, "h", json!({})).unwrap()
}

#[test]
fn the_global_object_holds_only_builtins() {
    let names = run("function handler() { return Object.getOwnPropertyNames(globalThis).sort(); }");
    let expected: Vec<&str> = GLOBALS.to_vec();
    assert_eq!(names, json!(expected));
}

#[test]
fn constructor_chains_reach_the_same_global_and_no_capability() {
    let found = run(&format!(
        "function handler() {{
            const viaFunction = (function () {{}}).constructor('return this')();
            const viaAsync = (async function () {{}}).constructor;
            const viaGenerator = (function* () {{}}).constructor('return this');
            const viaEval = (0, eval)('this');
            const sameGlobal = [viaFunction, viaEval, new Function('return globalThis')()].every((g) => g === globalThis)
                && typeof viaAsync === 'function' && typeof viaGenerator === 'function';
            const reachable = {CAPABILITIES}.filter((name) => typeof viaFunction[name] !== 'undefined' || typeof viaEval[name] !== 'undefined');
            return {{ sameGlobal, reachable, eval: eval('1 + 1') }};
        }}"
    ));
    assert_eq!(
        found,
        json!({"sameGlobal": true, "reachable": [], "eval": 2})
    );
}

#[test]
fn no_webassembly_or_threads_inside_the_guest() {
    let found = run(
        "function handler() { return [typeof WebAssembly, typeof Worker, typeof Atomics, typeof SharedArrayBuffer]; }",
    );
    // A SharedArrayBuffer without threads or Atomics cannot build a timer.
    assert_eq!(
        found,
        json!(["undefined", "undefined", "undefined", "function"])
    );
}

#[test]
fn stack_traces_name_only_modules() {
    let structured = run(
        "function handler() {
            Error.prepareStackTrace = (error, sites) => sites.map((s) => [s.getFileName(), s.getFunctionName(), String(s.getThis?.())]);
            return new Error('probe').stack;
        }",
    );
    assert_eq!(structured, json!([["handler/h", "handler", "undefined"]]));
    let text = run("function handler() { return new Error('probe').stack; }");
    let text = text.as_str().unwrap();
    assert!(text.contains("handler/h"), "{text}");
    for host_path in [
        "/work",
        "/home",
        "/root",
        "/tmp",
        ".rs",
        "polybox-guest",
        "cargo",
    ] {
        assert!(!text.contains(host_path), "{text}");
    }
}

#[test]
fn dynamic_import_reaches_no_host_path_or_internal_module() {
    let found = run(
        "async function handler() {
            const specifiers = ['/etc/passwd', 'file:///etc/passwd', '../../../../etc/passwd', './h',
                'std', 'os', 'node:fs', 'fs', 'child_process', 'host:../fs', 'host:', 'user:',
                '#host-bridge', '#crypto', 'data:text/javascript,export default 1',
                'https://example.com/x.js'];
            const reached = [];
            for (const specifier of specifiers) {
                try { await import(specifier); reached.push(specifier); } catch (e) {}
            }
            return reached;
        }",
    );
    assert_eq!(found, json!([]));
}

#[test]
fn static_import_of_an_internal_module_is_refused() {
    let mut sandbox = runtime(SandboxBuilder::new());
    sandbox
        .add_handler(
            "h",
            "import { call } from '#host-bridge';\nfunction handler() { return call; }",
        )
        .unwrap();
    let failure = sandbox.get_loaded_sandbox().unwrap_err();
    assert_eq!(failure.code(), polybox::ErrorCode::GuestError);
}

#[test]
fn a_json_event_cannot_pollute_prototypes() {
    let mut loaded = load_handler(
        "h",
        "function handler(e) { const o = Object.assign({}, e); return [({}).polluted, Object.prototype.polluted, typeof o.polluted, Object.keys(e)]; }",
    );
    let found = loaded
        .handle_event("h", r#"{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}"#, None)
        .unwrap();
    let found: Value = serde_json::from_str(&found).unwrap();
    assert_eq!(found[0], Value::Null);
    assert_eq!(found[1], Value::Null);
    assert_eq!(found[3], json!(["__proto__", "constructor"]));
}

/// Two sandboxes with the same handlers and modules.
fn twins() -> (LoadedJSSandbox, LoadedJSSandbox) {
    let make = || {
        let mut sandbox = runtime(SandboxBuilder::new());
        sandbox
            .add_module("store", "export const state = {};", None)
            .unwrap();
        sandbox
            .add_handler(
                "write",
                "import { state } from 'user:store';\nfunction handler(e) {
                    state.secret = e.secret; globalThis.leak = e.secret;
                    Object.prototype.polluted = e.secret; Array.prototype.map = () => e.secret;
                    JSON.stringify = () => e.secret;
                    return 'written';
                }",
            )
            .unwrap();
        sandbox
            .add_handler(
                "read",
                "import { state } from 'user:store';\nfunction handler() {
                    return [state.secret ?? null, globalThis.leak ?? null, ({}).polluted ?? null, [1].map((x) => x)[0]];
                }",
            )
            .unwrap();
        sandbox.get_loaded_sandbox().unwrap()
    };
    (make(), make())
}

#[test]
fn one_sandbox_cannot_read_or_pollute_another() {
    let (mut a, mut b) = twins();
    let clean = a.snapshot().unwrap();
    assert_eq!(
        call(&mut a, "write", json!({"secret": "s3cret"})).unwrap(),
        json!("written")
    );
    // Within one sandbox, handlers share a realm: the writer's changes show.
    assert_eq!(
        call(&mut a, "read", json!({})).unwrap(),
        json!(["s3cret", "s3cret", "s3cret", "s"])
    );
    // Its twin sees none of it.
    assert_eq!(
        call(&mut b, "read", json!({})).unwrap(),
        json!([null, null, null, 1])
    );
    // And restore takes it all back.
    a.restore(&clean).unwrap();
    assert_eq!(
        call(&mut a, "read", json!({})).unwrap(),
        json!([null, null, null, 1])
    );
}

#[test]
fn timing_probes_get_a_clock_and_nothing_finer_than_a_microsecond() {
    let found = run("function handler() {
            let finest = Infinity, last = performance.now();
            for (let i = 0; i < 10000; i++) {
                const now = performance.now();
                if (now > last) finest = Math.min(finest, now - last);
                last = now;
            }
            return { finest, dateIsInteger: Number.isInteger(Date.now()) };
        }");
    assert_eq!(found["dateIsInteger"], json!(true));
    // The clock ticks, but no shared-memory counter exists to sharpen it.
    assert!(found["finest"].as_f64().unwrap() >= 0.000_999, "{found}");
}

#[test]
fn a_component_reaches_no_file_environment_network_or_process() {
    let mut sandbox = runtime(SandboxBuilder::new());
    sandbox
        .add_component_handler("probe", component("escape_probe"))
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    let report = call(&mut loaded, "probe", json!({})).unwrap();
    assert_eq!(report["environment"], json!(0), "{report}");
    assert_eq!(report["arguments"], json!(0), "{report}");
    // Standard input is empty. The files are the sandbox's own tree: `/`
    // holds only its in-memory `/tmp` (which the component may write), and
    // nothing of the host's.
    assert_eq!(report["read stdin"], json!("reached: 0"), "{report}");
    assert_eq!(report["list /"], json!("reached: 1"), "{report}");
    assert_eq!(report["list ."], json!("reached: 1"), "{report}");
    assert!(
        report["create /tmp/escape"]
            .as_str()
            .unwrap()
            .starts_with("reached: "),
        "{report}"
    );
    for attempt in [
        "read /etc/passwd",
        "connect tcp",
        "listen tcp",
        "bind udp",
        "resolve name",
        "spawn process",
    ] {
        let outcome = report[attempt].as_str().unwrap();
        assert!(outcome.starts_with("denied: "), "{attempt}: {outcome}");
    }
}

// ---- programs ---------------------------------------------------------------

/// Runs `code` as a program; returns what it printed.
fn program(code: &str) -> String {
    let mut runtime = polybox::Runtime::builder().build().unwrap();
    let output = runtime.exec(code, polybox::ExecOptions::default()).unwrap();
    assert_eq!(output.exit_code, 0, "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn a_program_adds_only_its_process_and_node_globals() {
    let added = program(&format!(
        "const builtins = new Set({});
         console.log(JSON.stringify(Object.getOwnPropertyNames(globalThis).filter((n) => !builtins.has(n)).sort()));",
        serde_json::to_string(GLOBALS).unwrap()
    ));
    // `__polybox_session` is the sessions' call glue (see `Session`): it
    // reaches nothing but hostcalls, which a sandbox without a hostcall
    // handler refuses.
    assert_eq!(
        added,
        "[\"Buffer\",\"__polybox_session\",\"__return\",\"process\"]\n"
    );
}

#[test]
fn a_programs_process_reaches_no_host_process_file_or_environment() {
    let found = program(
        "const reached = [];
         for (const name of ['binding', '_linkedBinding', 'dlopen', 'getuid', 'setuid', 'umask', 'openStdin', 'mainModule', 'report', 'permission']) {
           if (typeof process[name] !== 'undefined') reached.push(name);
         }
         try { process.kill(1, 'SIGKILL'); reached.push('kill'); } catch (e) { if (e.code !== 'ENOSYS') reached.push('kill:' + e.code); }
         for (const specifier of ['child_process', 'node:child_process', 'net', 'https', 'worker_threads', 'vm', 'module', 'v8', '#node', '#host-bridge', '/etc/passwd', 'file:///etc/passwd']) {
           try { require(specifier); reached.push('require ' + specifier); } catch {}
         }
         const os = require('os');
         const machine = [os.hostname(), os.homedir(), os.tmpdir(), os.cpus().length, os.totalmem(), JSON.stringify(os.networkInterfaces()), os.userInfo().username];
         console.log(JSON.stringify({ reached, machine, env: Object.keys(process.env), argv: process.argv, cwd: process.cwd(), pid: process.pid, execPath: process.execPath }));",
    );
    assert_eq!(
        found,
        "{\"reached\":[],\"machine\":[\"localhost\",\"/home/user\",\"/tmp\",0,0,\"{}\",\"user\"],\"env\":[],\"argv\":[\"polybox\",\"/[eval]\"],\"cwd\":\"/\",\"pid\":1,\"execPath\":\"/usr/local/bin/polybox\"}\n"
    );
}

#[test]
fn a_listening_program_takes_no_host_port_and_makes_no_request() {
    // A port free on the host now: the program listens on it.
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = polybox::Runtime::builder()
        .build()
        .unwrap()
        .spawn(
            &format!(
                "const http = require('http');
                 http.createServer((req, res) => res.end('inside')).listen({port}, '0.0.0.0');
                 let refused = [];
                 for (const call of [() => http.request('http://127.0.0.1:1/'), () => http.get('http://127.0.0.1:1/')]) {{
                   try {{ call(); }} catch (e) {{ refused.push(e.code); }}
                 }}
                 console.log(refused.join());"
            ),
            polybox::ExecOptions::default(),
        )
        .unwrap();
    server
        .wait_for_listener(port, std::time::Duration::from_secs(30))
        .unwrap();
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the sandbox's port is open on the host"
    );
    let inside = server
        .fetch(port, polybox::HttpRequest::new("GET", "http://localhost/"))
        .unwrap();
    assert_eq!(inside.body, b"inside");
    server.kill();
    let (output, _) = server.wait().unwrap();
    assert_eq!(output.stdout, b"ERR_NOT_SUPPORTED,ERR_NOT_SUPPORTED\n");
}

#[test]
fn a_program_imports_no_host_path_or_internal_module() {
    let found = program(
        "const reached = [];
         for (const specifier of ['/etc/passwd', 'file:///etc/passwd', '../x', 'child_process',
             '#node', '#host-bridge', '#crypto', 'node:internal/process', 'data:text/javascript,export default 1']) {
           try { await import(specifier); reached.push(specifier); } catch {}
         }
         console.log(JSON.stringify(reached));",
    );
    assert_eq!(found, "[]\n");
}

#[test]
fn one_program_cannot_see_or_poison_the_next() {
    let mut runtime = polybox::Runtime::builder().build().unwrap();
    let options = polybox::ExecOptions::default;
    runtime
        .exec(
            "Object.prototype.polluted = 1; Array.prototype.push = () => 0; process.on('exit', () => console.log('leak'));
             globalThis.setTimeout = () => { throw new Error('hijacked'); }; JSON.parse = () => 'owned';
             setInterval(() => {}, 1).unref();",
            options(),
        )
        .unwrap();
    let output = runtime
        .exec(
            "const a = []; a.push(1); setTimeout(() => console.log(({}).polluted, a.length, JSON.parse('1')), 1);",
            options(),
        )
        .unwrap();
    assert_eq!(output.stdout, b"undefined 1 1\n");
}

/// Runs `code` as a program with `mount` at `/data`, writable, under the
/// permissions `policy` (JSON) if one is given.
fn on_data_mount(mount: &std::path::Path, policy: Option<&str>, code: &str) -> polybox::ExecOutput {
    let mut sandbox = SandboxBuilder::new().mount(polybox::Mount::read_write("/data", mount));
    if let Some(policy) = policy {
        sandbox =
            sandbox.permissions(polybox::permissions::Permissions::from_json(policy).unwrap());
    }
    let mut runtime = polybox::Runtime::builder()
        .sandbox(sandbox)
        .build()
        .unwrap();
    runtime.exec(code, polybox::ExecOptions::default()).unwrap()
}

#[test]
fn a_programs_files_lead_nowhere_outside_its_mounts() {
    let mount = tempting_mount("paths");
    let output = on_data_mount(&mount, None, MOUNT_ESCAPES);
    let result: Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("{output:?}"));
    assert_eq!(result, mount_escapes_refused());
    let outside = mount.parent().unwrap().join("outside.txt");
    assert_eq!(std::fs::read_to_string(outside).unwrap(), "outside");
    assert_eq!(
        std::fs::read_to_string(mount.join("inside.txt")).unwrap(),
        "inside"
    );
}

#[test]
fn a_components_files_lead_nowhere_outside_its_mounts() {
    let mount = tempting_mount("component");
    std::fs::create_dir_all(mount.join("private")).unwrap();
    std::fs::write(mount.join("private/key"), "PRIVATE").unwrap();
    std::os::unix::fs::symlink("private/key", mount.join("alias")).unwrap();
    let policy = polybox::permissions::Permissions::from_json(
        r#"{"fs":{"rules":[{"mode":"deny","paths":["/data/private"]}]}}"#,
    )
    .unwrap();
    let sandbox = SandboxBuilder::new()
        .mount(polybox::Mount::read_write("/data", &mount))
        .permissions(policy);
    let attempts: &[&[&str]] = &[
        &["read", "/data/../../../../etc/passwd"],
        &["read", "/etc/passwd"],
        &["read", "/proc/self/environ"],
        &["read", "/dev/zero"],
        &["read", "/data/etc/passwd"],
        &["list", "/data/etc"],
        &["read", "/data/abs-link"],
        &["read", "/data/sub/rel-link"],
        &["write", "/data/abs-link", "pwned"],
        &["read", "/data/fifo"],
        &["symlink", "/data/new-link", "/etc/passwd"],
        &["hard_link", "/data/hard-link", "/data/inside.txt"],
        &["rename", "/data/inside.txt", "/tmp/stolen"],
        &["rmdir", "/data"],
        &["read", "/data/private/key"],
        &["read", "/data/alias"],
        &["write", "/data/alias", "overwritten"],
        &["read", "/data/ok-link"],
    ];
    let outcomes = probe_files(sandbox, attempts);
    // Only the link that stays inside the mount leads anywhere; a rename
    // cannot cross the mount, and the mount point cannot be removed.
    let mut expected = vec!["err: PermissionDenied"; attempts.len()];
    expected[12] = "err: CrossesDevices";
    expected[13] = "err: ResourceBusy";
    expected[17] = r#"ok: "inside""#;
    assert_eq!(outcomes, expected);
    let outside = mount.parent().unwrap().join("outside.txt");
    assert_eq!(std::fs::read_to_string(outside).unwrap(), "outside");
    assert_eq!(
        std::fs::read_to_string(mount.join("private/key")).unwrap(),
        "PRIVATE"
    );
    assert!(!mount.join("new-link").exists() && !mount.join("hard-link").exists());
    assert!(mount.join("inside.txt").exists());
}

#[test]
fn a_host_link_inside_a_mount_does_not_lead_around_a_denial() {
    let mount = tempting_mount("alias");
    std::fs::create_dir_all(mount.join("private")).unwrap();
    std::fs::write(mount.join("private/key"), "PRIVATE").unwrap();
    std::os::unix::fs::symlink("private/key", mount.join("alias")).unwrap();
    std::os::unix::fs::symlink("private", mount.join("dir-alias")).unwrap();
    let output = on_data_mount(
        &mount,
        Some(r#"{"fs":{"rules":[{"mode":"deny","paths":["/data/private"]}]}}"#),
        "const fs = require('fs');
             for (const f of [() => fs.readFileSync('/data/private/key', 'utf8'), () => fs.readFileSync('/data/alias', 'utf8'),
                              () => fs.readFileSync('/data/dir-alias/key', 'utf8'), () => fs.writeFileSync('/data/dir-alias/new', 'x'),
                              () => fs.writeFileSync('/data/alias', 'overwritten'), () => fs.readFileSync('/data/inside.txt', 'utf8')]) {
               try { console.log(f()); } catch (e) { console.log(e.code); }
             }",
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "EACCES\nEACCES\nEACCES\nEACCES\nEACCES\ninside\n"
    );
    assert_eq!(
        std::fs::read_to_string(mount.join("private/key")).unwrap(),
        "PRIVATE"
    );
    assert!(!mount.join("private/new").exists());
}

#[test]
fn fetch_reaches_nothing_ungranted() {
    let found = program(
        "const results = [];
         for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://127.0.0.1:1/', 'http://localhost/',
                            'http://[::1]/', 'http://0.0.0.0/', 'http://2130706433/', 'http://0x7f.1/', 'https://example.com/',
                            'file:///etc/passwd', 'data:text/plain,x', 'ftp://example.com/', 'http://user:pass@example.com/']) {
           try { await fetch(url); results.push('REACHED ' + url); }
           catch (e) { results.push(e instanceof TypeError ? (e.cause?.code ?? 'TypeError') : 'other:' + e); }
         }
         console.log(JSON.stringify(results));",
    );
    let results: Vec<String> = serde_json::from_str(found.trim()).unwrap();
    assert_eq!(results.len(), 12);
    for (i, result) in results.iter().enumerate() {
        assert!(
            result == "EACCES" || result == "EINVAL" || result == "TypeError",
            "case {i}: {result}"
        );
    }
}

#[test]
fn removing_or_moving_a_directory_does_not_take_a_denied_path_with_it() {
    let mount = tempting_mount("subtree");
    std::fs::create_dir_all(mount.join("a/private")).unwrap();
    std::fs::write(mount.join("a/private/key"), "PRIVATE").unwrap();
    let output = on_data_mount(
        &mount,
        Some(r#"{"fs":{"rules":[{"mode":"deny","paths":["/data/a/private", "/tmp/locked"]}]}}"#),
        "const fs = require('fs');
             fs.mkdirSync('/tmp/outer'); fs.mkdirSync('/tmp/outer/x');
             const tries = [() => fs.rmSync('/data/a', { recursive: true }), () => fs.renameSync('/data/a', '/data/b'),
                            () => fs.renameSync('/tmp/outer', '/tmp/locked'), () => fs.rmSync('/tmp/outer', { recursive: true })];
             for (const f of tries) { try { f(); console.log('done'); } catch (e) { console.log(e.code); } }",
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "EACCES\nEACCES\nEACCES\ndone\n",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(mount.join("a/private/key")).unwrap(),
        "PRIVATE"
    );
}

#[test]
fn a_global_script_continuing_its_process_reaches_no_more_than_a_program() {
    let mut runtime = polybox::Runtime::builder().build().unwrap();
    // A first line tampers with what the next would use.
    repl_line(
        &mut runtime,
        "globalThis.require = (name) => ({ escaped: name }); Object.prototype.polluted = 1;",
    );
    let found = repl_line(
        &mut runtime,
        "const reached = [];
         for (const specifier of ['child_process', 'node:child_process', 'net', 'worker_threads', 'vm', '#node', '/etc/passwd']) {
           try { const m = require(specifier); if (!m || m.escaped === undefined) reached.push('require ' + specifier); } catch {}
           try { await import(specifier); reached.push('import ' + specifier); } catch {}
         }
         for (const name of ['binding', '_linkedBinding', 'dlopen']) if (typeof process[name] !== 'undefined') reached.push(name);
         try { require('fs').readFileSync('/etc/passwd'); reached.push('read /etc/passwd'); } catch {}
         JSON.stringify(reached)",
    );
    // `require` is the script's own again (each line gets the runtime's),
    // and it reaches nothing a program could not.
    assert_eq!(found.value.as_deref(), Some("\"[]\""), "{:?}", found.output);
}

/// What a Python handler `source` (defining `probe()`) returns, in a fresh
/// Python sandbox.
fn python_probe(source: &str) -> Value {
    let mut sandbox = runtime(SandboxBuilder::new().language(polybox::Language::Python));
    sandbox
        .add_handler(
            "h",
            format!("{source}\ndef handler(e):\n    return probe()\n"),
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    let value = call(&mut loaded, "h", json!({})).unwrap();
    assert!(!loaded.poisoned(), "a probe trapped");
    value
}

/// Each attempt is a callable; what it raised (or "REACHED").
const PY_ATTEMPTS: &str = "def attempt(f):
    try:
        f()
        return 'REACHED'
    except BaseException as e:
        return type(e).__name__
";

#[test]
fn python_reaches_no_host_file_through_any_door() {
    let found = python_probe(&format!(
        "{PY_ATTEMPTS}
import os, posix, io, _io, pathlib, importlib, sys
def probe():
    assert sorted(os.listdir('/')) == ['tmp'], os.listdir('/')
    return [attempt(f) for f in [
        lambda: open('/etc/passwd'),
        lambda: io.open('/etc/passwd'),
        lambda: _io.open('/etc/passwd'),
        lambda: _io.FileIO('/etc/passwd'),
        lambda: posix.open('/etc/passwd', posix.O_RDONLY),
        lambda: os.listdir('/etc'),
        lambda: posix.listdir('/etc'),
        lambda: posix.scandir('/etc'),
        lambda: posix.stat('/etc/passwd'),
        lambda: pathlib.Path('/etc/passwd').read_text(),
        lambda: os.chdir('/etc'),
        lambda: os.mkdir('/etc/x'),
        lambda: open('/proc/self/environ', 'rb').read(),
        lambda: open('/etc/passwd', 'w').write('x'),
        lambda: os.remove('/etc/passwd'),
        lambda: importlib.import_module('ctypes'),
        lambda: importlib.import_module('_ctypes'),
    ]]"
    ));
    // The sandbox's filesystem has no /etc or /proc (only what was mounted
    // or seeded, and /tmp); C code's own file access is refused.
    let attempts = found.as_array().unwrap();
    for (index, outcome) in attempts.iter().enumerate() {
        assert!(
            [
                "PermissionError",
                "FileNotFoundError",
                "ModuleNotFoundError"
            ]
            .contains(&outcome.as_str().unwrap()),
            "attempt {index}: {outcome}"
        );
    }
}

#[test]
fn python_reaches_no_process_network_or_environment() {
    let found = python_probe(&format!(
        "{PY_ATTEMPTS}
import os, sys, subprocess, socket
def probe():
    return {{
        'attempts': [attempt(f) for f in [
            lambda: os.system('id'),
            lambda: subprocess.run(['id']),
            lambda: socket.socket().connect(('127.0.0.1', 22)),
            lambda: socket.create_connection(('example.com', 80)),
            lambda: os.kill(1, 9),
            lambda: os.execv('/bin/sh', ['sh']),
        ]],
        'environ': dict(os.environ),
        'argv': sys.argv,
        'path': sys.path,
        'meta_path': [type(f).__name__ if not isinstance(f, type) else f.__name__ for f in sys.meta_path],
    }}"
    ));
    for (index, outcome) in found["attempts"].as_array().unwrap().iter().enumerate() {
        assert_ne!(outcome, "REACHED", "attempt {index}");
    }
    assert_eq!(found["environ"], json!({}));
    assert_eq!(found["path"], json!([]));
    // Imports come from what the guest carries (host modules, user modules,
    // built-in and frozen modules) and from `.py` files on the sandbox's
    // own filesystem (a program's directory; nothing for a handler). No
    // finder reaches host files.
    assert_eq!(
        found["meta_path"],
        json!([
            "_Finder",
            "BuiltinImporter",
            "FrozenImporter",
            "_SourceFinder"
        ])
    );
}

#[test]
fn python_sandboxes_cannot_see_each_other() {
    let mut first = runtime(SandboxBuilder::new().language(polybox::Language::Python));
    first
        .add_handler("h", "import builtins\nsecret = []\ndef handler(e):\n    secret.append(e)\n    builtins.leak = e\n    return len(secret)\n")
        .unwrap();
    let mut first = first.get_loaded_sandbox().unwrap();
    call(&mut first, "h", json!("first's secret")).unwrap();
    let seen = python_probe(
        "import builtins, gc\ndef probe():\n    return [getattr(builtins, 'leak', None), any(o == \"first's secret\" for o in gc.get_objects() if isinstance(o, str))]",
    );
    assert_eq!(seen, json!([null, false]));
}
