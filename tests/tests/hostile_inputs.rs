//! The hostile-input matrix: what untrusted code and untrusted events can
//! throw at a sandbox. Every case asserts the exact outcome, that a second
//! sandbox in the same process is untouched, and that the sandbox is either
//! still usable or reports itself poisoned and recovers by `restore`.
//! (The process surviving is every case reaching its end.)

use std::sync::{Arc, Barrier};
use std::time::Duration;

use polybox::{
    ErrorCode, GuestErrorKind, JSSandbox, Language, LoadedJSSandbox, ProtoJSSandbox,
    SandboxBuilder, Snapshot, WallClockMonitor,
};
use polybox_tests::{expect_code, kill_after, runtime};

/// What a case's call must return.
enum Expect {
    /// This JSON text.
    Ok(&'static str),
    /// An error with this code.
    Code(ErrorCode),
}

/// The state a case leaves its sandbox in.
#[derive(Clone, Copy, Debug, PartialEq)]
enum After {
    Usable,
    Poisoned,
}

/// A sandbox next to the one under attack, whose module state counts calls:
/// it must count on undisturbed.
struct Bystander {
    loaded: LoadedJSSandbox,
    calls: u32,
}

impl Bystander {
    fn new() -> Self {
        let mut sandbox = runtime(SandboxBuilder::new());
        sandbox
            .add_module("count", "let n = 0;\nexport const next = () => ++n;", None)
            .unwrap();
        sandbox
            .add_handler(
                "count",
                "import { next } from 'user:count';\nfunction handler() { return next(); }",
            )
            .unwrap();
        let mut bystander = Self {
            loaded: sandbox.get_loaded_sandbox().unwrap(),
            calls: 0,
        };
        bystander.check();
        bystander
    }

