//! Host functions: `import * as m from 'host:m'`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use polybox::{ErrorCode, GuestErrorKind, SandboxBuilder};
use polybox_tests::{call, expect_code, kill_after};
use serde_json::json;

/// Bytes cross to and from host functions in the wire form of events'
/// bytes: an object with the single key "\u0000bytes" holding base64.
#[test]
fn bytes_reach_host_functions_in_the_wire_form_and_come_back_as_bytes() {
    let mut proto = SandboxBuilder::new().build().unwrap();
    proto
        .host_module("bytes")
        .unwrap()
        .register("seen", |value: serde_json::Value| value)
        .unwrap()
        .register("made", || json!({ "\u{0}bytes": "AAH/" }))
        .unwrap();
    let mut loaded = polybox_tests::load_with_proto(
        proto,
        &[(
            "h",
            "import { seen, made } from 'host:bytes';
             function handler() {
               const back = seen({ b: new Uint8Array([0, 1, 255]) }).b;
               const fresh = made();
               return [back instanceof Uint8Array, Array.from(back), fresh instanceof Uint8Array, Array.from(fresh)];
             }",
        )],
    );
    assert_eq!(
        call(&mut loaded, "h", json!({})).unwrap(),
        json!([true, [0, 1, 255], true, [0, 1, 255]])
    );
}

