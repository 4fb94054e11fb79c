//! The parity suite: one set of cases through the public API, run against
//! every backend. A backend that cannot run here (no usable hypervisor, or
//! a build without it) has its cases reported as ignored, with the reason
//! printed first: never passed.
//!
//! `cargo test --test parity -- hyperlight::` runs one backend's cases;
//! `make test-hyperlight` runs Hyperlight's inside a software-emulated VM.
//! `POLYBOX_REQUIRE_BACKEND=hyperlight` (a comma-separated list) makes an
//! unusable backend fail its cases instead of skipping them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use libtest_mimic::{Arguments, Failed, Trial};
use polybox::{
    Backend, CallLimits, CpuTimeMonitor, EpochDeadline, ErrorCode, ExecOptions, FuelBudget,
    LoadedJSSandbox, LogLevel, ProgramKind, Runtime, SandboxBuilder, WallClockMonitor,
};
use polybox_tests::{expect_code, kill_after};

const SPIN: &str = "function handler() { for (;;) {} }";
const OK: &str = "function handler() { return 'ok'; }";

/// A case: runs against the backend it is given.
type Case = fn(Backend) -> Result<(), Failed>;

const CASES: &[(&str, Case)] = &[
    ("handlers_transform_events", handlers_transform_events),
    (
        "modules_resolve_in_any_order_and_share_state",
        modules_share_state,
    ),
    ("host_functions_take_and_return_json", host_functions),
    ("console_output_reaches_the_log_sink", console_output),
    ("builtins_hash_and_encode", builtins),
    ("wall_clock_monitor_stops_a_runaway_call", wall_clock_stops),
    ("cpu_time_monitor_stops_a_runaway_call", cpu_time_stops),
    ("kill_stops_a_runaway_call", kill_stops),
    ("the_monitor_that_fired_is_reported", monitor_that_fired),
    (
        "kill_during_a_host_call_lands_when_it_returns",
        kill_during_host_call,
    ),
    ("snapshot_and_restore_roll_state_back", snapshot_restore),
    ("call_stats_are_recorded", call_stats),
    (
        "bad_events_and_results_are_clean_errors",
        bad_events_and_results,
    ),
    (
        "a_syntax_error_fails_the_load_and_can_be_fixed",
        syntax_error,
    ),
    ("uncaught_recursion_is_a_stack_overflow", recursion),
    ("running_out_of_heap_is_catchable", out_of_heap),
    ("calls_after_poison_are_refused_until_restore", poison),
    ("unload_discards_handlers_and_state", unload),
    ("engine_budgets_where_the_engine_has_them", engine_budgets),
    ("programs_write_stdio_and_exit_with_a_code", program_stdio),
    ("programs_read_stdin_and_see_their_process", program_process),
    ("programs_load_as_modules_or_commonjs", program_kinds),
    (
        "program_failures_are_reported_as_node_does",
        program_failures,
    ),
    (
        "program_files_are_decided_by_the_permissions",
        program_files,
    ),
    (
        "program_files_lead_nowhere_outside_the_mounts",
        program_escapes,
    ),
    ("program_fetch_goes_through_the_host", program_fetch),
    ("program_timers_wait_through_the_host", program_timers),
    ("a_limit_or_a_kill_stops_a_waiting_program", program_stopped),
    ("every_program_starts_afresh", program_fresh),
    ("handler_timers_wait_through_the_host", handler_timers),
    ("fetch_handlers_answer_requests", fetch_handlers),
    ("spawned_servers_answer_requests", spawned_servers),
];

fn main() {
    let arguments = Arguments::from_args();
    let required = std::env::var("POLYBOX_REQUIRE_BACKEND").unwrap_or_default();
    let required: Vec<&str> = required.split(',').collect();
    let mut trials = Vec::new();
    for backend in [Backend::Wasmtime, Backend::Hyperlight] {
        let start = SandboxBuilder::new()
            .backend(backend)
            .build()
            .and_then(|proto| proto.load_runtime())
            .map(drop);
        // Only a missing or unusable hypervisor skips, and only when the
        // backend is not required; any other failure to start fails every
        // case of the backend, with the error.
        let unusable = match start {
            Err(error)
                if error.code() == ErrorCode::HypervisorUnavailable
                    && !required.contains(&backend.name()) =>
            {
                println!("{}: skipped: {error}", backend.name());
                true
            }
            _ => false,
        };
        for &(name, case) in CASES {
            trials.push(
                Trial::test(format!("{}::{name}", backend.name()), move || case(backend))
                    .with_ignored_flag(unusable),
            );
        }
    }
    libtest_mimic::run(&arguments, trials).exit();
}

