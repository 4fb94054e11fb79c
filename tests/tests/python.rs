//! The Python guest (CPython 3.14, `Language::Python`) through the same API
//! as JavaScript: handlers, host and user modules, the standard library
//! routed to the host, errors, limits and recovery, templates, programs and
//! sessions.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use polybox::{
    Argument, Backend, CpuTimeMonitor, EpochDeadline, ErrorCode, ExecOptions, FuelBudget,
    GuestErrorKind, Language, LoadedJSSandbox, LogLevel, RuntimeBuilder, SandboxBuilder,
    SessionEvent, SessionTemplate, Template, WallClockMonitor,
};
use polybox_tests::{LogCapture, call, expect_code, kill_after, load_with as load};
use serde_json::{Value, json};

fn python() -> SandboxBuilder {
    SandboxBuilder::new().language(Language::Python)
}

/// One handler, `h`, in a default Python sandbox.
fn handler(source: &str) -> LoadedJSSandbox {
    load(python(), &[("h", source)])
}

/// The guest error of a failed call, with its kind.
#[track_caller]
fn guest_error(result: polybox::Result<impl std::fmt::Debug>) -> polybox::GuestError {
    match result {
        Err(polybox::Error::Guest(error)) => error,
        other => panic!("expected a guest error, got {other:?}"),
    }
}