#[test]
fn a_guest_calls_typed_host_functions_with_json_arguments() {
    let mut proto = SandboxBuilder::new().build().unwrap();
    proto
        .host_module("math")
        .unwrap()
        .register("add", |a: f64, b: f64| a + b)
        .unwrap()
        .register("range", |n: u32| (0..n).collect::<Vec<_>>())
        .unwrap();
    proto
        .register("strings", "upper", |s: String| s.to_uppercase())
        .unwrap();
    let mut sandbox = proto.load_runtime().unwrap();
    sandbox
        .add_handler(
            "h",
            "import * as math from 'host:math';\nimport { upper } from 'host:strings';\n\
             function handler(e) { return [math.add(e.a, e.b), math.range(3), upper('hi')]; }",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    assert_eq!(
        call(&mut loaded, "h", json!({"a": 1, "b": 2})).unwrap(),
        json!([3, [0, 1, 2], "HI"])
    );
}

#[test]
fn a_raw_host_function_receives_the_json_array_of_arguments() {
    let mut proto = SandboxBuilder::new().build().unwrap();
    proto
        .host_module("raw")
        .unwrap()
        .register_raw("echo", |args| Ok(args.to_owned()))
        .unwrap();
    let mut sandbox = proto.load_runtime().unwrap();
    sandbox
        .add_handler("h", "import { echo } from 'host:raw';\nfunction handler() { return echo(1, 'two', {three: [3]}, undefined); }")
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    assert_eq!(
        call(&mut loaded, "h", json!({})).unwrap(),
        json!([1, "two", {"three": [3]}, null])
    );
}

#[test]
fn a_host_error_is_a_catchable_exception_carrying_its_message() {
    let mut proto = SandboxBuilder::new().build().unwrap();
    proto
        .host_module("auth")
        .unwrap()
        .register_fallible("validate", |token: String| {
            if token.is_empty() {
                Err("Token is required")
            } else {
                Ok(true)
            }
        })
        .unwrap();
    let mut sandbox = proto.load_runtime().unwrap();
    sandbox
        .add_handler(
            "h",
            "import * as auth from 'host:auth';\n\
             function handler(e) { try { return auth.validate(e.token); } catch (err) { return { error: err.message, isError: err instanceof Error }; } }",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    assert_eq!(
        call(&mut loaded, "h", json!({"token": "t"})).unwrap(),
        json!(true)
    );
    assert_eq!(
        call(&mut loaded, "h", json!({"token": ""})).unwrap(),
        json!({"error": "Token is required", "isError": true})
    );
}

#[test]
fn an_uncaught_host_error_fails_the_call_with_the_hosts_message() {
    let mut proto = SandboxBuilder::new().build().unwrap();
    proto
        .host_module("db")
        .unwrap()
        .register_raw("query", |_| Err("connection refused".into()))
        .unwrap();
    let mut sandbox = proto.load_runtime().unwrap();
    sandbox
        .add_handler(
            "h",
            "import { query } from 'host:db';\nfunction handler() { return query(); }",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    let message = expect_code(loaded.handle_event("h", "{}", None), ErrorCode::GuestError);
    assert_eq!(message.lines().next().unwrap(), "Error: connection refused");
}

#[test]
fn a_host_function_returning_invalid_json_is_an_error_for_the_guest() {
    let mut proto = SandboxBuilder::new().build().unwrap();
    proto
        .host_module("m")
        .unwrap()
        .register_raw("broken", |_| Ok("{not json".into()))
        .unwrap();
    let mut sandbox = proto.load_runtime().unwrap();
    sandbox
        .add_handler(
            "h",
            "import { broken } from 'host:m';\nfunction handler() { try { broken(); return 'no'; } catch (e) { return e.message; } }",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    let message = call(&mut loaded, "h", json!({})).unwrap();
    assert!(
        message
            .as_str()
            .unwrap()
            .contains("m.broken returned invalid JSON"),
        "{message}"
    );
}

#[test]
fn wrong_argument_count_or_type_is_an_error_for_the_guest() {
    let mut proto = SandboxBuilder::new().build().unwrap();
    proto
        .host_module("math")
        .unwrap()
        .register("add", |a: f64, b: f64| a + b)
        .unwrap();
    let mut sandbox = proto.load_runtime().unwrap();
    sandbox
        .add_handler(
            "h",
            "import { add } from 'host:math';\n\
             function handler(e) { try { return add(...e.args); } catch (err) { return err.message; } }",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    for args in [json!([1]), json!([1, 2, 3]), json!(["a", 2])] {
        let message = call(&mut loaded, "h", json!({"args": args})).unwrap();
        assert!(
            message.as_str().unwrap().contains("expected 2 arguments"),
            "{args}: {message}"
        );
    }
}

#[test]
fn a_panicking_host_function_is_an_error_for_the_guest_not_a_crash() {
    let mut proto = SandboxBuilder::new().build().unwrap();
    proto
        .host_module("m")
        .unwrap()
        .register("boom", || -> u32 { panic!("host bug") })
        .unwrap();
    let mut sandbox = proto.load_runtime().unwrap();
    sandbox
        .add_handler(
            "h",
            "import { boom } from 'host:m';\nfunction handler() { return boom(); }",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    let message = expect_code(loaded.handle_event("h", "{}", None), ErrorCode::GuestError);
    assert!(message.contains("m.boom panicked: host bug"), "{message}");
}

#[test]
fn calling_a_function_the_host_module_does_not_have_is_a_type_error() {
    let mut proto = SandboxBuilder::new().build().unwrap();
    proto
        .host_module("math")
        .unwrap()
        .register("add", |a: f64, b: f64| a + b)
        .unwrap();
    let mut sandbox = proto.load_runtime().unwrap();
    sandbox
        .add_handler("h", "import * as math from 'host:math';\nfunction handler() { return math.subtract(1, 2); }")
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    let message = expect_code(loaded.handle_event("h", "{}", None), ErrorCode::GuestError);
    assert!(message.starts_with("TypeError"), "{message}");
}

#[test]
fn importing_a_name_the_host_module_does_not_export_fails_at_load() {
    let mut proto = SandboxBuilder::new().build().unwrap();
    proto
        .host_module("math")
        .unwrap()
        .register("add", |a: f64, b: f64| a + b)
        .unwrap();
    let mut sandbox = proto.load_runtime().unwrap();
    sandbox
        .add_handler(
            "h",
            "import { subtract } from 'host:math';\nfunction handler() {}",
        )
        .unwrap();
    let error = sandbox.get_loaded_sandbox().unwrap_err().error;
    assert_eq!(
        error.guest_error().unwrap().kind,
        GuestErrorKind::Syntax,
        "{error}"
    );
    assert!(error.to_string().contains("subtract"), "{error}");
}

#[test]
fn host_function_names_that_are_not_identifiers_are_exported_by_string_name() {
    let mut proto = SandboxBuilder::new().build().unwrap();
    proto
        .host_module("kv")
        .unwrap()
        .register("get-item", |k: String| format!("value of {k}"))
        .unwrap();
    let mut sandbox = proto.load_runtime().unwrap();
    sandbox
        .add_handler(
            "h",
            "import * as kv from 'host:kv';\nfunction handler() { return kv['get-item']('a'); }",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    assert_eq!(
        call(&mut loaded, "h", json!({})).unwrap(),
        json!("value of a")
    );
}

#[test]
fn host_module_and_function_names_are_validated() {
    let mut proto = SandboxBuilder::new().build().unwrap();
    expect_code(proto.host_module("").map(|_| ()), ErrorCode::InvalidArg);
    let mut module = proto.host_module("m").unwrap();
    expect_code(module.register("", || 1).map(|_| ()), ErrorCode::InvalidArg);
    expect_code(
        module.register("a\0b", || 1).map(|_| ()),
        ErrorCode::InvalidArg,
    );
}

#[test]
fn two_sandboxes_with_same_named_host_functions_stay_isolated() {
    let make = |label: &'static str, counter: Arc<AtomicUsize>| {
        let mut proto = SandboxBuilder::new().build().unwrap();
        proto
            .register("svc", "whoami", move || {
                counter.fetch_add(1, Ordering::SeqCst);
                label
            })
            .unwrap();
        let mut sandbox = proto.load_runtime().unwrap();
        sandbox
            .add_handler(
                "h",
                "import { whoami } from 'host:svc';\nfunction handler() { return whoami(); }",
            )
            .unwrap();
        sandbox.get_loaded_sandbox().unwrap()
    };
    let (count_a, count_b) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut a = make("a", count_a.clone());
    let mut b = make("b", count_b.clone());
    for _ in 0..3 {
        assert_eq!(call(&mut a, "h", json!({})).unwrap(), json!("a"));
    }
    assert_eq!(call(&mut b, "h", json!({})).unwrap(), json!("b"));
    assert_eq!(
        (
            count_a.load(Ordering::SeqCst),
            count_b.load(Ordering::SeqCst)
        ),
        (3, 1)
    );
}

#[test]
fn a_host_module_without_functions_can_still_be_imported() {
    let mut proto = SandboxBuilder::new().build().unwrap();
    proto.host_module("empty").unwrap();
    let mut sandbox = proto.load_runtime().unwrap();
    sandbox
        .add_handler(
            "h",
            "import * as m from 'host:empty';\nfunction handler() { return Object.keys(m); }",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    assert_eq!(call(&mut loaded, "h", json!({})).unwrap(), json!([]));
}

/// A sandbox whose handler `waits` calls `host:jobs.wait`, a host function
/// that blocks until the call is stopped and then reports why.
fn waiting_sandbox() -> polybox::LoadedJSSandbox {
    let mut proto = SandboxBuilder::new().build().unwrap();
    proto
        .host_module("jobs")
        .unwrap()
        .register_raw_with_context("wait", |_args, call| {
            let (stopped, wait) = std::sync::mpsc::channel();
            let _listener = call.on_stop(move || {
                let _ = stopped.send(());
            });
            wait.recv()
                .map_err(|_| "the listener was dropped".to_owned())?;
            Err(format!("gave up: {}", call.stop_reason().unwrap_or("?")))
        })
        .unwrap();
    let mut sandbox = proto.load_runtime().unwrap();
    sandbox
        .add_handler(
            "waits",
            "import { wait } from 'host:jobs';\nfunction handler() { return wait(); }",
        )
        .unwrap();
    sandbox.get_loaded_sandbox().unwrap()
}

#[test]
fn a_host_function_that_waits_hears_when_the_call_is_stopped() {
    let mut loaded = waiting_sandbox();
    let limit = polybox::WallClockMonitor::new(std::time::Duration::from_millis(50)).unwrap();
    expect_code(
        loaded.handle_event_with_monitor("waits", "{}", &limit, None),
        ErrorCode::Cancelled,
    );
    assert_eq!(
        loaded.last_call_stats().unwrap().terminated_by,
        Some("wall-clock")
    );
    assert!(loaded.poisoned());
}

#[test]
fn kill_reaches_a_host_function_that_waits() {
    let mut loaded = waiting_sandbox();
    let killer = kill_after(
        loaded.interrupt_handle(),
        std::time::Duration::from_millis(50),
    );
    expect_code(
        loaded.handle_event("waits", "{}", None),
        ErrorCode::Cancelled,
    );
    drop(killer);
    assert_eq!(
        loaded.last_call_stats().unwrap().terminated_by,
        Some("killed")
    );
}

#[test]
fn a_cpu_time_limit_counts_the_time_a_host_function_holds_the_call() {
    let mut loaded = waiting_sandbox();
    let limit = polybox::CpuTimeMonitor::new(std::time::Duration::from_millis(50)).unwrap();
    expect_code(
        loaded.handle_event_with_monitor("waits", "{}", &limit, None),
        ErrorCode::Cancelled,
    );
    let stats = loaded.last_call_stats().unwrap();
    assert_eq!(stats.terminated_by, Some("cpu-time"));
}

#[test]
fn a_stop_listener_is_dropped_with_its_guard_and_never_runs_outside_a_call() {
    let ran = Arc::new(AtomicUsize::new(0));
    let seen = ran.clone();
    let mut proto = SandboxBuilder::new().build().unwrap();
    proto
        .host_module("jobs")
        .unwrap()
        .register_raw_with_context("listen", move |_args, call| {
            let seen = seen.clone();
            drop(call.on_stop(move || {
                seen.fetch_add(1, Ordering::SeqCst);
            }));
            Ok(call.stop_reason().is_none().to_string())
        })
        .unwrap();
    let mut sandbox = proto.load_runtime().unwrap();
    sandbox
        .add_handler(
            "listens",
            "import { listen } from 'host:jobs';\nfunction handler() { return listen(); }",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    assert_eq!(loaded.handle_event("listens", "{}", None).unwrap(), "true");
    loaded.interrupt_handle().kill();
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}