fn builder(backend: Backend) -> SandboxBuilder {
    SandboxBuilder::new().backend(backend)
}

/// A loaded sandbox on `backend` with `handlers` and the control `ok`.
fn load(backend: Backend, handlers: &[(&str, &str)]) -> LoadedJSSandbox {
    let mut sandbox = builder(backend).build().unwrap().load_runtime().unwrap();
    for (name, source) in handlers {
        sandbox.add_handler(name, *source).unwrap();
    }
    sandbox.add_handler("ok", OK).unwrap();
    sandbox.get_loaded_sandbox().unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn handlers_transform_events(backend: Backend) -> Result<(), Failed> {
    let mut loaded = load(
        backend,
        &[
            (
                "greet",
                "function handler(e) { return { message: `Hello, ${e.name}!` }; }",
            ),
            (
                "later",
                "async function handler(e) { await null; return e.n * 2; }",
            ),
        ],
    );
    assert_eq!(
        loaded.handle_event("greet", r#"{"name":"World"}"#, None)?,
        r#"{"message":"Hello, World!"}"#
    );
    assert_eq!(loaded.handle_event("later", r#"{"n":21}"#, None)?, "42");
    Ok(())
}

fn modules_share_state(backend: Backend) -> Result<(), Failed> {
    let mut sandbox = builder(backend).build()?.load_runtime()?;
    sandbox.add_handler(
        "count",
        "import { next } from 'user:counter';\nimport { twice } from 'lib:math';\nfunction handler() { return twice(next()); }",
    )?;
    sandbox.add_module("math", "export const twice = (x) => 2 * x;", Some("lib"))?;
    sandbox.add_module(
        "counter",
        "let n = 0;\nexport const next = () => ++n;",
        None,
    )?;
    let mut loaded = sandbox.get_loaded_sandbox()?;
    assert_eq!(loaded.handle_event("count", "{}", None)?, "2");
    assert_eq!(loaded.handle_event("count", "{}", None)?, "4");
    Ok(())
}

fn host_functions(backend: Backend) -> Result<(), Failed> {
    let mut proto = builder(backend).build()?;
    proto.register("math", "add", |a: f64, b: f64| a + b)?;
    proto
        .host_module("auth")?
        .register_raw("check", |_| Err("Token is required".into()))?;
    let mut sandbox = proto.load_runtime()?;
    sandbox.add_handler(
        "h",
        "import { add } from 'host:math';\nimport { check } from 'host:auth';\n\
         function handler(e) { let denied; try { check(); } catch (err) { denied = err.message; } return [add(e.a, e.b), denied]; }",
    )?;
    let mut loaded = sandbox.get_loaded_sandbox()?;
    assert_eq!(
        loaded.handle_event("h", r#"{"a":1,"b":2}"#, None)?,
        r#"[3,"Token is required"]"#
    );
    Ok(())
}

fn console_output(backend: Backend) -> Result<(), Failed> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let mut sandbox = builder(backend)
        .log_sink(move |level, line| sink.lock().unwrap().push((level, line.to_owned())))
        .build()?
        .load_runtime()?;
    sandbox.add_handler(
        "h",
        "function handler() { console.log('hi', { a: 1 }); console.error('oops'); return null; }",
    )?;
    sandbox
        .get_loaded_sandbox()?
        .handle_event("h", "{}", None)?;
    assert_eq!(
        *lines.lock().unwrap(),
        [
            (LogLevel::Info, r#"hi {"a":1}"#.to_owned()),
            (LogLevel::Error, "oops".to_owned())
        ]
    );
    Ok(())
}

fn builtins(backend: Backend) -> Result<(), Failed> {
    let mut loaded = load(
        backend,
        &[(
            "h",
            "import { createHash } from 'crypto';\n\
             function handler() { return [createHash('sha256').update('abc').digest('hex'), new TextEncoder().encode('é').length]; }",
        )],
    );
    assert_eq!(
        loaded.handle_event("h", "{}", None)?,
        r#"["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",2]"#
    );
    Ok(())
}

/// Runs `spin` under `run`, expects `by` to have stopped it, and recovers.
fn stopped(
    backend: Backend,
    by: &str,
    run: impl FnOnce(&mut LoadedJSSandbox) -> polybox::Result<String>,
) -> Result<(), Failed> {
    let mut loaded = load(backend, &[("spin", SPIN)]);
    let snapshot = loaded.snapshot()?;
    expect_code(run(&mut loaded), ErrorCode::Cancelled);
    assert_eq!(loaded.last_call_stats().unwrap().terminated_by, Some(by));
    assert!(loaded.poisoned());
    expect_code(loaded.handle_event("ok", "{}", None), ErrorCode::Poisoned);
    loaded.restore(&snapshot)?;
    assert_eq!(loaded.handle_event("ok", "{}", None)?, r#""ok""#);
    Ok(())
}

fn wall_clock_stops(backend: Backend) -> Result<(), Failed> {
    let limit = WallClockMonitor::new(ms(200))?;
    stopped(backend, "wall-clock", |l| {
        l.handle_event_with_monitor("spin", "{}", &limit, None)
    })
}

fn cpu_time_stops(backend: Backend) -> Result<(), Failed> {
    let limit = CpuTimeMonitor::new(ms(200))?;
    stopped(backend, "cpu-time", |l| {
        l.handle_event_with_monitor("spin", "{}", &limit, None)
    })
}

fn kill_stops(backend: Backend) -> Result<(), Failed> {
    stopped(backend, "killed", |loaded| {
        let killer = kill_after(loaded.interrupt_handle(), ms(200));
        let result = loaded.handle_event("spin", "{}", None);
        drop(killer);
        result
    })
}

fn monitor_that_fired(backend: Backend) -> Result<(), Failed> {
    let limits = (
        WallClockMonitor::new(Duration::from_secs(60))?,
        CpuTimeMonitor::new(ms(200))?,
    );
    stopped(backend, "cpu-time", |l| {
        l.handle_event_with_monitor("spin", "{}", &limits, None)
    })
}

fn kill_during_host_call(backend: Backend) -> Result<(), Failed> {
    let mut proto = builder(backend).build()?;
    proto.register("time", "sleep", |n: u64| std::thread::sleep(ms(n)))?;
    let mut sandbox = proto.load_runtime()?;
    sandbox.add_handler(
        "nap",
        "import { sleep } from 'host:time';\nfunction handler() { sleep(300); return 'rested'; }",
    )?;
    let mut loaded = sandbox.get_loaded_sandbox()?;
    let snapshot = loaded.snapshot()?;
    let killer = kill_after(loaded.interrupt_handle(), ms(100));
    let result = loaded.handle_event("nap", "{}", None);
    drop(killer);
    expect_code(result, ErrorCode::Cancelled);
    loaded.restore(&snapshot)?;
    Ok(())
}

fn snapshot_restore(backend: Backend) -> Result<(), Failed> {
    let mut loaded = load(
        backend,
        &[("count", "let n = 0;\nfunction handler() { return ++n; }")],
    );
    assert_eq!(loaded.handle_event("count", "{}", None)?, "1");
    let snapshot = loaded.snapshot()?;
    assert_eq!(loaded.handle_event("count", "{}", None)?, "2");
    assert_eq!(loaded.handle_event("count", "{}", None)?, "3");
    loaded.restore(&snapshot)?;
    assert_eq!(loaded.handle_event("count", "{}", None)?, "2");
    Ok(())
}

fn call_stats(backend: Backend) -> Result<(), Failed> {
    let mut loaded = load(backend, &[]);
    assert!(loaded.last_call_stats().is_none());
    loaded.handle_event("ok", "{}", None)?;
    let stats = loaded.last_call_stats().unwrap();
    assert!(stats.wall_clock > Duration::ZERO);
    assert_eq!(stats.terminated_by, None);
    Ok(())
}

fn bad_events_and_results(backend: Backend) -> Result<(), Failed> {
    let mut sandbox = builder(backend)
        .input_buffer_size(1024)
        .build()?
        .load_runtime()?;
    sandbox.add_handler("undefined", "function handler() {}")?;
    sandbox.add_handler(
        "cyclic",
        "function handler() { const a = {}; a.a = a; return a; }",
    )?;
    sandbox.add_handler("ok", OK)?;
    let mut loaded = sandbox.get_loaded_sandbox()?;
    expect_code(loaded.handle_event("ok", "{", None), ErrorCode::InvalidArg);
    expect_code(
        loaded.handle_event("nope", "{}", None),
        ErrorCode::InvalidArg,
    );
    let big = format!("\"{}\"", "x".repeat(2048));
    expect_code(loaded.handle_event("ok", big, None), ErrorCode::InvalidArg);
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    expect_code(loaded.handle_event("ok", deep, None), ErrorCode::InvalidArg);
    expect_code(
        loaded.handle_event("undefined", "{}", None),
        ErrorCode::GuestError,
    );
    expect_code(
        loaded.handle_event("cyclic", "{}", None),
        ErrorCode::GuestError,
    );
    assert!(!loaded.poisoned());
    assert_eq!(loaded.handle_event("ok", "{}", None)?, r#""ok""#);
    Ok(())
}

fn syntax_error(backend: Backend) -> Result<(), Failed> {
    let mut sandbox = builder(backend).build()?.load_runtime()?;
    sandbox.add_handler("h", "function handler( {")?;
    let failure = sandbox.get_loaded_sandbox().unwrap_err();
    assert_eq!(failure.code(), ErrorCode::GuestError);
    let mut sandbox = failure.into_sandbox();
    sandbox.add_handler("h", OK)?;
    assert_eq!(
        sandbox
            .get_loaded_sandbox()?
            .handle_event("h", "{}", None)?,
        r#""ok""#
    );
    Ok(())
}

fn recursion(backend: Backend) -> Result<(), Failed> {
    let mut loaded = load(
        backend,
        &[("deep", "function handler() { return handler(); }")],
    );
    expect_code(
        loaded.handle_event("deep", "{}", None),
        ErrorCode::StackOverflow,
    );
    assert!(!loaded.poisoned());
    assert_eq!(loaded.handle_event("ok", "{}", None)?, r#""ok""#);
    Ok(())
}

fn out_of_heap(backend: Backend) -> Result<(), Failed> {
    let mut sandbox = builder(backend)
        .heap_size(8 * 1024 * 1024)
        .build()?
        .load_runtime()?;
    sandbox.add_handler(
        "hog",
        "function handler() { const a = []; try { for (;;) a.push(new Array(4096).fill(1)); } catch (e) { return String(e); } }",
    )?;
    let mut loaded = sandbox.get_loaded_sandbox()?;
    let message = loaded.handle_event("hog", "{}", None)?;
    assert!(message.contains("out of memory"), "{message}");
    assert!(!loaded.poisoned());
    Ok(())
}

fn poison(backend: Backend) -> Result<(), Failed> {
    let mut loaded = load(backend, &[("spin", SPIN)]);
    let snapshot = loaded.snapshot()?;
    let limit = WallClockMonitor::new(ms(100))?;
    expect_code(
        loaded.handle_event_with_monitor("spin", "{}", &limit, None),
        ErrorCode::Cancelled,
    );
    for name in ["ok", "spin", "unknown"] {
        expect_code(loaded.handle_event(name, "{}", None), ErrorCode::Poisoned);
    }
    expect_code(loaded.snapshot(), ErrorCode::Poisoned);
    loaded.restore(&snapshot)?;
    assert_eq!(loaded.handle_event("ok", "{}", None)?, r#""ok""#);
    Ok(())
}

fn unload(backend: Backend) -> Result<(), Failed> {
    let mut loaded = load(
        backend,
        &[("count", "let n = 0;\nfunction handler() { return ++n; }")],
    );
    loaded.handle_event("count", "{}", None)?;
    let mut sandbox = loaded.unload()?;
    sandbox.add_handler("count", "let n = 10;\nfunction handler() { return ++n; }")?;
    let mut loaded = sandbox.get_loaded_sandbox()?;
    assert_eq!(loaded.handle_event("count", "{}", None)?, "11");
    expect_code(loaded.handle_event("ok", "{}", None), ErrorCode::InvalidArg);
    Ok(())
}

fn engine_budgets(backend: Backend) -> Result<(), Failed> {
    let fuel = FuelBudget::new(1_000_000)?;
    let epoch = EpochDeadline::new(ms(100))?;
    match backend {
        Backend::Wasmtime => {
            let mut sandbox = builder(backend)
                .fuel_metering(true)
                .build()?
                .load_runtime()?;
            sandbox.add_handler("spin", SPIN)?;
            let mut loaded = sandbox.get_loaded_sandbox()?;
            let snapshot = loaded.snapshot()?;
            expect_code(
                loaded.handle_event_with_monitor("spin", "{}", &fuel, None),
                ErrorCode::Cancelled,
            );
            loaded.restore(&snapshot)?;
            expect_code(
                loaded.handle_event_with_monitor("spin", "{}", &epoch, None),
                ErrorCode::Cancelled,
            );
        }
        Backend::Hyperlight => {
            expect_code(
                builder(backend).fuel_metering(true).build(),
                ErrorCode::InvalidArg,
            );
            let mut loaded = load(backend, &[]);
            let message = expect_code(
                loaded.handle_event_with_monitor("ok", "{}", &fuel, None),
                ErrorCode::InvalidArg,
            );
            assert!(message.contains("Hyperlight"), "{message}");
            expect_code(
                loaded.handle_event_with_monitor("ok", "{}", &epoch, None),
                ErrorCode::InvalidArg,
            );
            // The call never ran: nothing to recover from.
            assert!(!loaded.poisoned());
        }
    }
    Ok(())
}

// ---- programs -------------------------------------------------------------

fn program_runtime(backend: Backend) -> Result<Runtime, Failed> {
    Ok(Runtime::builder()
        .sandbox(builder(backend))
        .env("MODE", "parity")
        .build()?)
}

fn exec(runtime: &mut Runtime, code: &str) -> Result<(String, String, i32), Failed> {
    exec_with(runtime, code, ExecOptions::default())
}

fn exec_with(
    runtime: &mut Runtime,
    code: &str,
    options: ExecOptions,
) -> Result<(String, String, i32), Failed> {
    let output = runtime.exec(code, options)?;
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).map_err(|e| e.to_string());
    Ok((text(output.stdout)?, text(output.stderr)?, output.exit_code))
}

fn owned(stdout: &str, stderr: &str, code: i32) -> (String, String, i32) {
    (stdout.to_owned(), stderr.to_owned(), code)
}

fn program_stdio(backend: Backend) -> Result<(), Failed> {
    let mut runtime = program_runtime(backend)?;
    assert_eq!(
        exec(
            &mut runtime,
            "console.log('hi', { a: [1] }); console.error('oops'); process.exit(3)"
        )?,
        owned("hi { a: [ 1 ] }\n", "oops\n", 3)
    );
    assert_eq!(
        exec(
            &mut runtime,
            "process.stdout.write('x'.repeat(200000)); process.exitCode = 2"
        )?
        .0
        .len(),
        200_000
    );
    Ok(())
}

fn program_process(backend: Backend) -> Result<(), Failed> {
    let mut runtime = program_runtime(backend)?;
    let options = ExecOptions {
        stdin: b"abc".to_vec(),
        args: vec!["x".into()],
        ..Default::default()
    };
    assert_eq!(
        exec_with(
            &mut runtime,
            "let s = ''; for await (const c of process.stdin) s += c;
             console.log(s.toUpperCase(), process.argv.slice(2).join(), process.env.MODE, process.cwd());",
            options,
        )?,
        owned("ABC x parity /\n", "", 0)
    );
    Ok(())
}

fn program_kinds(backend: Backend) -> Result<(), Failed> {
    let mut runtime = program_runtime(backend)?;
    assert_eq!(
        exec(
            &mut runtime,
            "const { setTimeout } = require('timers'); console.log(typeof setTimeout, typeof module)"
        )?,
        owned("function object\n", "", 0)
    );
    let run = runtime.run(
        "import process from 'node:process'; export default { env: process.env.MODE }",
        ExecOptions::default(),
    )?;
    assert_eq!(run.value.as_deref(), Some(r#"{"env":"parity"}"#));
    let options = ExecOptions {
        kind: ProgramKind::CommonJs,
        ..Default::default()
    };
    let (_, stderr, code) = exec_with(&mut runtime, "export default 1", options)?;
    assert!(stderr.starts_with("SyntaxError"), "{stderr}");
    assert_eq!(code, 1);
    Ok(())
}

fn program_files(backend: Backend) -> Result<(), Failed> {
    let dir = std::env::temp_dir().join(format!(
        "polybox-parity-files-{}-{backend:?}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("in.txt"), "host").map_err(|e| e.to_string())?;
    let mut runtime = Runtime::builder()
        .sandbox(
            builder(backend)
                .file("/seed.txt", "seeded")
                .mount(polybox::Mount::read_only("/input", &dir)),
        )
        .build()?;
    let (stdout, stderr, code) = exec(
        &mut runtime,
        "const fs = require('fs');
         fs.writeFileSync('/tmp/t', fs.readFileSync('/seed.txt', 'utf8') + ' ' + fs.readFileSync('/input/in.txt', 'utf8'));
         console.log(fs.readFileSync('/tmp/t', 'utf8'));
         for (const f of [() => fs.readFileSync('/etc/passwd'), () => fs.writeFileSync('/input/in.txt', 'x'), () => fs.readFileSync('/input/../../etc/passwd')]) {
           try { f(); } catch (e) { console.log(e.code); }
         }",
    )?;
    assert_eq!(
        (stdout.as_str(), stderr.as_str(), code),
        ("seeded host\nEACCES\nEACCES\nEACCES\n", "", 0)
    );
    Ok(())
}

fn program_escapes(backend: Backend) -> Result<(), Failed> {
    let mount = polybox_tests::tempting_mount(&format!("parity-{backend:?}"));
    let mut runtime = Runtime::builder()
        .sandbox(builder(backend).mount(polybox::Mount::read_write("/data", &mount)))
        .build()?;
    let (stdout, stderr, code) = exec(&mut runtime, polybox_tests::MOUNT_ESCAPES)?;
    let result: serde_json::Value =
        serde_json::from_str(&stdout).map_err(|e| format!("{e}: {stdout} {stderr}"))?;
    assert_eq!((result, code), (polybox_tests::mount_escapes_refused(), 0));
    let outside = mount.parent().unwrap().join("outside.txt");
    assert_eq!(
        std::fs::read_to_string(outside).map_err(|e| e.to_string())?,
        "outside"
    );
    Ok(())
}

fn program_fetch(backend: Backend) -> Result<(), Failed> {
    // A handler answers: the request crosses from the guest to the host and
    // back as it would to the network (which the VM of the Hyperlight run
    // does not have).
    let policy =
        r#"{"network":{"rules":[{"mode":"allow","patterns":["https://api.example.com:443/*"]}]}}"#;
    let mut runtime = Runtime::builder()
        .sandbox(
            builder(backend)
                .permissions(polybox::permissions::Permissions::from_json(policy)?)
                .http_handler(|request: &polybox::HttpRequest| {
                    Ok(polybox::HttpResponse::new(
                        200,
                        format!("{} {}", request.method, request.url),
                    ))
                }),
        )
        .build()?;
    let code = "console.log(await (await fetch('https://api.example.com/v1')).text());
         try { await fetch('https://other.example.com/'); } catch (e) { console.log(e.cause.code); }";
    let (stdout, stderr, code) = exec(&mut runtime, code)?;
    assert_eq!(
        (stdout.as_str(), stderr.as_str(), code),
        ("GET https://api.example.com/v1\nEACCES\n", "", 0)
    );
    Ok(())
}

fn program_failures(backend: Backend) -> Result<(), Failed> {
    let mut runtime = program_runtime(backend)?;
    let (_, stderr, code) = exec(&mut runtime, "throw new Error('boom')")?;
    assert!(stderr.starts_with("Error: boom\n"), "{stderr}");
    assert_eq!(code, 1);
    let (_, stderr, code) = exec(&mut runtime, "require('child_process')")?;
    assert!(
        stderr.contains("Polybox does not provide the Node.js module 'node:child_process'"),
        "{stderr}"
    );
    assert_eq!(code, 1);
    assert_eq!(exec(&mut runtime, "await new Promise(() => {})")?.2, 13);
    Ok(())
}

fn program_timers(backend: Backend) -> Result<(), Failed> {
    let mut runtime = program_runtime(backend)?;
    assert_eq!(
        exec(
            &mut runtime,
            "setTimeout(() => console.log('b'), 200); setTimeout(() => console.log('a'), 100);
             setImmediate(() => console.log('immediate')); process.nextTick(() => console.log('tick'));"
        )?,
        owned("tick\nimmediate\na\nb\n", "", 0)
    );
    Ok(())
}

fn program_stopped(backend: Backend) -> Result<(), Failed> {
    let mut runtime = program_runtime(backend)?;
    let options = ExecOptions {
        limits: CallLimits {
            wall_clock: Some(ms(100)),
            ..Default::default()
        },
        ..Default::default()
    };
    let output = runtime.exec(
        "console.log('waiting'); setTimeout(() => {}, 60000)",
        options,
    )?;
    assert_eq!(
        (output.exit_code, output.stats.terminated_by),
        (124, Some("wall-clock"))
    );
    assert_eq!(output.stdout, b"waiting\n");
    let killer = kill_after(runtime.interrupt_handle(), ms(50));
    let output = runtime.exec(
        "await new Promise((r) => setTimeout(r, 60000))",
        ExecOptions::default(),
    )?;
    drop(killer);
    assert_eq!(
        (output.exit_code, output.stats.terminated_by),
        (137, Some("killed"))
    );
    assert_eq!(
        exec(&mut runtime, "console.log('after')")?,
        owned("after\n", "", 0)
    );
    Ok(())
}

fn program_fresh(backend: Backend) -> Result<(), Failed> {
    let mut runtime = program_runtime(backend)?;
    assert_eq!(
        exec(
            &mut runtime,
            "globalThis.kept = 1; console.log(typeof kept)"
        )?
        .0,
        "number\n"
    );
    assert_eq!(
        exec(&mut runtime, "console.log(typeof kept)")?.0,
        "undefined\n"
    );
    Ok(())
}

fn handler_timers(backend: Backend) -> Result<(), Failed> {
    let mut loaded = load(
        backend,
        &[(
            "sleep",
            "async function handler(e) { await new Promise((r) => setTimeout(r, e.ms)); return 'woke'; }",
        )],
    );
    assert_eq!(
        loaded.handle_event("sleep", r#"{"ms":5}"#, None)?,
        r#""woke""#
    );
    let limit = WallClockMonitor::new(ms(100))?;
    let stopped = loaded.handle_event_with_monitor("sleep", r#"{"ms":60000}"#, &limit, None);
    expect_code(stopped, ErrorCode::Cancelled);
    Ok(())
}

fn fetch_handlers(backend: Backend) -> Result<(), Failed> {
    let mut loaded = load(
        backend,
        &[
            (
                "module",
                "export default { async fetch(r) { return Response.json({ path: new URL(r.url).pathname, body: await r.text() }); } };",
            ),
            (
                "worker",
                "addEventListener('fetch', (e) => e.respondWith(new Response('sw', { status: 202 })));",
            ),
        ],
    );
    let request = polybox::HttpRequest::new("POST", "http://x/p").body("b");
    let module = loaded.fetch("module", &request)?;
    assert_eq!(module.body, br#"{"path":"/p","body":"b"}"#);
    let worker = loaded.fetch("worker", &request)?;
    assert_eq!((worker.status, &worker.body[..]), (202, &b"sw"[..]));
    Ok(())
}

fn spawned_servers(backend: Backend) -> Result<(), Failed> {
    let server = program_runtime(backend)?.spawn(
        "require('http').createServer((req, res) => res.end(req.method + ' ' + req.url)).listen(3000)",
        ExecOptions::default(),
    )?;
    server.wait_for_listener(3000, Duration::from_secs(30))?;
    let answer = server.fetch(
        3000,
        polybox::HttpRequest::new("PUT", "http://localhost/x?y"),
    )?;
    assert_eq!(answer.body, b"PUT /x?y");
    server.kill();
    let (output, _) = server.wait()?;
    assert_eq!(output.exit_code, polybox::program::EXIT_KILLED);
    Ok(())
}