/// Why loading handler `h` from `source` fails.
fn load_error(source: &str) -> polybox::Error {
    let mut sandbox = python().build().unwrap().load_runtime().unwrap();
    sandbox.add_handler("h", source).unwrap();
    match sandbox.get_loaded_sandbox() {
        Ok(_) => panic!("{source:?} loaded"),
        Err(failure) => failure.error,
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn a_handler_receives_the_event_and_returns_json() {
    let mut sandbox = handler(
        "def handler(event):\n    return {'hello': event['name'], 'n': [1, 2.5, None, True]}\n",
    );
    assert_eq!(
        call(&mut sandbox, "h", json!({"name": "World"})).unwrap(),
        json!({"hello": "World", "n": [1, 2.5, null, true]})
    );
}

#[test]
fn an_async_handler_is_awaited_with_asyncio() {
    let mut sandbox = handler(
        "import asyncio\n\
         async def double(x):\n    await asyncio.sleep(0.001)\n    return x * 2\n\
         async def handler(event):\n    return list(await asyncio.gather(double(1), double(event['n'])))\n",
    );
    assert_eq!(
        call(&mut sandbox, "h", json!({"n": 21})).unwrap(),
        json!([2, 42])
    );
}

/// Bytes cross to and from host functions as bytes values (the wire form
/// a Rust host function sees).
#[test]
fn bytes_cross_host_functions_as_bytes() {
    let mut proto = python().build().unwrap();
    proto
        .register("bytes", "seen", |value: serde_json::Value| value)
        .unwrap();
    let mut loaded = polybox_tests::load_with_proto(
        proto,
        &[(
            "h",
            r"from host import bytes as b

def handler(event):
    back = b.seen({'b': b'\x00\x01\xff'})['b']
    return [type(back).__name__, list(back), b.seen(bytearray(b'x'))]
",
        )],
    );
    assert_eq!(
        call(&mut loaded, "h", json!({})).unwrap(),
        json!(["bytes", [0, 1, 255], {"\u{0}bytes": "eA=="}])
    );
}

#[test]
fn host_functions_are_python_modules_and_their_errors_raise() {
    let mut proto = python().build().unwrap();
    proto
        .register("math", "add", |a: f64, b: f64| a + b)
        .unwrap();
    proto
        .host_module("math")
        .unwrap()
        .register_raw("fail", |_| Err("the host said no".into()))
        .unwrap();
    let mut sandbox = proto.load_runtime().unwrap();
    sandbox
        .add_handler(
            "h",
            "from host import math\nimport host.math\n\
             def handler(event):\n    try:\n        math.fail('x')\n    except Exception as e:\n        failed = f'{type(e).__name__}: {e}'\n\
             \x20   return [math.add(event['a'], 2), host.math.add(1, 1), failed]\n",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    assert_eq!(
        call(&mut loaded, "h", json!({"a": 40})).unwrap(),
        json!([42.0, 2.0, "HostError: the host said no"])
    );
}

#[test]
fn an_unregistered_host_module_is_module_not_found() {
    let error = guest_error(Err::<(), _>(load_error(
        "from host import nothing\ndef handler(e):\n    return 1\n",
    )));
    assert_eq!(error.kind, GuestErrorKind::ModuleNotFound, "{error:?}");
    assert!(error.message.contains("host:nothing"), "{}", error.message);
}

#[test]
fn user_modules_are_imported_from_their_namespace() {
    let mut sandbox = python().build().unwrap().load_runtime().unwrap();
    sandbox
        .add_module("util", "def twice(x):\n    return 2 * x\n", None)
        .unwrap();
    sandbox
        .add_module("fmt", "def show(x):\n    return f'<{x}>'\n", Some("lib"))
        .unwrap();
    sandbox
        .add_handler(
            "h",
            "from user import util\nfrom lib.fmt import show\ndef handler(e):\n    return show(util.twice(e))\n",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    assert_eq!(call(&mut loaded, "h", json!(21)).unwrap(), json!("<42>"));
}

#[test]
fn print_and_stderr_are_log_lines() {
    let capture = LogCapture::default();
    let mut sandbox = load(
        capture.builder().language(Language::Python),
        &[(
            "h",
            "import sys\nfrom sandbox.logging import warning\n\
             def handler(e):\n    print('hello', e)\n    print('oops', file=sys.stderr)\n    warning('careful %d', 3)\n    return None\n",
        )],
    );
    call(&mut sandbox, "h", json!(1)).unwrap();
    assert_eq!(
        capture.lines(),
        vec![
            (LogLevel::Info, "hello 1".to_owned()),
            (LogLevel::Error, "oops".to_owned()),
            (LogLevel::Warn, "careful 3".to_owned()),
        ]
    );
}

#[test]
fn clocks_and_randomness_come_from_the_host() {
    let source = "import time, datetime, random, os, uuid, secrets\n\
         def handler(e):\n    t = time.monotonic()\n    time.sleep(0.005)\n\
         \x20   return {'time': time.time(), 'year': datetime.datetime.now().year, 'slept': time.monotonic() - t,\n\
         \x20           'random': random.random(), 'urandom': len(os.urandom(16)), 'uuid': str(uuid.uuid4()),\n\
         \x20           'token': secrets.token_hex(8), 'utc': datetime.datetime.now(datetime.timezone.utc).isoformat(),\n\
         \x20           'own': random.Random().random(), 'system': random.SystemRandom().random()}\n";
    let first = call(&mut handler(source), "h", json!({})).unwrap();
    let second = call(&mut handler(source), "h", json!({})).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        (first["time"].as_f64().unwrap() - now).abs() < 60.0,
        "{first}"
    );
    assert!(first["year"].as_i64().unwrap() >= 2025, "{first}");
    assert!(first["slept"].as_f64().unwrap() >= 0.005, "{first}");
    assert_eq!(first["urandom"], json!(16));
    assert_eq!(first["uuid"].as_str().unwrap().len(), 36);
    // Every sandbox is seeded from the host's random source, though all
    // start from one image.
    assert_ne!(first["random"], second["random"]);
    assert_ne!(first["uuid"], second["uuid"]);
    assert_ne!(first["token"], second["token"]);
    assert_ne!(first["own"], second["own"]);
}

#[test]
fn sessions_from_one_template_do_not_share_a_random_sequence() {
    let template = SessionTemplate::builder(RuntimeBuilder::new().sandbox(python()))
        .prelude("import random\n")
        .build()
        .unwrap();
    let draw = || {
        let mut session = template
            .create(RuntimeBuilder::new().sandbox(python()))
            .unwrap();
        session
            .load_script("def draw():\n    return random.random()\n")
            .unwrap();
        session.call("draw", &[], &[], &Default::default()).unwrap()
    };
    assert_ne!(draw(), draw());
}

#[test]
fn the_standard_library_the_readme_lists_is_importable() {
    let mut sandbox = handler(
        "import json, re, math, datetime, decimal, collections, itertools, functools, dataclasses\n\
         import typing, hashlib, base64, zlib, asyncio, textwrap, string, statistics, fractions\n\
         import heapq, bisect, enum, copy, pprint, traceback, sqlite3\n\
         def handler(e):\n\
         \x20   db = sqlite3.connect(':memory:')\n\
         \x20   db.execute('create table t (x)')\n\
         \x20   db.executemany('insert into t values (?)', [(1,), (2,), (3,)])\n\
         \x20   return [db.execute('select sum(x) from t').fetchone()[0],\n\
         \x20           str(decimal.Decimal('0.1') + decimal.Decimal('0.2')), str(fractions.Fraction(1, 3) * 3),\n\
         \x20           statistics.median([3, 1, 2]), hashlib.sha256(b'abc').hexdigest()[:8],\n\
         \x20           base64.b64encode(zlib.compress(b'x')).decode()[:4], re.sub(r'\\d', '#', 'a1b2'),\n\
         \x20           'é'.encode('cp1252').hex(), datetime.datetime.strptime('2024-02-03', '%Y-%m-%d').day]\n",
    );
    assert_eq!(
        call(&mut sandbox, "h", json!({})).unwrap(),
        json!([6, "0.3", "1", 2, "ba7816bf", "eJyr", "a#b#", "e9", 3])
    );
}

#[test]
fn host_files_processes_and_native_code_are_refused_with_python_errors() {
    let mut sandbox = handler(
        "import os, sys\n\
         def attempt(f):\n    try:\n        f()\n        return 'reached'\n    except Exception as e:\n        return type(e).__name__\n\
         def handler(e):\n    return [attempt(lambda: open('/etc/passwd').read()), attempt(lambda: os.listdir('/etc')),\n\
         \x20           attempt(lambda: os.system('id')), attempt(lambda: __import__('ctypes')),\n\
         \x20           attempt(lambda: __import__('socket').socket()), attempt(lambda: os.stat('/etc')),\n\
         \x20           os.path.exists('/etc/passwd'), os.environ.get('HOME')]\n",
    );
    assert_eq!(
        call(&mut sandbox, "h", json!({})).unwrap(),
        json!([
            "PermissionError",
            "FileNotFoundError",
            "PermissionError",
            "ModuleNotFoundError",
            "PermissionError",
            "FileNotFoundError",
            false,
            null
        ])
    );
    // Nothing trapped: the sandbox is as usable as before.
    assert!(!sandbox.poisoned());
}

#[test]
fn asyncio_run_works_and_what_waits_on_descriptors_is_refused() {
    let capture = LogCapture::default();
    let mut sandbox = load(
        capture.builder().language(Language::Python),
        &[(
            "h",
            "import asyncio, os, select, time\n\
             async def main():\n    await asyncio.sleep(0.001)\n    return 7\n\
             def attempt(f):\n    try:\n        return repr(f())\n    except OSError as e:\n        return type(e).__name__\n\
             def handler(e):\n\
             \x20   os.write(1, b'written\\n')\n\
             \x20   return [asyncio.run(main()), asyncio.run(main()), attempt(lambda: select.select([], [], [], 0.01)),\n\
             \x20           attempt(os.times), attempt(lambda: os.fstat(1)), attempt(lambda: os.write(5, b'x')),\n\
             \x20           os.isatty(1), time.clock_gettime(time.CLOCK_REALTIME) > 1e9]\n",
        )],
    );
    assert_eq!(
        call(&mut sandbox, "h", json!({})).unwrap(),
        json!([
            7, 7, "OSError", "OSError", "OSError", "OSError", false, true
        ])
    );
    assert_eq!(
        capture.lines(),
        vec![(LogLevel::Info, "written".to_owned())]
    );
}

#[test]
fn timing_and_waiting_in_the_standard_library_use_the_hosts_clock() {
    // `timeit` and `queue` bound the C clocks when they were imported; a
    // `threading` wait has no other thread to wake it.
    let mut sandbox = handler(
        "import queue, threading, timeit\n\
         def attempt(f):\n    try:\n        return repr(f())\n    except Exception as e:\n        return type(e).__name__\n\
         def handler(e):\n\
         \x20   return [timeit.timeit('1 + 1', number=100) >= 0, attempt(lambda: queue.Queue().get(timeout=0.01)),\n\
         \x20           threading.Event().wait(0.01), attempt(lambda: threading.Event().wait())]\n",
    );
    assert_eq!(
        call(&mut sandbox, "h", json!({})).unwrap(),
        json!([true, "Empty", false, "RuntimeError"])
    );
    assert!(!sandbox.poisoned());
}

#[test]
fn syntax_errors_name_their_line_and_handlers_must_be_callable() {
    let error = guest_error(Err::<(), _>(load_error(
        "def handler(event)\n    return 1\n",
    )));
    assert_eq!(error.kind, GuestErrorKind::Syntax);
    assert!(error.message.contains("line 1"), "{}", error.message);
    let error = guest_error(Err::<(), _>(load_error(
        "def handler(e):\n  x = 1\n    return x\n",
    )));
    assert_eq!(error.kind, GuestErrorKind::Syntax);
    assert!(
        error.message.starts_with("IndentationError"),
        "{}",
        error.message
    );
    for source in ["handler = 3\n", "x = 1\n"] {
        let error = load_error(source);
        assert_eq!(error.code(), ErrorCode::InvalidArg, "{source}: {error}");
        assert!(error.to_string().contains("`handler`"), "{source}: {error}");
    }
}

#[test]
fn exceptions_report_their_type_message_and_traceback() {
    let mut sandbox = handler(
        "def helper(x):\n    return 1 / x\n\ndef handler(event):\n    return helper(event)\n",
    );
    let error = guest_error(sandbox.handle_event("h", "0", None));
    assert_eq!(error.kind, GuestErrorKind::Exception);
    assert_eq!(error.message, "ZeroDivisionError: division by zero");
    let stack = error.stack.unwrap();
    assert!(stack.contains("line 2, in helper"), "{stack}");
    assert!(stack.contains("return 1 / x"), "{stack}");
    // The sandbox is not harmed.
    assert_eq!(call(&mut sandbox, "h", json!(2)).unwrap(), json!(0.5));
}

#[test]
fn results_without_a_json_form_are_refused_clearly() {
    let mut sandbox = handler(
        "def handler(e):\n    return {'set': {1}, 'bytes': b'x', 'nan': float('nan'), 'gen': (i for i in [1]), 'ok': (1, 2)}[e]\n",
    );
    for kind in ["set", "nan", "gen"] {
        let error = guest_error(sandbox.handle_event("h", format!("{kind:?}"), None));
        assert_eq!(
            error.kind,
            GuestErrorKind::UnserializableResult,
            "{kind}: {error:?}"
        );
    }
    // Tuples are arrays; bytes are bytes values.
    assert_eq!(call(&mut sandbox, "h", json!("ok")).unwrap(), json!([1, 2]));
    assert_eq!(
        call(&mut sandbox, "h", json!("bytes")).unwrap(),
        json!({"\u{0}bytes": "eA=="})
    );
}

#[test]
fn files_still_work_after_the_runtime_restored_the_builtins() {
    // A result that cannot be serialised makes the runtime put back the
    // builtins (guest code may have broken them); `open` must stay the
    // filesystem's.
    let mut sandbox = load(
        python(),
        &[
            ("bad", "def handler(e):\n    return {1}\n"),
            (
                "write",
                "def handler(e):\n    open('/tmp/f', 'w').write('kept')\n    return open('/tmp/f').read()\n",
            ),
        ],
    );
    guest_error(sandbox.handle_event("bad", "{}", None));
    assert_eq!(
        call(&mut sandbox, "write", json!({})).unwrap(),
        json!("kept")
    );
}

#[test]
fn sys_exit_in_a_handler_is_an_error_not_an_exit() {
    let mut sandbox = handler("import sys\ndef handler(e):\n    sys.exit(3)\n");
    let error = guest_error(sandbox.handle_event("h", "{}", None));
    assert_eq!(error.message, "SystemExit: 3");
    assert!(!sandbox.poisoned());
}

#[test]
fn memory_and_recursion_errors_are_catchable() {
    let mut loaded = load(
        python().heap_size(64 << 20),
        &[
            (
                "h",
                "def f(n):\n    return f(n + 1)\n\
                 def handler(e):\n    out = []\n\
                 \x20   try:\n        [0] * 10**9\n    except MemoryError:\n        out.append('memory')\n\
                 \x20   try:\n        x = []\n        while True: x.append(' ' * 1_000_000)\n    except MemoryError:\n        x = None\n        out.append('grew')\n\
                 \x20   try:\n        f(0)\n    except RecursionError:\n        out.append('recursion')\n\
                 \x20   return out\n",
            ),
            (
                "uncaught",
                "def f(n):\n    return f(n + 1)\ndef handler(e):\n    return f(0)\n",
            ),
        ],
    );
    assert_eq!(
        call(&mut loaded, "h", json!({})).unwrap(),
        json!(["memory", "grew", "recursion"])
    );
    expect_code(
        loaded.handle_event("uncaught", "{}", None),
        ErrorCode::StackOverflow,
    );
    assert!(!loaded.poisoned());
}

#[test]
fn an_endless_loop_is_stopped_by_every_limit_and_restore_recovers() {
    let mut sandbox = load(
        python().fuel_metering(true),
        &[
            ("spin", "def handler(e):\n    while True:\n        pass\n"),
            ("ok", "def handler(e):\n    return e\n"),
        ],
    );
    let snapshot = sandbox.snapshot().unwrap();
    for (monitor, by) in [
        (
            &WallClockMonitor::new(ms(50)).unwrap() as &dyn polybox::MonitorSet,
            "wall-clock",
        ),
        (&CpuTimeMonitor::new(ms(50)).unwrap(), "cpu-time"),
        (&FuelBudget::new(5_000_000).unwrap(), "fuel"),
        (&EpochDeadline::new(ms(50)).unwrap(), "epoch"),
    ] {
        expect_code(
            sandbox.handle_event_with_monitor("spin", "{}", monitor, None),
            ErrorCode::Cancelled,
        );
        assert_eq!(sandbox.last_call_stats().unwrap().terminated_by, Some(by));
        assert!(sandbox.poisoned());
        expect_code(sandbox.handle_event("ok", "1", None), ErrorCode::Poisoned);
        sandbox.restore(&snapshot).unwrap();
        assert_eq!(call(&mut sandbox, "ok", json!(1)).unwrap(), json!(1));
    }
    let killer = kill_after(sandbox.interrupt_handle(), ms(50));
    expect_code(
        sandbox.handle_event("spin", "{}", None),
        ErrorCode::Cancelled,
    );
    drop(killer);
    sandbox.restore(&snapshot).unwrap();
    assert_eq!(call(&mut sandbox, "ok", json!(2)).unwrap(), json!(2));
}

#[test]
fn a_sleep_is_stopped_at_once_without_poisoning() {
    let mut sandbox = handler("import time\ndef handler(e):\n    time.sleep(60)\n");
    let started = std::time::Instant::now();
    expect_code(
        sandbox.handle_event_with_monitor("h", "{}", &WallClockMonitor::new(ms(50)).unwrap(), None),
        ErrorCode::Cancelled,
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn snapshots_restore_python_state() {
    let mut sandbox =
        handler("count = 0\ndef handler(e):\n    global count\n    count += 1\n    return count\n");
    assert_eq!(call(&mut sandbox, "h", json!({})).unwrap(), json!(1));
    let snapshot = sandbox.snapshot().unwrap();
    assert_eq!(call(&mut sandbox, "h", json!({})).unwrap(), json!(2));
    assert_eq!(call(&mut sandbox, "h", json!({})).unwrap(), json!(3));
    sandbox.restore(&snapshot).unwrap();
    assert_eq!(call(&mut sandbox, "h", json!({})).unwrap(), json!(2));
    let stats = sandbox.last_call_stats().unwrap();
    assert!(stats.wall_clock > Duration::ZERO);
}

#[test]
fn a_template_starts_python_sandboxes_loaded_and_separate() {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut proto = python().build().unwrap();
    let counted = calls.clone();
    proto
        .register("math", "add", move |a: f64, b: f64| {
            counted.fetch_add(1, Ordering::SeqCst);
            a + b
        })
        .unwrap();
    let template = Template::builder(proto)
        .handler(
            "sum",
            "from host import math\noffset = math.add(40, 2)\nseen = []\n\
             def handler(e):\n    seen.append(e)\n    return {'sum': math.add(e, offset), 'seen': len(seen)}\n",
        )
        .build()
        .unwrap();
    let mut first = template.create().unwrap();
    let mut second = template.create().unwrap();
    assert_eq!(
        call(&mut first, "sum", json!(1)).unwrap(),
        json!({"sum": 43.0, "seen": 1})
    );
    assert_eq!(
        call(&mut first, "sum", json!(1)).unwrap(),
        json!({"sum": 43.0, "seen": 2})
    );
    assert_eq!(
        call(&mut second, "sum", json!(2)).unwrap(),
        json!({"sum": 44.0, "seen": 1})
    );
    // The top level ran once, when the template was built.
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

#[test]
fn pools_of_a_python_template_keep_state_as_their_strategy_says() {
    let template = Template::builder(python().build().unwrap())
        .handler(
            "count",
            "n = 0\ndef handler(e):\n    global n\n    n += 1\n    return n\n",
        )
        .build()
        .unwrap();
    for (strategy, expected) in [
        (polybox::Strategy::Reuse, ["1", "2", "3"]),
        (polybox::Strategy::Restore, ["1", "1", "1"]),
        (polybox::Strategy::New, ["1", "1", "1"]),
    ] {
        let pool = polybox::Pool::of(template.clone())
            .size(1)
            .strategy(strategy)
            .build()
            .unwrap();
        let counts: Vec<String> = (0..3).map(|_| pool.call("count", "{}").unwrap()).collect();
        assert_eq!(counts, expected, "{strategy:?}");
    }
}

#[test]
fn a_javascript_template_or_snapshot_does_not_fit_a_python_sandbox() {
    let mut js = polybox_tests::load_handler("h", "function handler(e) { return e; }");
    let snapshot = js.snapshot().unwrap();
    let mut py = handler("def handler(e):\n    return e\n");
    expect_code(py.restore(&snapshot), ErrorCode::InvalidArg);
}

#[test]
fn programs_have_argv_environ_stdio_asyncio_and_exit_codes() {
    let mut runtime = RuntimeBuilder::new().sandbox(python()).build().unwrap();
    let output = runtime
        .exec(
            "import sys, os, asyncio\n\
             print('args', sys.argv[1:], os.environ['GREETING'])\n\
             name = sys.stdin.readline().strip()\n\
             async def later(x):\n    await asyncio.sleep(0.001)\n    return x\n\
             print('hello', await later(name))\n\
             print('warning', file=sys.stderr)\n\
             sys.exit(4)\n",
            ExecOptions {
                args: vec!["a".into(), "b".into()],
                env: vec![("GREETING".into(), "hi".into())],
                stdin: b"World\nrest".to_vec(),
                filename: Some("/home/user/main.py".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "args ['a', 'b'] hi\nhello World\n"
    );
    assert_eq!(String::from_utf8_lossy(&output.stderr), "warning\n");
    assert_eq!(output.exit_code, 4);
    let failed = runtime
        .exec("x = 1\nraise ValueError('boom')\n", ExecOptions::default())
        .unwrap();
    assert_eq!(failed.exit_code, 1);
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("ValueError: boom") && stderr.contains("line 2"),
        "{stderr}"
    );
}

/// A hostcall handler that says what it was asked.
fn answer(name: &str, payload: Value, _: &polybox::CallContext<'_>) -> Result<Value, String> {
    Ok(json!({"called": name, "with": payload}))
}

#[test]
fn a_program_imports_its_own_modules_through_the_filesystem() {
    let sandbox = python()
        .file(
            "/app/helper.py",
            b"def twice(x):\n    return 2 * x\n".to_vec(),
        )
        .file(
            "/app/pkg/__init__.py",
            b"from .inner import NAME\n".to_vec(),
        )
        .file("/app/pkg/inner.py", b"NAME = 'inner'\n".to_vec());
    let mut runtime = RuntimeBuilder::new().sandbox(sandbox).build().unwrap();
    let output = runtime
        .exec(
            "import helper, pkg\nfrom pkg import inner\nprint(helper.twice(21), pkg.NAME, inner.__file__)\n\
             try:\n    import nothing_here\nexcept ModuleNotFoundError as e:\n    print(type(e).__name__)\n",
            ExecOptions {
                filename: Some("/app/main.py".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "42 inner /app/pkg/inner.py\nModuleNotFoundError\n",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn sessions_call_python_functions_with_kwargs_generators_and_hostcalls() {
    let template =
        SessionTemplate::builder(RuntimeBuilder::new().sandbox(python().hostcall_handler(answer)))
            .prelude("GREETING = 'hello'\n")
            .build()
            .unwrap();
    let mut session = template
        .create(RuntimeBuilder::new().sandbox(python().hostcall_handler(answer)))
        .unwrap();
    session
        .load_script(
            "from sandbox.asyncio import hostcall\n\
             def greet(name, punctuation='.'):\n    return f'{GREETING} {name}{punctuation}'\n\
             async def ask(x):\n    return await hostcall('lookup', {'x': x})\n\
             def count(n):\n    for i in range(n):\n        print('step', i)\n        yield i\n",
        )
        .unwrap();
    let args = [Argument::Json("\"Ada\"".into())];
    let kwargs = [("punctuation".to_owned(), Argument::Json("\"!\"".into()))];
    let limits = Default::default();
    assert_eq!(
        session.call("greet", &args, &kwargs, &limits).unwrap(),
        "\"hello Ada!\""
    );
    assert_eq!(
        serde_json::from_str::<Value>(
            &session
                .call("ask", &[Argument::Json("1".into())], &[], &limits)
                .unwrap()
        )
        .unwrap(),
        json!({"called": "lookup", "with": {"x": 1}})
    );
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = events.clone();
    session
        .call_streaming(
            "count",
            &[Argument::Json("2".into())],
            &[],
            &limits,
            move |event| seen.lock().unwrap().push(event),
        )
        .unwrap();
    assert_eq!(
        *events.lock().unwrap(),
        vec![
            SessionEvent::Stdout("step 0\n".into()),
            SessionEvent::Result("0".into()),
            SessionEvent::Stdout("step 1\n".into()),
            SessionEvent::Result("1".into()),
            SessionEvent::End("null".into()),
        ]
    );
    let error = expect_code(
        session.call("missing", &[], &[], &limits),
        ErrorCode::GuestError,
    );
    assert!(error.contains("NameError"), "{error}");
}

#[test]
fn python_needs_the_wasmtime_backend() {
    let message = expect_code(
        python().backend(Backend::Hyperlight).build(),
        ErrorCode::InvalidArg,
    );
    assert!(message.contains("wasmtime backend"), "{message}");
}

#[test]
fn files_are_the_sandboxs_filesystem() {
    let mut sandbox = load(
        python().file("/data/input.txt", b"line one\nline two\n".to_vec()),
        &[(
            "h",
            "import os, json, pathlib\n\
             def handler(e):\n\
             \x20   with open('/data/input.txt') as f:\n        lines = f.read().splitlines()\n\
             \x20   os.makedirs('/tmp/out/deep', exist_ok=True)\n\
             \x20   with open('/tmp/out/deep/result.json', 'w') as f:\n        json.dump({'lines': len(lines)}, f)\n\
             \x20   with open('/tmp/out/deep/result.json', 'a') as f:\n        f.write('\\n')\n\
             \x20   with open('/tmp/out/deep/result.json', 'rb') as f:\n        raw = f.read()\n\
             \x20   p = pathlib.Path('/tmp/out/note.txt')\n    p.write_text('hi')\n\
             \x20   try:\n        open('/etc/passwd')\n        etc = 'REACHED'\n    except OSError as error:\n        etc = type(error).__name__\n\
             \x20   walked = [(d, sorted(f)) for d, _, f in os.walk('/tmp/out')]\n\
             \x20   return {'lines': lines, 'raw': raw.decode(), 'listing': sorted(os.listdir('/tmp/out')), 'walked': walked,\n\
             \x20           'note': p.read_text(), 'exists': os.path.exists('/tmp/out/note.txt'),\n\
             \x20           'size': os.path.getsize('/data/input.txt'), 'etc': etc,\n\
             \x20           'missing': os.path.exists('/nope')}\n",
        )],
    );
    assert_eq!(
        call(&mut sandbox, "h", json!({})).unwrap(),
        json!({
            "lines": ["line one", "line two"],
            "raw": "{\"lines\": 2}\n",
            "listing": ["deep", "note.txt"],
            "walked": [["/tmp/out", ["note.txt"]], ["/tmp/out/deep", ["result.json"]]],
            "note": "hi",
            "exists": true,
            "size": 18,
            "etc": "PermissionError",
            "missing": false
        })
    );
}

#[test]
fn sandbox_http_fetch_goes_through_the_network_capability() {
    let answering = python().http_handler(|request: &polybox::HttpRequest| {
        let content_type = request
            .headers
            .iter()
            .find(|(name, _)| name == "content-type")
            .map_or("", |(_, value)| value.as_str());
        Ok(polybox::HttpResponse::new(
            200,
            format!(
                "{} {} {} {}",
                request.method,
                request.url,
                content_type,
                String::from_utf8_lossy(&request.body)
            ),
        ))
    });
    let source = "from sandbox.http import fetch\n\
         async def handler(e):\n\
         \x20   with fetch('GET', 'https://api.example.com/v1', params={'q': 'hello'}) as resp:\n        first = [resp.status, resp.text()]\n\
         \x20   async with fetch('POST', 'https://api.example.com/v1', body={'a': 1}) as resp:\n        second = await resp.atext()\n\
         \x20   return [first, second]\n";
    let mut sandbox = load(answering, &[("h", source)]);
    assert_eq!(
        call(&mut sandbox, "h", json!({})).unwrap(),
        json!([
            [200, "GET https://api.example.com/v1?q=hello  "],
            "POST https://api.example.com/v1 application/json {\"a\": 1}"
        ])
    );
    // Without a grant or a handler, nothing is sent.
    let mut denied = handler(
        "from sandbox.http import fetch\n\
         def handler(e):\n    try:\n        fetch('GET', 'https://example.com/').__enter__()\n    except PermissionError as error:\n        return 'refused'\n",
    );
    assert_eq!(call(&mut denied, "h", json!({})).unwrap(), json!("refused"));
}