    #[track_caller]
    fn check(&mut self) {
        self.calls += 1;
        let count = self.loaded.handle_event("count", "{}", None).unwrap();
        assert_eq!(count, self.calls.to_string(), "the bystander was disturbed");
    }
}

const OK: &str = "function handler() { return 'ok'; }";

/// Loads `handlers` plus a control handler `ok` into `sandbox` and takes a
/// snapshot to recover with.
fn load(sandbox: JSSandbox, handlers: &[(&str, &str)]) -> (LoadedJSSandbox, Snapshot) {
    load_with_ok(sandbox, handlers, OK)
}

/// [`load`] with `ok` as the control handler's source (it returns "ok").
fn load_with_ok(
    mut sandbox: JSSandbox,
    handlers: &[(&str, &str)],
    ok: &str,
) -> (LoadedJSSandbox, Snapshot) {
    for (name, source) in handlers {
        sandbox.add_handler(name, *source).unwrap();
    }
    sandbox.add_handler("ok", ok).unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    let snapshot = loaded.snapshot().unwrap();
    (loaded, snapshot)
}

/// Asserts the sandbox is in state `after`, and recovers a poisoned one.
#[track_caller]
fn settle(loaded: &mut LoadedJSSandbox, snapshot: &Snapshot, after: After) {
    assert_eq!(
        if loaded.poisoned() {
            After::Poisoned
        } else {
            After::Usable
        },
        after,
        "the sandbox is in the wrong state"
    );
    if after == After::Poisoned {
        expect_code(loaded.handle_event("ok", "{}", None), ErrorCode::Poisoned);
        loaded.restore(snapshot).unwrap();
    }
    assert_eq!(loaded.handle_event("ok", "{}", None).unwrap(), r#""ok""#);
}

#[track_caller]
fn check_result(result: polybox::Result<String>, expect: Expect) {
    match expect {
        Expect::Ok(json) => assert_eq!(result.unwrap(), json),
        Expect::Code(code) => {
            expect_code(result, code);
        }
    }
}

/// Calls handler `source` with `event` under a 2 s wall-clock limit in
/// `sandbox`, next to a bystander.
#[track_caller]
fn attack(sandbox: JSSandbox, source: &str, event: &str, expect: Expect, after: After) {
    attack_with_ok(sandbox, source, OK, event, expect, after);
}

/// [`attack`] with `ok` as the control handler's source.
#[track_caller]
fn attack_with_ok(
    sandbox: JSSandbox,
    source: &str,
    ok: &str,
    event: &str,
    expect: Expect,
    after: After,
) {
    let mut bystander = Bystander::new();
    let (mut loaded, snapshot) = load_with_ok(sandbox, &[("h", source)], ok);
    let limit = WallClockMonitor::new(Duration::from_secs(2)).unwrap();
    let result = loaded.handle_event_with_monitor("h", event, &limit, None);
    bystander.check();
    check_result(result, expect);
    settle(&mut loaded, &snapshot, after);
    bystander.check();
}

macro_rules! hostile {
    ($($name:ident: $source:expr, $event:expr => $expect:expr, $after:ident;)*) => {$(
        #[test]
        fn $name() {
            attack(runtime(SandboxBuilder::new()), $source, &$event, $expect, After::$after);
        }
    )*};
}

use Expect::{Code, Ok};

const ECHO: &str = "function handler(e) { return e; }";

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

hostile! {
    event_that_is_not_json: ECHO, "{\"a\":" => Code(ErrorCode::InvalidArg), Usable;
    event_with_trailing_garbage: ECHO, "{} {}" => Code(ErrorCode::InvalidArg), Usable;
    event_with_a_raw_nul_in_a_string: ECHO, "{\"a\":\"x\u{0}y\"}" => Code(ErrorCode::InvalidArg), Usable;
    event_with_a_raw_nul_after_it: ECHO, "{}\u{0}" => Code(ErrorCode::InvalidArg), Usable;
    event_with_a_raw_control_character_in_a_long_string: ECHO, format!("{{\"a\":\"{}\u{1}\"}}", "x".repeat(4096)) => Code(ErrorCode::InvalidArg), Usable;
    event_nested_10000_levels: ECHO, nested(10_000) => Code(ErrorCode::InvalidArg), Usable;
    event_nested_within_the_limit: "function handler(e) { let d = 0; while (Array.isArray(e)) { e = e[0]; d++; } return d; }",
        nested(2_000) => Ok("2000"), Usable;
    event_with_a_lone_surrogate: ECHO, r#""\ud800""# => Ok(r#""\ud800""#), Usable;
    event_bytes_value_not_base64: ECHO, r#"{"b":{"\u0000bytes":"!!"}}"# => Code(ErrorCode::InvalidArg), Usable;
    event_bytes_value_not_a_string: ECHO, r#"{"\u0000bytes":7}"# => Ok(r#"{"\u0000bytes":7}"#), Usable;
    event_bytes_key_beside_others: ECHO, r#"{"\u0000bytes":"AA==","x":1}"# => Ok(r#"{"\u0000bytes":"AA==","x":1}"#), Usable;
    event_bytes_round_trip: "function handler(e) { return [e instanceof Uint8Array, e]; }",
        r#"{"\u0000bytes":"AP8="}"# => Ok(r#"[true,{"\u0000bytes":"AP8="}]"#), Usable;
    result_bytes_whose_to_json_is_taken: "function handler() { Uint8Array.prototype.toJSON = () => 'mine'; return new Uint8Array([1]); }",
        "{}" => Ok(r#""mine""#), Usable;
    result_bytes_in_a_frozen_world: "function handler() { Object.freeze(Uint8Array.prototype); Object.freeze(ArrayBuffer.prototype); return [new Uint8Array([1]), {}]; }",
        "{}" => Ok(r#"[{"0":1},{}]"#), Usable;
    event_with_a_lone_surrogate_key: ECHO, r#"{"\udc00":1}"# => Ok(r#"{"\udc00":1}"#), Usable;
    events_of_every_json_type: "function handler(e) { return e.map((v) => v === null ? 'null' : typeof v); }",
        r#"[null, 1.5, "s", true, [], {}]"# => Ok(r#"["null","number","string","boolean","object","object"]"#), Usable;
    result_undefined: "function handler() { return undefined; }", "{}" => Code(ErrorCode::GuestError), Usable;
    result_cyclic: "function handler() { const a = {}; a.self = a; return a; }", "{}" => Code(ErrorCode::GuestError), Usable;
    result_bigint: "function handler() { return 10n ** 30n; }", "{}" => Code(ErrorCode::GuestError), Usable;
    result_function: "function handler() { return () => 1; }", "{}" => Code(ErrorCode::GuestError), Usable;
    result_symbol: "function handler() { return Symbol('s'); }", "{}" => Code(ErrorCode::GuestError), Usable;
    result_with_a_throwing_to_json: "function handler() { return { toJSON() { throw new Error('no'); } }; }", "{}" => Code(ErrorCode::GuestError), Usable;
    result_nested_too_deep_for_the_stack: "function handler() { let o = []; for (let i = 0; i < 100000; i++) o = [o]; return o; }",
        "{}" => Code(ErrorCode::StackOverflow), Poisoned;
    throwing_a_string: "function handler() { throw 'a string'; }", "{}" => Code(ErrorCode::GuestError), Usable;
    throwing_null: "function handler() { throw null; }", "{}" => Code(ErrorCode::GuestError), Usable;
    throwing_an_object_whose_getters_throw: "function handler() { throw { get message() { throw 1; }, get stack() { throw 2; }, toString() { throw 3; } }; }",
        "{}" => Code(ErrorCode::GuestError), Usable;
    throwing_an_error_with_a_huge_message: "function handler() { throw new Error('x'.repeat(4_000_000)); }", "{}" => Code(ErrorCode::GuestError), Usable;
    rejecting_after_await: "async function handler() { await null; throw new TypeError('late'); }", "{}" => Code(ErrorCode::GuestError), Usable;
    an_infinite_loop: "function handler() { for (;;) {} }", "{}" => Code(ErrorCode::Cancelled), Poisoned;
    infinite_recursion: "function handler() { return handler(); }", "{}" => Code(ErrorCode::StackOverflow), Usable;
    mutual_recursion_through_a_module_free_closure: "function handler() { const f = (n) => g(n + 1); const g = (n) => f(n + 1); return f(0); }",
        "{}" => Code(ErrorCode::StackOverflow), Usable;
    an_infinite_promise_chain: "async function handler() { for (;;) await null; }", "{}" => Code(ErrorCode::Cancelled), Poisoned;
    a_self_replicating_microtask: "function handler() { Promise.resolve().then(function f() { Promise.resolve().then(f); }); return 1; }",
        "{}" => Code(ErrorCode::Cancelled), Poisoned;
    a_microtask_flood_past_the_heap: "function handler() { for (let i = 0; i < 2e6; i++) Promise.resolve().then(() => {}); return 1; }",
        "{}" => Code(ErrorCode::GuestError), Usable;
    a_promise_that_never_settles: "function handler() { return new Promise(() => {}); }", "{}" => Code(ErrorCode::GuestError), Usable;
    a_handler_sleeping_past_its_limit: "function handler() { return new Promise((r) => setTimeout(r, 60000)); }", "{}" => Code(ErrorCode::Cancelled), Poisoned;
    a_handler_timer_storm: "function handler() { for (let i = 0; i < 1e6; i++) setTimeout(() => {}, 0); return 1; }", "{}" => Code(ErrorCode::GuestError), Usable;
    a_handler_self_rescheduling_timer: "function handler() { return new Promise(() => { (function again() { setTimeout(again, 0); })(); }); }", "{}" => Code(ErrorCode::Cancelled), Poisoned;
    a_handler_timer_with_a_bad_callback: "function handler() { setTimeout('code as a string', 0); }", "{}" => Code(ErrorCode::GuestError), Usable;
    allocating_past_the_heap_limit: "function handler() { const a = []; for (;;) a.push(new Array(1000).fill(1)); }", "{}" => Code(ErrorCode::GuestError), Usable;
    a_huge_string: "function handler() { return 'x'.repeat(2 ** 29).length; }", "{}" => Code(ErrorCode::GuestError), Usable;
    doubling_a_string_forever: "function handler() { let s = 'x'; for (;;) s += s; }", "{}" => Code(ErrorCode::GuestError), Usable;
    a_huge_typed_array: "function handler() { return new Uint8Array(2 ** 31).length; }", "{}" => Code(ErrorCode::GuestError), Usable;
    catastrophic_regex_backtracking: "function handler() { return /(a+)+$/.test('a'.repeat(40) + 'b'); }", "{}" => Code(ErrorCode::Cancelled), Poisoned;
    deleting_the_json_global: "function handler() { delete globalThis.JSON; return { a: 1 }; }", "{}" => Ok(r#"{"a":1}"#), Usable;
    a_throwing_then_getter_on_object_prototype: "function handler() { Object.defineProperty(Object.prototype, 'then', { get() { throw new Error('trap'); } }); return { a: 1 }; }",
        "{}" => Ok(r#"{"a":1}"#), Usable;
    a_thenable_result_is_data_not_a_promise: "function handler() { return { then() {} }; }", "{}" => Ok("{}"), Usable;
}

/// The Python guest's cases: each handler is Python source, next to a
/// JavaScript bystander.
macro_rules! hostile_python {
    ($($name:ident: $source:expr, $event:expr => $expect:expr, $after:ident;)*) => {$(
        #[test]
        fn $name() {
            attack_with_ok(
                runtime(SandboxBuilder::new().language(Language::Python)),
                $source,
                PY_OK,
                &$event,
                $expect,
                After::$after,
            );
        }
    )*};
}

const PY_OK: &str = "def handler(e):\n    return 'ok'\n";
const PY_ECHO: &str = "def handler(e):\n    return e\n";

hostile_python! {
    python_event_that_is_not_json: PY_ECHO, "{\"a\":" => Code(ErrorCode::InvalidArg), Usable;
    python_event_nested_10000_levels: PY_ECHO, nested(10_000) => Code(ErrorCode::InvalidArg), Usable;
    python_event_with_a_lone_surrogate: PY_ECHO, r#""\ud800""# => Ok(r#""\ud800""#), Usable;
    python_os_system: "import os\ndef handler(e):\n    return os.system('id')\n", "{}" => Code(ErrorCode::GuestError), Usable;
    python_open_etc_passwd: "def handler(e):\n    return open('/etc/passwd').read()\n", "{}" => Code(ErrorCode::GuestError), Usable;
    python_posix_open_bypassing_os: "import posix\ndef handler(e):\n    return posix.open('/etc/passwd', 0)\n", "{}" => Code(ErrorCode::GuestError), Usable;
    python_ctypes: "def handler(e):\n    import ctypes\n    return 1\n", "{}" => Code(ErrorCode::GuestError), Usable;
    python_sys_exit: "import sys\ndef handler(e):\n    sys.exit(3)\n", "{}" => Code(ErrorCode::GuestError), Usable;
    python_keyboard_interrupt: "def handler(e):\n    raise KeyboardInterrupt\n", "{}" => Code(ErrorCode::GuestError), Usable;
    python_an_infinite_loop: "def handler(e):\n    while True:\n        pass\n", "{}" => Code(ErrorCode::Cancelled), Poisoned;
    python_a_huge_list: "def handler(e):\n    return len([0] * 10**10)\n", "{}" => Code(ErrorCode::GuestError), Usable;
    python_allocating_past_the_heap: "def handler(e):\n    x = []\n    while True:\n        x.append(bytearray(10**6))\n", "{}" => Code(ErrorCode::GuestError), Usable;
    python_infinite_recursion: "def handler(e):\n    return handler(e)\n", "{}" => Code(ErrorCode::StackOverflow), Usable;
    python_recursion_through_c: "class R:\n    def __repr__(self):\n        return repr(self)\ndef handler(e):\n    return repr(R())\n", "{}" => Code(ErrorCode::StackOverflow), Usable;
    python_raising_the_recursion_limit_then_recursing_through_c: "import sys\nclass R:\n    def __repr__(self):\n        return repr(self)\ndef handler(e):\n    sys.setrecursionlimit(100000)\n    return repr(R())\n",
        "{}" => Code(ErrorCode::StackOverflow), Poisoned;
    python_deep_pure_python_recursion_under_a_raised_limit: "import sys\ndef f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\ndef handler(e):\n    sys.setrecursionlimit(100000)\n    return f(50000)\n",
        "{}" => Ok("50000"), Usable;
    python_result_nested_too_deep_for_the_stack: "def handler(e):\n    x = []\n    for _ in range(100000):\n        x = [x]\n    return x\n",
        "{}" => Code(ErrorCode::StackOverflow), Poisoned;
    python_result_a_set: "def handler(e):\n    return {1, 2}\n", "{}" => Code(ErrorCode::GuestError), Usable;
    python_result_bytes: "def handler(e):\n    return b'x'\n", "{}" => Ok(r#"{"\u0000bytes":"eA=="}"#), Usable;
    python_event_bytes_value_not_base64: PY_ECHO, r#"{"\u0000bytes":"!!"}"# => Code(ErrorCode::InvalidArg), Usable;
    python_event_bytes_round_trip: "def handler(e):\n    return [type(e).__name__, e]\n",
        r#"{"\u0000bytes":"AP8="}"# => Ok(r#"["bytes",{"\u0000bytes":"AP8="}]"#), Usable;
    python_result_nan: "def handler(e):\n    return float('nan')\n", "{}" => Code(ErrorCode::GuestError), Usable;
    python_result_a_cycle: "def handler(e):\n    a = []\n    a.append(a)\n    return a\n", "{}" => Code(ErrorCode::GuestError), Usable;
    python_a_coroutine_that_never_finishes: "import asyncio\nasync def handler(e):\n    await asyncio.get_event_loop().create_future()\n", "{}" => Code(ErrorCode::GuestError), Usable;
    python_sleeping_past_its_limit: "import time\ndef handler(e):\n    time.sleep(60)\n", "{}" => Code(ErrorCode::Cancelled), Poisoned;
    python_catastrophic_regex_backtracking: "import re\ndef handler(e):\n    return bool(re.match(r'(a+)+$', 'a' * 40 + 'b'))\n", "{}" => Code(ErrorCode::Cancelled), Poisoned;
    python_deleting_json: "import sys\ndef handler(e):\n    del sys.modules['json']\n    return {'a': 1}\n", "{}" => Ok(r#"{"a":1}"#), Usable;
    python_replacing_builtins: "import builtins\ndef handler(e):\n    builtins.len = None\n    builtins.isinstance = None\n    return [1]\n", "{}" => Ok("[1]"), Usable;
    python_printing_a_lone_surrogate: "def handler(e):\n    print('\\ud800')\n    return 'printed'\n", "{}" => Ok(r#""printed""#), Usable;
    python_raising_a_lone_surrogate: "def handler(e):\n    raise ValueError('\\udfff')\n", "{}" => Code(ErrorCode::GuestError), Usable;
    python_a_hostcall_named_by_a_lone_surrogate: "from sandbox.asyncio import hostcall\nasync def handler(e):\n    return await hostcall('\\ud800', 1)\n", "{}" => Code(ErrorCode::GuestError), Usable;
    python_sqlite_on_a_file: "import sqlite3\ndef handler(e):\n    return sqlite3.connect('/tmp/db').execute('select 1').fetchone()\n", "{}" => Code(ErrorCode::GuestError), Usable;
    python_sqlite_attaching_a_file: "import sqlite3\ndef handler(e):\n    db = sqlite3.connect(':memory:')\n    db.execute(\"attach database '/tmp/other' as other\")\n", "{}" => Code(ErrorCode::GuestError), Usable;
    python_select_on_nothing: "import select\ndef handler(e):\n    return select.select([], [], [], 60)\n", "{}" => Code(ErrorCode::GuestError), Usable;
    python_writing_to_a_made_up_descriptor: "import os\ndef handler(e):\n    return os.write(7, b'x')\n", "{}" => Code(ErrorCode::GuestError), Usable;
    python_process_times: "import os\ndef handler(e):\n    return os.times()\n", "{}" => Code(ErrorCode::GuestError), Usable;
    python_a_thread: "import threading\ndef handler(e):\n    threading.Thread(target=print).start()\n", "{}" => Code(ErrorCode::GuestError), Usable;
    python_a_huge_exception_message: "def handler(e):\n    raise ValueError('x' * 4_000_000)\n", "{}" => Code(ErrorCode::GuestError), Usable;
}

/// Loading Python that cannot be a handler: each is refused with its code,
/// and the runtime stays usable.
#[test]
fn python_sources_that_cannot_be_handlers() {
    for (source, code) in [
        ("def handler(e)\n    return 1\n", ErrorCode::GuestError),
        (
            "def handler(e):\n  x = 1\n    return x\n",
            ErrorCode::GuestError,
        ),
        ("handler = 3\n", ErrorCode::InvalidArg),
        ("x = 1\n", ErrorCode::InvalidArg),
        ("raise SystemExit(3)\n", ErrorCode::GuestError),
        (
            "from host import nothing\ndef handler(e):\n    return 1\n",
            ErrorCode::GuestError,
        ),
    ] {
        let mut sandbox = runtime(SandboxBuilder::new().language(Language::Python));
        sandbox.add_handler("h", source).unwrap();
        let failure = sandbox
            .get_loaded_sandbox()
            .err()
            .unwrap_or_else(|| panic!("{source:?} loaded"));
        assert_eq!(failure.code(), code, "{source:?}: {}", failure.error);
    }
}

#[test]
fn calling_an_unknown_handler() {
    let (mut loaded, snapshot) = load(runtime(SandboxBuilder::new()), &[]);
    expect_code(
        loaded.handle_event("nope", "{}", None),
        ErrorCode::InvalidArg,
    );
    expect_code(loaded.handle_event("", "{}", None), ErrorCode::InvalidArg);
    settle(&mut loaded, &snapshot, After::Usable);
}

#[test]
fn an_event_larger_than_the_input_buffer() {
    let sandbox = runtime(SandboxBuilder::new().input_buffer_size(1024));
    let event = format!("\"{}\"", "x".repeat(2048));
    attack(
        sandbox,
        ECHO,
        &event,
        Code(ErrorCode::InvalidArg),
        After::Usable,
    );
}

#[test]
fn a_result_larger_than_the_output_buffer() {
    let sandbox = runtime(SandboxBuilder::new().output_buffer_size(1024));
    let source = "function handler() { return 'x'.repeat(4096); }";
    attack(
        sandbox,
        source,
        "{}",
        Code(ErrorCode::InvalidArg),
        After::Usable,
    );
}

/// A load-time case: `register` adds hostile source (or fails doing so
/// with `code`), loading fails with `code`, and the sandbox loads fine once
/// the bad registrations are cleared.
#[track_caller]
fn bad_load(code: ErrorCode, register: impl FnOnce(&mut JSSandbox) -> polybox::Result<()>) {
    let mut bystander = Bystander::new();
    let mut sandbox = runtime(SandboxBuilder::new());
    let sandbox = match register(&mut sandbox) {
        Err(error) => {
            assert_eq!(error.code(), code, "{error}");
            sandbox
        }
        Result::Ok(()) => {
            let limit = WallClockMonitor::new(Duration::from_secs(2)).unwrap();
            let failure = sandbox.get_loaded_sandbox_with_monitor(&limit).unwrap_err();
            assert_eq!(failure.code(), code, "{failure}");
            failure.into_sandbox()
        }
    };
    bystander.check();
    let mut sandbox = sandbox;
    sandbox.clear_handlers();
    sandbox.clear_modules();
    let (mut loaded, snapshot) = load(sandbox, &[]);
    settle(&mut loaded, &snapshot, After::Usable);
    bystander.check();
}

#[test]
fn a_syntax_error() {
    bad_load(ErrorCode::GuestError, |s| {
        s.add_handler("h", "function handler( {")
    });
    let mut sandbox = runtime(SandboxBuilder::new());
    sandbox.add_handler("h", "let = ;").unwrap();
    let error = sandbox.get_loaded_sandbox().unwrap_err().error;
    assert_eq!(error.guest_error().unwrap().kind, GuestErrorKind::Syntax);
}

#[test]
fn source_without_a_handler_function() {
    bad_load(ErrorCode::InvalidArg, |s| {
        s.add_handler("h", "const handler = 42;")
    });
}

#[test]
fn an_empty_handler_name() {
    bad_load(ErrorCode::InvalidArg, |s| s.add_handler("", OK));
}

#[test]
fn a_huge_handler_name() {
    bad_load(ErrorCode::InvalidArg, |s| {
        s.add_handler(&"h".repeat(100_000), OK)
    });
}

#[test]
fn a_handler_name_with_nul() {
    bad_load(ErrorCode::InvalidArg, |s| s.add_handler("a\0b", OK));
}

#[test]
fn a_handler_name_with_a_newline() {
    bad_load(ErrorCode::InvalidArg, |s| s.add_handler("a\nb", OK));
}

#[test]
fn module_names_and_namespaces_that_cannot_be_imported() {
    bad_load(ErrorCode::InvalidArg, |s| {
        s.add_module("m", "", Some("host"))
    });
    bad_load(ErrorCode::InvalidArg, |s| s.add_module("", "", None));
    bad_load(ErrorCode::InvalidArg, |s| s.add_module("m\0", "", None));
}

#[test]
fn importing_an_unknown_user_module() {
    bad_load(ErrorCode::GuestError, |s| {
        s.add_handler(
            "h",
            "import { x } from 'user:missing';\nfunction handler() { return x; }",
        )
    });
}

#[test]
fn importing_an_unknown_host_module() {
    bad_load(ErrorCode::GuestError, |s| {
        s.add_handler(
            "h",
            "import * as fs from 'host:fs';\nfunction handler() { return fs; }",
        )
    });
}

#[test]
fn a_module_that_throws_while_loading() {
    bad_load(ErrorCode::GuestError, |s| {
        s.add_module("bad", "throw new Error('at load');", None)?;
        s.add_handler("h", "import 'user:bad';\nfunction handler() {}")
    });
}

#[test]
fn top_level_code_that_never_finishes() {
    bad_load(ErrorCode::Cancelled, |s| {
        s.add_handler("h", "while (true) {}\nfunction handler() {}")
    });
}

#[test]
fn a_module_import_cycle_loads_as_es_modules_do() {
    let mut sandbox = runtime(SandboxBuilder::new());
    sandbox
        .add_module(
            "a",
            "import { b } from 'user:b';\nexport const a = () => 'a' + b();",
            None,
        )
        .unwrap();
    sandbox
        .add_module("b", "import { a } from 'user:a';\nexport const b = () => 'b';\nexport const viaA = () => a();", None)
        .unwrap();
    sandbox
        .add_module(
            "self",
            "import * as me from 'user:self';\nexport const name = () => typeof me;",
            None,
        )
        .unwrap();
    let source = "import { viaA } from 'user:b';\nimport { name } from 'user:self';\nfunction handler() { return [viaA(), name()]; }";
    attack(
        sandbox,
        source,
        "{}",
        Ok(r#"["ab","object"]"#),
        After::Usable,
    );
}

/// A sandbox whose host module `h` has `fail`, `panic`, `raw` (invalid
/// JSON), `bad_bytes` (a bytes value that is not base64), `add(a, b)` and
/// `sleep(ms)`.
fn with_host_functions() -> JSSandbox {
    let mut proto: ProtoJSSandbox = SandboxBuilder::new().build().unwrap();
    proto
        .host_module("h")
        .unwrap()
        .register_raw("fail", |_| Err("the host says no".into()))
        .unwrap()
        .register("panic", || -> u32 { panic!("host function panicked") })
        .unwrap()
        .register_raw("raw", |_| Result::Ok("{not json".into()))
        .unwrap()
        .register_raw("bad_bytes", |_| {
            Result::Ok(r#"{"\u0000bytes":"!!"}"#.into())
        })
        .unwrap()
        .register("add", |a: i64, b: i64| a + b)
        .unwrap()
        .register("sleep", |ms: u64| {
            std::thread::sleep(Duration::from_millis(ms))
        })
        .unwrap();
    proto.load_runtime().unwrap()
}

macro_rules! hostile_host_call {
    ($($name:ident: $call:literal => $expect:expr, $after:ident;)*) => {$(
        #[test]
        fn $name() {
            let source = concat!("import * as h from 'host:h';\nfunction handler() { return ", $call, "; }");
            attack(with_host_functions(), source, "{}", $expect, After::$after);
        }
    )*};
}

hostile_host_call! {
    a_host_function_that_fails: "h.fail()" => Code(ErrorCode::GuestError), Usable;
    a_host_function_that_panics: "h.panic()" => Code(ErrorCode::GuestError), Usable;
    a_host_function_returning_invalid_json: "h.raw()" => Code(ErrorCode::GuestError), Usable;
    a_host_function_returning_bytes_that_are_not_base64: "h.bad_bytes()" => Code(ErrorCode::GuestError), Usable;
    a_host_function_given_bytes_and_a_look_alike: "h.add(new Uint8Array(1), { '\\u0000bytes': 1 })" => Code(ErrorCode::GuestError), Usable;
    a_host_function_called_with_too_few_arguments: "h.add(1)" => Code(ErrorCode::GuestError), Usable;
    a_host_function_called_with_too_many_arguments: "h.add(1, 2, 3)" => Code(ErrorCode::GuestError), Usable;
    a_host_function_called_with_wrong_types: "h.add('1', {})" => Code(ErrorCode::GuestError), Usable;
    a_host_function_called_with_unserialisable_arguments: "h.add(1n, () => 2)" => Code(ErrorCode::GuestError), Usable;
    a_host_failure_caught_by_the_guest: "(() => { try { h.fail(); } catch (e) { return e.message; } })()" => Ok(r#""the host says no""#), Usable;
}

#[test]
fn kill_during_a_host_call() {
    let mut bystander = Bystander::new();
    let source =
        "import { sleep } from 'host:h';\nfunction handler() { sleep(200); return 'slept'; }";
    let (mut loaded, snapshot) = load(with_host_functions(), &[("h", source)]);
    let killer = kill_after(loaded.interrupt_handle(), Duration::from_millis(50));
    let result = loaded.handle_event("h", "{}", None);
    drop(killer);
    // The host function runs to its end; the guest stops when it returns.
    expect_code(result, ErrorCode::Cancelled);
    assert_eq!(
        loaded.last_call_stats().unwrap().terminated_by,
        Some("killed")
    );
    bystander.check();
    settle(&mut loaded, &snapshot, After::Poisoned);
    bystander.check();
}

#[test]
fn kill_while_idle_affects_no_later_call() {
    let mut bystander = Bystander::new();
    let (mut loaded, snapshot) = load(runtime(SandboxBuilder::new()), &[]);
    loaded.interrupt_handle().kill();
    bystander.check();
    settle(&mut loaded, &snapshot, After::Usable);
    assert_eq!(loaded.last_call_stats().unwrap().terminated_by, None);
}

#[test]
fn concurrent_calls_on_two_sandboxes_from_two_threads() {
    let source = "let total = 0;\nfunction handler(e) { total += e.n; return total; }";
    let start = Arc::new(Barrier::new(2));
    let threads: Vec<_> = [1u64, 1000]
        .into_iter()
        .map(|n| {
            let start = start.clone();
            std::thread::spawn(move || {
                let (mut loaded, _) = load(runtime(SandboxBuilder::new()), &[("sum", source)]);
                start.wait();
                let mut last = String::new();
                for _ in 0..2_000 {
                    last = loaded
                        .handle_event("sum", format!("{{\"n\":{n}}}"), Some(false))
                        .unwrap();
                }
                (n, last)
            })
        })
        .collect();
    for thread in threads {
        let (n, last) = thread.join().unwrap();
        assert_eq!(last, (n * 2_000).to_string());
    }
}

#[test]
fn every_call_after_poison_is_refused_until_restore() {
    let mut bystander = Bystander::new();
    let (mut loaded, snapshot) = load(
        runtime(SandboxBuilder::new()),
        &[("spin", "function handler() { for (;;) {} }")],
    );
    let limit = WallClockMonitor::new(Duration::from_millis(20)).unwrap();
    expect_code(
        loaded.handle_event_with_monitor("spin", "{}", &limit, None),
        ErrorCode::Cancelled,
    );
    for name in ["spin", "ok", "unknown"] {
        expect_code(loaded.handle_event(name, "{}", None), ErrorCode::Poisoned);
    }
    expect_code(loaded.snapshot(), ErrorCode::Poisoned);
    bystander.check();
    settle(&mut loaded, &snapshot, After::Poisoned);
}

#[test]
fn restoring_a_snapshot_from_another_configuration() {
    let mut bystander = Bystander::new();
    let (_, foreign) = load(runtime(SandboxBuilder::new().fuel_metering(true)), &[]);
    let (mut loaded, snapshot) = load(runtime(SandboxBuilder::new()), &[]);
    expect_code(loaded.restore(&foreign), ErrorCode::InvalidArg);
    bystander.check();
    settle(&mut loaded, &snapshot, After::Usable);
}

// ---- programs -----------------------------------------------------------------

/// A program case's expected end: its exit code and how its stderr begins.
struct Ends(i32, &'static str);

/// Runs `code` as a program under a 1.5 s wall-clock limit (room for the
/// storms that end by themselves, on a loaded machine too), next to a
/// bystander; checks how it ended, then that the runtime runs the next
/// program normally.
#[track_caller]
fn attack_program(code: &str, ends: Ends) -> polybox::ExecOutput {
    let mut bystander = Bystander::new();
    let mut runtime = polybox::Runtime::builder().build().unwrap();
    let options = polybox::ExecOptions {
        limits: polybox::CallLimits {
            wall_clock: Some(Duration::from_millis(1500)),
            ..Default::default()
        },
        ..Default::default()
    };
    let output = runtime.exec(code, options).unwrap();
    bystander.check();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.exit_code, ends.0, "{output:?}");
    assert!(stderr.starts_with(ends.1), "{stderr}");
    let next = runtime
        .exec("console.log('next')", polybox::ExecOptions::default())
        .unwrap();
    assert_eq!(
        (next.stdout.as_slice(), next.exit_code),
        (&b"next\n"[..], 0)
    );
    bystander.check();
    output
}

macro_rules! hostile_program {
    ($($name:ident: $code:expr => $ends:expr;)*) => {$(
        #[test]
        fn $name() {
            attack_program($code, $ends);
        }
    )*};
}

hostile_program! {
    program_with_a_syntax_error: "let x = ;" => Ends(1, "SyntaxError");
    program_exit_with_a_string: "process.exit('abc')" => Ends(1, "TypeError: The \"code\" argument must be an integer");
    program_exit_with_a_fraction: "process.exit(1.5)" => Ends(1, "TypeError: The \"code\" argument must be an integer");
    program_exit_with_a_huge_code: "process.exit(2 ** 40 + 3)" => Ends(3, "");
    program_exit_with_a_negative_code: "process.exit(-1)" => Ends(255, "");
    program_exit_in_a_finally: "try { throw new Error('x'); } finally { process.exit(4); }" => Ends(4, "");
    program_exit_caught_in_a_loop: "for (;;) { try { process.exit(6); } catch {} finally { continue; } }" => Ends(6, "");
    program_that_never_settles: "await new Promise(() => {})" => Ends(13, "Warning: Detected unsettled top-level await");
    program_timer_storm: "for (let i = 0; i < 1e6; i++) setTimeout(() => {}, 0);" => Ends(1, "InternalError: out of memory");
    program_interval_storm: "for (let i = 0; i < 1e4; i++) setInterval(() => {}, 0);" => Ends(124, "");
    program_self_scheduling_immediates: "(function again() { setImmediate(again); })()" => Ends(124, "");
    program_next_tick_flood: "(function again() { process.nextTick(again); })()" => Ends(124, "");
    program_spinning_forever: "for (;;) {}" => Ends(124, "");
    program_sleeping_forever: "setInterval(() => {}, 1000)" => Ends(124, "");
    program_recursing_forever: "function f() { return f() + 1; } f()" => Ends(1, "RangeError: Maximum call stack size exceeded");
    program_exhausting_the_heap: "const keep = []; for (;;) keep.push(new Array(1000).fill(1));" => Ends(1, "InternalError: out of memory");
    program_throwing_null: "throw null" => Ends(1, "Uncaught null");
    program_whose_exit_listener_throws: "process.on('exit', () => { throw new Error('in exit'); })" => Ends(1, "Error: in exit");
    program_exiting_from_its_exit_listener: "process.on('exit', () => process.exit(9)); process.exitCode = 2" => Ends(9, "");
    program_whose_rejection_handler_throws: "process.on('unhandledRejection', () => { throw new Error('again'); }); Promise.reject(1)" => Ends(1, "Error: again");
    program_overwriting_the_runtime_s_globals: "globalThis.process = null; globalThis.console = null; Promise.prototype.then = null; Object.prototype.toString = null;" => Ends(0, "");
    program_writing_bad_chunks: "process.stdout.write({})" => Ends(1, "TypeError: The \"chunk\" argument");
    program_writing_a_nul_byte: "process.stdout.write('a\\0b')" => Ends(0, "");
    program_filling_tmp: "const fs = require('fs'); const mib = 'x'.repeat(1 << 20); for (let i = 0; ; i++) fs.writeFileSync('/tmp/f' + i, mib);" => Ends(1, "Error: ENOSPC: no space left on device");
    program_writing_one_huge_file: "const fs = require('fs'); const piece = Buffer.alloc(8 << 20); for (;;) fs.appendFileSync('/tmp/big', piece);" => Ends(1, "Error: ENOSPC");
    program_making_deep_directories: "require('fs').mkdirSync('/tmp/' + 'd/'.repeat(2000), { recursive: true }); console.log(require('fs').existsSync('/tmp/d/d'))" => Ends(0, "");
    program_making_too_deep_directories: "require('fs').mkdirSync('/tmp/' + 'd/'.repeat(5000), { recursive: true })" => Ends(1, "Error: ENAMETOOLONG");
    program_with_a_huge_path: "require('fs').readFileSync('/tmp/' + 'a'.repeat(1 << 20))" => Ends(1, "Error: ENAMETOOLONG");
    program_with_paths_of_the_wrong_type: "require('fs').readFileSync({ toString() { return '/etc/passwd'; } })" => Ends(1, "TypeError: The \"path\" argument must be");
    program_with_a_nul_in_a_path: "require('fs').readFileSync('/tmp/a\\0b')" => Ends(1, "TypeError");
    program_renaming_a_directory_into_itself: "const fs = require('fs'); fs.mkdirSync('/tmp/a'); fs.renameSync('/tmp/a', '/tmp/a/b')" => Ends(1, "Error: EINVAL");
    program_removing_the_root: "require('fs').rmSync('/', { recursive: true, force: true })" => Ends(1, "Error: EACCES");
    program_importing_itself_in_a_cycle: "import('/tmp/x.mjs').catch((e) => console.log(e.code))" => Ends(0, "");
    program_fetching_with_hostile_arguments: "for (const args of [[{}], [Symbol()], ['http://a', { method: 'G ET' }], ['http://a', { headers: { 'bad name': 'x' } }], ['http://a', { body: 'x'.repeat(1 << 20), method: 'POST' }]]) { try { await fetch(...args); } catch (e) { if (!(e instanceof TypeError)) throw e; } } console.log('done')" => Ends(0, "");
    program_fetching_in_a_storm: "await Promise.allSettled(Array.from({ length: 2000 }, (_, i) => fetch('http://10.0.0.' + (i % 250) + '/')))" => Ends(0, "");
    program_requiring_a_missing_package: "require('definitely-not-installed')" => Ends(1, "Error: Cannot find module 'definitely-not-installed'");
}

#[test]
fn a_component_attacking_its_files() {
    let long = format!("/tmp/{}", "a".repeat(1 << 16));
    let deep = format!("/tmp/{}", "d/".repeat(5000));
    let mut bystander = Bystander::new();
    let outcomes = polybox_tests::probe_files(
        SandboxBuilder::new().fs_memory_limit(4 << 20),
        &[
            &["fill", "/tmp"],
            &["read", &long],
            &["mkdir", &deep],
            &["write", "/tmp/gap", ""],
            &["write_at", "/tmp/gap", &(1u64 << 62).to_string()],
            &["mkdir", "/tmp/dir"],
            &["rename", "/tmp/dir", "/tmp/dir/inside"],
            &["read", "/tmp"],
            &["rm", "/tmp"],
            &["rmdir", "/"],
            &["write", "/tmp/f0", "still usable"],
            &["read", "/tmp/f0"],
        ],
    );
    bystander.check();
    // A write through a stream that the host refuses (the cap, a gap past
    // it) reaches Rust as `EIO` (`Uncategorized`): wasi-libc reports every
    // failed stream write so, whatever the host's error code.
    // The cap counts entries and names besides bytes: three whole MiB fit
    // in four.
    assert_eq!(
        outcomes,
        [
            "3 MiB, then Uncategorized",
            "err: InvalidFilename",
            "err: InvalidFilename",
            "ok: ()",
            "err: Uncategorized",
            "ok: ()",
            "err: InvalidInput",
            "err: IsADirectory",
            "err: IsADirectory",
            "err: PermissionDenied",
            "ok: ()",
            r#"ok: "still usable""#,
        ]
    );
}

#[test]
fn program_printing_past_the_cap() {
    let output = attack_program(
        "for (let i = 0; i < 100000; i++) console.log('0123456789'.repeat(10));",
        Ends(0, ""),
    );
    assert_eq!(output.stdout.len(), 1024 * 1024);
    assert!(output.stdout_truncated);
}

#[test]
fn program_writing_a_huge_string() {
    let output = attack_program(
        "process.stdout.write('x'.repeat(16 * 1024 * 1024))",
        Ends(0, ""),
    );
    assert!(output.stdout_truncated);
}

#[test]
fn program_input_past_the_buffer_is_refused() {
    let mut runtime = polybox::Runtime::builder().build().unwrap();
    let oversized = polybox::ExecOptions {
        stdin: vec![0; polybox::DEFAULT_INPUT_BUFFER_SIZE + 1],
        ..Default::default()
    };
    expect_code(runtime.exec("1", oversized), ErrorCode::InvalidArg);
    let source = "1;".repeat(polybox::DEFAULT_INPUT_BUFFER_SIZE);
    expect_code(
        runtime.exec(&source, polybox::ExecOptions::default()),
        ErrorCode::InvalidArg,
    );
    let ok = runtime
        .exec("console.log('ok')", polybox::ExecOptions::default())
        .unwrap();
    assert_eq!(ok.stdout, b"ok\n");
}

#[test]
fn template_files_of_random_damaged_or_foreign_bytes() {
    let mut bystander = Bystander::new();
    let dir = polybox_tests::host_dir("hostile-templates");
    let path = dir.join("t.pbx");
    let template = polybox::Template::builder(SandboxBuilder::new().build().unwrap())
        .handler("echo", "function handler(e) { return e; }")
        .build()
        .unwrap();
    template.save(&path).unwrap();
    let good = std::fs::read(&path).unwrap();
    let mut rng = fastrand::Rng::with_seed(15);
    let mut cases: Vec<Vec<u8>> = vec![
        Vec::new(),
        (0..5000).map(|_| rng.u8(..)).collect(),
        [
            &good[..48],
            &(0..5000).map(|_| rng.u8(..)).collect::<Vec<_>>(),
        ]
        .concat(),
        good[..good.len() / 3].to_vec(),
    ];
    for _ in 0..16 {
        let mut flipped = good.clone();
        let at = rng.usize(8..flipped.len());
        flipped[at] ^= 1 << rng.u8(..8);
        cases.push(flipped);
    }
    for bytes in cases {
        std::fs::write(&path, &bytes).unwrap();
        expect_code(
            polybox::Template::load(&path, SandboxBuilder::new().build().unwrap()),
            ErrorCode::InvalidArg,
        );
        bystander.check();
    }
    // The template itself is untouched by all of it.
    let mut sandbox = template.create().unwrap();
    assert_eq!(sandbox.handle_event("echo", "[1]", None).unwrap(), "[1]");
}

/// A session call: the function's name, its arguments, its keyword
/// arguments, and the error it must fail with.
type SessionCase = (
    &'static str,
    Vec<polybox::Argument>,
    Vec<(String, polybox::Argument)>,
    ErrorCode,
);

#[test]
fn session_calls_with_hostile_names_arguments_and_functions() {
    let mut bystander = Bystander::new();
    let template = polybox::SessionTemplate::builder(polybox::RuntimeBuilder::new())
        .build()
        .unwrap();
    let mut session = template.create(polybox::RuntimeBuilder::new()).unwrap();
    session
        .load_script(
            "function f(a) { return a; }
             function deep(n) { return deep(n + 1); }
             function* endless() { for (;;) yield 1; }
             function huge() { return 'x'.repeat(1 << 20).repeat(64); }
             const native = Math.max;",
        )
        .unwrap();
    let json = |text: &str| polybox::Argument::Json(text.to_owned());
    let limits = polybox::CallLimits {
        wall_clock: Some(Duration::from_millis(300)),
        ..Default::default()
    };
    let cases: Vec<SessionCase> = vec![
        (
            "f); globalThis.pwned = (1",
            vec![],
            vec![],
            ErrorCode::InvalidArg,
        ),
        ("f", vec![json("1); pwned(")], vec![], ErrorCode::InvalidArg),
        (
            "f",
            vec![],
            vec![("a\"); pwned(\"".into(), json("1"))],
            ErrorCode::GuestError,
        ),
        (
            "native",
            vec![],
            vec![("a".into(), json("1"))],
            ErrorCode::GuestError,
        ),
        ("deep", vec![json("0")], vec![], ErrorCode::GuestError),
        ("huge", vec![], vec![], ErrorCode::GuestError),
        ("class", vec![], vec![], ErrorCode::GuestError),
        ("endless", vec![], vec![], ErrorCode::Cancelled),
    ];
    for (name, args, kwargs, code) in cases {
        let outcome = session.call(name, &args, &kwargs, &limits);
        expect_code(outcome, code);
        if session.poisoned() {
            session.restart().unwrap();
            session.load_script("function f(a) { return a; }").unwrap();
        }
        bystander.check();
    }
    // Nothing a case did leaked into the global scope, and it still answers.
    let probe = session.call("f", &[json("\"ok\"")], &[], &limits).unwrap();
    assert_eq!(probe, "\"ok\"");
}

// ---- HTTP: requests to fetch handlers, and what they answer ------------------

#[test]
fn hostile_requests_and_answers_of_fetch_handlers() {
    let mut bystander = Bystander::new();
    let mut sandbox = runtime(SandboxBuilder::new());
    for (name, source) in [
        (
            "app",
            "export default { async fetch(r) { return new Response(`${r.method} ${new URL(r.url).pathname} ${(await r.arrayBuffer()).byteLength}`); } };",
        ),
        // Plain handlers whose results only look like responses.
        ("status", "function handler() { return { status: 70000 }; }"),
        (
            "base64",
            "function handler() { return { status: 200, body: '!!' }; }",
        ),
        (
            "headers",
            "function handler() { return { status: 200, headers: [[1, 2]] }; }",
        ),
        ("nothing", "function handler() { return null; }"),
        ("spin", "export default { fetch() { for (;;) {} } };"),
        (
            "never",
            "export default { fetch() { return new Promise(() => {}); } };",
        ),
        (
            "bad-status",
            "export default { fetch() { return new Response('x', { status: 99 }); } };",
        ),
    ] {
        sandbox.add_handler(name, source).unwrap();
    }
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    let start = loaded.snapshot().unwrap();
    let limit = WallClockMonitor::new(Duration::from_millis(100)).unwrap();
    let binary: Vec<u8> = (0..=255).cycle().take(4096).collect();
    let answered = |loaded: &mut LoadedJSSandbox, request: polybox::HttpRequest| {
        loaded.fetch_with_monitor("app", &request, &limit)
    };
    // Odd but valid requests are answered.
    for (request, body) in [
        (
            polybox::HttpRequest::new("PATCH", "http://x/%00%ff/..%2f?q=\u{0}")
                .body(binary.clone()),
            "PATCH /%00%ff/..%2f 4096",
        ),
        (
            polybox::HttpRequest::new("get", "http://[::1]:65535/").header("x-evil", "\u{1b}[31m"),
            "GET / 0",
        ),
    ] {
        assert_eq!(
            answered(&mut loaded, request).unwrap().body,
            body.as_bytes()
        );
    }
    // A URL the guest cannot parse, a method it must refuse.
    for request in [
        polybox::HttpRequest::new("GET", "not a url"),
        polybox::HttpRequest::new("GET", "http://x/").header("bad name", "v"),
    ] {
        expect_code(answered(&mut loaded, request), ErrorCode::GuestError);
        bystander.check();
    }
    let request = polybox::HttpRequest::new("GET", "http://x/");
    for (name, code) in [
        ("status", ErrorCode::GuestError),
        ("base64", ErrorCode::GuestError),
        ("headers", ErrorCode::GuestError),
        ("nothing", ErrorCode::GuestError),
        ("bad-status", ErrorCode::GuestError),
        ("spin", ErrorCode::Cancelled),
        ("never", ErrorCode::GuestError),
    ] {
        expect_code(loaded.fetch_with_monitor(name, &request, &limit), code);
        if loaded.poisoned() {
            loaded.restore(&start).unwrap();
        }
        bystander.check();
    }
    assert_eq!(answered(&mut loaded, request).unwrap().body, b"GET / 0");
}
