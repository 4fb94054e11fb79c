//! The `polybox` command as a user runs it: results on stdout, one line per
//! failure on stderr, an exit code per kind of failure.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use polybox_tests::component_path;

/// A scratch directory for one test's files.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("polybox-cli-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn polybox(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_polybox"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn run(handler: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", handler.to_str().unwrap()];
    args.extend_from_slice(extra);
    polybox(&args, "")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const ECHO: &str = "function handler(event) { return event; }";

#[test]
fn a_handler_prints_its_result_and_a_missing_event_is_an_empty_object() {
    let scratch = Scratch::new("echo");
    let echo = scratch.file("echo.js", ECHO);
    let output = run(&echo, &["--event", r#"{"x":1}"#]);
    assert_eq!(
        (output.status.code(), text(&output.stdout)),
        (Some(0), "{\"x\":1}\n".into())
    );
    assert_eq!(text(&run(&echo, &[]).stdout), "{}\n");
}

#[test]
fn a_runaway_handler_is_stopped_by_a_default_limit_and_exits_124() {
    let help = text(&polybox(&["run", "--help"], "").stdout);
    assert!(help.contains("[default: 30000]"), "{help}");
    assert!(help.contains("124"), "{help}");
    let scratch = Scratch::new("spin");
    let spin = scratch.file("spin.js", "function handler() { for (;;) {} }");
    let output = run(&spin, &["--wall-ms", "100"]);
    assert_eq!(output.status.code(), Some(124), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("wall-clock"));
}

#[test]
fn sizes_are_flags_and_hints_name_them() {
    let scratch = Scratch::new("sizes");
    let echo = scratch.file("echo.js", ECHO);
    let output = run(
        &echo,
        &[
            "--input-buffer",
            "16",
            "--event",
            r#""a long event, longer than sixteen bytes""#,
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("ERR_INVALID_ARG:") && stderr.contains("--input-buffer"),
        "{stderr}"
    );
    assert_eq!(
        run(&echo, &["--heap", "64MiB", "--stack", "2MiB"])
            .status
            .code(),
        Some(0)
    );
    let bad = run(&echo, &["--heap", "12PB"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("unknown unit"));
}

#[test]
fn each_failure_has_its_exit_code_and_stacks_name_the_users_file() {
    let scratch = Scratch::new("codes");
    let thrower = scratch.file(
        "thrower.js",
        "function handler() {\n  const x = 1;\n  null.boom;\n}",
    );
    let output = run(&thrower, &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("thrower.js:3"), "{stderr}");
    assert!(!stderr.contains("handler/"), "{stderr}");

    let missing = run(&scratch.0.join("absent.js"), &[]);
    assert_eq!(missing.status.code(), Some(3));
    assert_eq!(text(&missing.stderr).lines().count(), 1);
}

#[test]
fn files_are_told_apart_by_their_bytes_not_their_names() {
    let scratch = Scratch::new("bytes");
    let component = std::fs::read(component_path("echo_handler")).unwrap();
    let renamed = scratch.file("echo-handler", component);
    let output = run(&renamed, &["--event", r#"{"x":1}"#]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "{\"echo\":{\"x\":1}}\n");

    let core = scratch.file("core.wasm", b"\0asm\x01\0\0\0");
    let output = run(&core, &[]);
    assert_eq!(output.status.code(), Some(3));
    assert!(text(&output.stderr).contains("core WebAssembly module, not a component"));

    let binary = scratch.file("image.png", [0x89, b'P', b'N', b'G', 0xff, 0xfe]);
    let output = run(&binary, &[]);
    assert_eq!(output.status.code(), Some(3));
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("neither a WebAssembly component nor UTF-8 source code"));
}

#[test]
fn events_come_from_stdin_or_a_file_of_lines() {
    let scratch = Scratch::new("events");
    let echo = scratch.file("echo.js", ECHO);
    let output = polybox(
        &["run", echo.to_str().unwrap(), "--event-file", "-"],
        r#"{"from":"stdin"}"#,
    );
    assert_eq!(text(&output.stdout), "{\"from\":\"stdin\"}\n");

    let doubler = scratch.file(
        "double.js",
        "function handler(e) { if (e.spin) for (;;) {} return e.n * 2; }",
    );
    let events = scratch.file("events.jsonl", "{\"n\":1}\n{\"spin\":true}\n\n{\"n\":21}\n");
    let output = run(
        &doubler,
        &["--events", events.to_str().unwrap(), "--wall-ms", "100"],
    );
    assert_eq!(text(&output.stdout), "2\n42\n");
    assert!(
        text(&output.stderr).contains("line 2: ERR_CANCELLED"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(124));
}

#[test]
fn exported_and_default_exported_handlers_are_accepted() {
    let scratch = Scratch::new("exports");
    for source in [
        "export function handler(e) { return e.n + 1; }",
        "export default function handler(e) { return e.n + 1; }",
        "export default function (e) { return e.n + 1; }",
        "export default (e) => e.n + 1;",
    ] {
        let file = scratch.file("h.js", source);
        let output = run(&file, &["--event", r#"{"n":1}"#]);
        assert_eq!(
            text(&output.stdout),
            "2\n",
            "{source}: {}",
            text(&output.stderr)
        );
    }
}

#[test]
fn the_wit_package_is_printed_and_a_bad_bench_path_fails_at_once() {
    let wit = text(&polybox(&["wit"], "").stdout);
    assert!(wit.starts_with("package polybox:sandbox@"), "{wit}");
    assert!(wit.contains("world handler"));
    let output = polybox(
        &["bench", "--quick", "--json", "/nonexistent/dir/out.json"],
        "",
    );
    assert_eq!(output.status.code(), Some(3));
    assert!(text(&output.stderr).contains("cannot write /nonexistent/dir/out.json"));
    assert!(!text(&output.stdout).contains("polybox bench"));
}

#[test]
fn exec_passes_stdio_through_and_exits_with_the_programs_code() {
    let output = polybox(
        &[
            "exec",
            "-e",
            "console.log('hi'); console.error('oops'); process.exit(3)",
        ],
        "",
    );
    assert_eq!(text(&output.stdout), "hi\n");
    assert_eq!(text(&output.stderr), "oops\n");
    assert_eq!(output.status.code(), Some(3));
}

#[test]
fn exec_reads_its_stdin() {
    let program =
        "let s='';for await (const c of process.stdin) s+=c; console.log(s.trim().toUpperCase())";
    let output = polybox(&["exec", "-e", program], "abc\n");
    assert_eq!(text(&output.stdout), "ABC\n");
    assert_eq!(output.status.code(), Some(0));
    let scratch = Scratch::new("exec-stdin");
    let input = scratch.file("input.txt", "from a file");
    let output = polybox(
        &["exec", "--stdin", input.to_str().unwrap(), "-e", program],
        "ignored",
    );
    assert_eq!(text(&output.stdout), "FROM A FILE\n");
}

#[test]
fn exec_runs_a_file_with_its_arguments_env_and_kind() {
    let scratch = Scratch::new("exec-file");
    let module = scratch.file(
        "main.mjs",
        "import { argv, env } from 'node:process';\nconsole.log(argv.slice(1).join(' '), env.MODE, import.meta !== undefined);",
    );
    let output = polybox(
        &[
            "exec",
            "--env",
            "MODE=test",
            module.to_str().unwrap(),
            "--",
            "a",
            "--b",
        ],
        "",
    );
    let resolved = module.canonicalize().unwrap();
    assert_eq!(
        text(&output.stdout),
        format!("{} a --b test true\n", resolved.display()),
        "{}",
        text(&output.stderr)
    );
    std::fs::write(scratch.0.join("package.json"), r#"{"type":"commonjs"}"#).unwrap();
    let script = scratch.file("tool.js", "console.log(typeof require, __filename)");
    let output = polybox(&["exec", "--cwd", "/srv", script.to_str().unwrap()], "");
    assert_eq!(
        text(&output.stdout),
        format!("function {}\n", script.canonicalize().unwrap().display())
    );
}

#[test]
fn exec_reports_a_limit_and_exits_124() {
    let output = polybox(
        &[
            "exec",
            "--timeout-ms",
            "100",
            "-e",
            "console.log('start'); setTimeout(() => {}, 60000)",
        ],
        "",
    );
    assert_eq!(text(&output.stdout), "start\n");
    assert_eq!(output.status.code(), Some(124));
    assert!(
        text(&output.stderr).contains("ERR_CANCELLED"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn exec_refuses_bad_arguments() {
    let output = polybox(&["exec"], "");
    assert_eq!(output.status.code(), Some(2));
    let output = polybox(&["exec", "--env", "NOVALUE", "-e", "1"], "");
    assert_eq!(output.status.code(), Some(2));
    let output = polybox(&["exec", "/no/such/file.js"], "");
    assert_eq!(output.status.code(), Some(3));
}

#[test]
fn exec_imports_its_own_modules_but_reads_only_what_is_granted() {
    let scratch = Scratch::new("exec-grants");
    std::fs::create_dir_all(scratch.0.join("lib")).unwrap();
    std::fs::create_dir_all(scratch.0.join("data")).unwrap();
    std::fs::create_dir_all(scratch.0.join("out")).unwrap();
    scratch.file("lib/greet.mjs", "export const greet = (n) => `hello ${n}`;");
    scratch.file("data/name.txt", "ann");
    let data = scratch.0.join("data").canonicalize().unwrap();
    let out = scratch.0.join("out").canonicalize().unwrap();
    let main = scratch.file(
        "main.mjs",
        format!(
            "import {{ greet }} from './lib/greet.mjs';
             import fs from 'node:fs';
             const name = fs.readFileSync('{data}/name.txt', 'utf8');
             fs.writeFileSync('{out}/greeting.txt', greet(name));
             try {{ fs.readFileSync(new URL('./lib/greet.mjs', 'file://' + process.argv[1])); }} catch (e) {{ console.log('own source:', e.code); }}
             try {{ fs.writeFileSync('{data}/x', 'x'); }} catch (e) {{ console.log('read-only:', e.code); }}
             console.log(process.env.GRANTED, process.env.HOME);",
            data = data.display(),
            out = out.display()
        ),
    );
    let output = Command::new(env!("CARGO_BIN_EXE_polybox"))
        .args([
            "exec",
            "--allow-read",
            data.to_str().unwrap(),
            "--allow-write",
            out.to_str().unwrap(),
            "--allow-env",
            "GRANTED",
            main.to_str().unwrap(),
        ])
        .env("GRANTED", "yes")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        text(&output.stdout),
        "own source: EACCES\nread-only: EACCES\nyes undefined\n",
        "{}",
        text(&output.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("greeting.txt")).unwrap(),
        "hello ann"
    );
}

#[test]
fn exec_mounts_directories_node_modules_and_a_policy() {
    let scratch = Scratch::new("exec-mounts");
    std::fs::create_dir_all(scratch.0.join("input")).unwrap();
    scratch.file("input/a.txt", "A");
    let node_modules = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../tests/fixtures/npm/node_modules");
    assert!(
        node_modules.join("is-number").is_dir(),
        "run `make test`: {node_modules:?}"
    );
    let input = format!("{}:/input", scratch.0.join("input").display());
    let output = polybox(
        &[
            "exec",
            "--mount",
            &input,
            "--node-modules",
            node_modules.to_str().unwrap(),
            "--permissions",
            r#"{"fs":{"rules":[{"mode":"deny","paths":["/input/secret"]}]}}"#,
            "-e",
            "const isNumber = require('is-number'); const fs = require('fs');
             console.log(isNumber(7), fs.readFileSync('/input/a.txt', 'utf8'), fs.readdirSync('/').join(','));
             try { fs.readFileSync('/input/secret'); } catch (e) { console.log(e.code); }",
        ],
        "",
    );
    assert_eq!(
        text(&output.stdout),
        "true A input,node_modules,tmp\nEACCES\n",
        "{}",
        text(&output.stderr)
    );
    for bad in [
        vec!["exec", "--mount", "nocolon", "-e", "1"],
        vec!["exec", "--mount", "/definitely/missing:/x", "-e", "1"],
        vec!["exec", "--allow-read", "/definitely/missing", "-e", "1"],
        vec!["exec", "--permissions", "{\"fs\":\"sometimes\"}", "-e", "1"],
    ] {
        let output = polybox(&bad, "");
        assert_eq!(
            output.status.code(),
            Some(2),
            "{bad:?}: {}",
            text(&output.stderr)
        );
        assert!(
            text(&output.stderr).contains("ERR_INVALID_ARG"),
            "{bad:?}: {}",
            text(&output.stderr)
        );
    }
}

#[test]
fn exec_fetches_only_from_allowed_hosts() {
    let server = polybox_tests_server();
    let code = format!(
        "for (const url of ['http://127.0.0.1:{port}/hello', 'http://127.0.0.2:{port}/hello']) {{
           try {{ console.log(await (await fetch(url)).text()); }} catch (e) {{ console.log(e.cause.code); }}
         }}",
        port = server
    );
    let allowed = format!("127.0.0.1:{server}");
    let output = polybox(&["exec", "--allow-net", &allowed, "-e", &code], "");
    assert_eq!(
        text(&output.stdout),
        "hello\nEACCES\n",
        "{}",
        text(&output.stderr)
    );
    let output = polybox(&["exec", "-e", &code], "");
    assert_eq!(
        text(&output.stdout),
        "EACCES\nEACCES\n",
        "{}",
        text(&output.stderr)
    );
    let output = polybox(&["exec", "--allow-net", "a/b", "-e", "1"], "");
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
}

#[test]
fn a_granted_host_spelled_in_the_path_reaches_nothing() {
    // The commands that escaped the allow-list: `--allow-net HOST` was a
    // glob over `scheme://host:port/path`, and the path could spell HOST.
    let server = polybox_tests_server();
    for (grant, url) in [
        (
            "example.com",
            format!("http://127.0.0.1:{server}/x://example.com:1/"),
        ),
        (
            "127.0.0.1:1",
            format!("http://127.0.0.1:{server}/x://127.0.0.1:1/"),
        ),
        (
            "example.com",
            format!("http://example.com@127.0.0.1:{server}/"),
        ),
        ("example.com", format!("http://2130706433:{server}/")),
        (
            "*.example.com",
            format!("http://127.0.0.1:{server}/a.example.com"),
        ),
    ] {
        let code = format!(
            "try {{ const r = await fetch({url:?}); console.log('REACHED', r.status); }} catch (e) {{ console.log(e.cause.code); }}"
        );
        let output = polybox(&["exec", "--allow-net", grant, "-e", &code], "");
        assert_eq!(
            text(&output.stdout),
            "EACCES\n",
            "{grant} {url}: {}",
            text(&output.stderr)
        );
    }
}

#[test]
fn malformed_network_grants_are_refused_with_the_reason() {
    for (grant, says) in [
        ("http://x", "not HOST or HOST:PORT"),
        ("*.", "needs a name after it"),
        ("**", "whole labels"),
        ("example.com:65536", "over 65535"),
        ("example.com:0", "never connected to"),
        ("user@example.com", "names a user"),
        ("10.0.0.1/8", "bits set past the prefix"),
        ("a/b", "not HOST or HOST:PORT"),
    ] {
        let output = polybox(&["exec", "--allow-net", grant, "-e", "1"], "");
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{grant}: {stderr}");
        assert!(stderr.contains("--allow-net"), "{grant}: {stderr}");
        assert!(stderr.contains(says), "{grant}: {stderr}");
    }
    // A network and localhost are grants too.
    for grant in [
        "10.0.0.0/8",
        "[fd00::/8]:443",
        "localhost:8080",
        "*.example.com",
    ] {
        let output = polybox(&["exec", "--allow-net", grant, "-e", "1"], "");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{grant}: {}",
            text(&output.stderr)
        );
    }
}

#[test]
fn a_programs_own_directory_serves_modules_never_data() {
    // `require('./secret.json')` returned the data, a listing showed
    // `.env` and `key.pem`, and `require('./.env')` put the secret in the
    // error's text.
    let scratch = Scratch::new("exec-modules-only");
    scratch.file("lib.js", "module.exports = 'from lib';");
    scratch.file("secret.json", r#"{"token":"TOPSECRET-JSON"}"#);
    scratch.file(".env", "TOKEN=TOPSECRET-ENV");
    scratch.file("key.pem", "TOPSECRET-KEY");
    // A directory named like a module is no module.
    std::fs::create_dir_all(scratch.0.join("site.js")).unwrap();
    scratch.file("site.js/.env", "TOPSECRET-NESTED");
    let main = scratch.file(
        "main.js",
        "const fs = require('fs');
         console.log(require('./lib.js'));
         for (const what of ['./secret.json', './.env', './key.pem', './site.js/.env']) {
           try { console.log(JSON.stringify(require(what))); } catch (e) { console.log(what, e.code, e.message.includes('TOPSECRET')); }
         }
         try { console.log(fs.readdirSync(__dirname)); } catch (e) { console.log('listing', e.code); }",
    );
    let output = polybox(&["exec", main.to_str().unwrap()], "");
    let stdout = text(&output.stdout);
    assert!(!stdout.contains("TOPSECRET"), "{stdout}");
    assert_eq!(
        stdout,
        "from lib\n./secret.json EACCES false\n./.env EACCES false\n./key.pem EACCES false\n./site.js/.env EACCES false\nlisting EACCES\n",
        "{}",
        text(&output.stderr)
    );
    assert!(!text(&output.stderr).contains("TOPSECRET"));
}

#[test]
fn a_double_star_rule_costs_linear_time_on_a_deep_path() {
    // The backtracking matcher took 10.1 s of host CPU here, so the run
    // was stopped by its 1 s limit; the automaton decides at once.
    let output = polybox(
        &[
            "exec",
            "--timeout-ms",
            "1000",
            "--permissions",
            r#"{"fs":{"default":"allow","rules":[{"mode":"deny","paths":["/**/a/**/a/**/zz"]}]}}"#,
            "-e",
            "try { require('fs').statSync('/tmp/' + 'a/'.repeat(2040) + 'q'); } catch (e) { console.log(e.code); }",
        ],
        "",
    );
    assert_eq!(
        (output.status.code(), text(&output.stdout)),
        (Some(0), "ENOENT\n".to_owned()),
        "{}",
        text(&output.stderr)
    );
}

/// A loopback server answering `/hello` with `hello`; returns its port.
fn polybox_tests_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buffer = [0; 4096];
            let _ = std::io::Read::read(&mut stream, &mut buffer);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello",
            );
        }
    });
    port
}

#[test]
fn a_template_is_built_once_and_served_by_other_processes() {
    let scratch = Scratch::new("template");
    let handler = scratch.file(
        "hello.js",
        "import { greet } from 'user:greeting';\nfunction handler(e) { globalThis.n = (globalThis.n ?? 0) + 1; return { message: greet(e.name), n }; }",
    );
    let module = scratch.file("greeting.js", "export const greet = (n) => `hello ${n}`;");
    let app = scratch.0.join("app.pbx");
    let app = app.to_str().unwrap();
    let module_arg = format!("greeting={}", module.display());
    let built = polybox(
        &[
            "template",
            "build",
            handler.to_str().unwrap(),
            "--module",
            &module_arg,
            "-o",
            app,
        ],
        "",
    );
    assert!(built.status.success(), "{}", text(&built.stderr));

    let served = polybox(
        &["run", "--template", app, "--event", r#"{"name":"pbx"}"#],
        "",
    );
    assert_eq!(
        text(&served.stdout),
        "{\"message\":\"hello pbx\",\"n\":1}\n",
        "{}",
        text(&served.stderr)
    );
    let events = "{\"name\":\"a\"}\n{\"name\":\"b\"}\n";
    let served = polybox(
        &[
            "run",
            "--template",
            app,
            "--name",
            "hello.js",
            "--events",
            "-",
        ],
        events,
    );
    assert_eq!(
        text(&served.stdout),
        "{\"message\":\"hello a\",\"n\":1}\n{\"message\":\"hello b\",\"n\":2}\n"
    );

    // Other settings, a file that is not a template, a damaged one: exit 2
    // with what is wrong.
    let other = polybox(&["run", "--template", app, "--stack", "2MiB"], "");
    assert_eq!(other.status.code(), Some(2));
    assert!(
        text(&other.stderr).contains("stackSize"),
        "{}",
        text(&other.stderr)
    );
    let not = polybox(&["run", "--template", handler.to_str().unwrap()], "");
    assert_eq!(not.status.code(), Some(2));
    assert!(text(&not.stderr).contains("not a Polybox template"));
    let mut bytes = std::fs::read(app).unwrap();
    bytes.truncate(bytes.len() - 100);
    let damaged = scratch.file("damaged.pbx", bytes);
    let damaged = polybox(&["run", "--template", damaged.to_str().unwrap()], "");
    assert_eq!(damaged.status.code(), Some(2));
    assert!(text(&damaged.stderr).contains("truncated"));
    // A handler and a template are one or the other.
    let both = polybox(&["run", handler.to_str().unwrap(), "--template", app], "");
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn call_runs_a_function_of_a_script_by_name() {
    let scratch = Scratch::new("call");
    let script = scratch.file(
        "lib.js",
        "function add(a, b = 10) { return a + b; }\nfunction* count(n) { for (let i = 0; i < n; i++) yield i; return 'done'; }\nfunction boom() {\n  throw new Error('no');\n}",
    );
    let script = script.to_str().unwrap();
    let added = polybox(&["call", script, "add", "--args", "[1,2]"], "");
    assert_eq!(text(&added.stdout), "3\n");
    let keyword = polybox(
        &[
            "call",
            script,
            "add",
            "--args",
            "[1]",
            "--kwargs",
            r#"{"b":5}"#,
        ],
        "",
    );
    assert_eq!(text(&keyword.stdout), "6\n");
    let counted = polybox(&["call", script, "count", "--args", "[3]"], "");
    assert_eq!(text(&counted.stdout), "0\n1\n2\n\"done\"\n");
    let failed = polybox(&["call", script, "boom"], "");
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        text(&failed.stderr).contains("lib.js:4"),
        "{}",
        text(&failed.stderr)
    );
    let bad = polybox(&["call", script, "add", "--args", "{"], "");
    assert_eq!(bad.status.code(), Some(2));
    let unknown = polybox(&["call", script, "add", "--kwargs", r#"{"c":1}"#], "");
    assert!(text(&unknown.stderr).contains("unexpected keyword argument 'c'"));
}

#[test]
fn python_files_run_as_python_and_language_chooses_for_code() {
    let scratch = Scratch::new("python");
    let handler = scratch.file(
        "stats.py",
        "import statistics\ndef handler(event):\n    print('seen', len(event['values']))\n    return {'mean': statistics.mean(event['values'])}\n",
    );
    let out = run(&handler, &["--event", r#"{"values":[1,2,3]}"#]);
    assert_eq!(text(&out.stdout), "{\"mean\":2}\n", "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("[info] seen 3"),
        "{}",
        text(&out.stderr)
    );
    let out = polybox(
        &[
            "exec",
            "--language",
            "python",
            "-e",
            "import sys; print(sys.argv[1:]); sys.exit(3)",
            "a",
        ],
        "",
    );
    assert_eq!(text(&out.stdout), "['a']\n");
    assert_eq!(out.status.code(), Some(3));
    let out = polybox(
        &["exec", "--language", "python", "-"],
        "print(sum(range(10)))\n",
    );
    assert_eq!(text(&out.stdout), "45\n", "{}", text(&out.stderr));
    let script = scratch.file(
        "session.py",
        "def count(n, step=1):\n    for i in range(0, n, step):\n        yield i\n    return 'unused'\n",
    );
    let out = polybox(
        &[
            "call",
            script.to_str().unwrap(),
            "count",
            "--args",
            "[4]",
            "--kwargs",
            r#"{"step":2}"#,
        ],
        "",
    );
    assert_eq!(text(&out.stdout), "0\n2\nnull\n", "{}", text(&out.stderr));
    let out = polybox(&["serve", handler.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("not supported"),
        "{}",
        text(&out.stderr)
    );
}
