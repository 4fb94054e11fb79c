//! The life of a sandbox: building, loading, unloading, limits, failures.

use polybox::{ErrorCode, GuestErrorKind, SandboxBuilder};
use polybox_tests::{call, expect_code, load_handler, runtime};
use serde_json::json;

#[test]
fn zero_sizes_are_rejected_by_the_builder() {
    let builders = [
        ("heap size", SandboxBuilder::new().heap_size(0)),
        ("stack size", SandboxBuilder::new().stack_size(0)),
        (
            "input buffer size",
            SandboxBuilder::new().input_buffer_size(0),
        ),
        (
            "output buffer size",
            SandboxBuilder::new().output_buffer_size(0),
        ),
    ];
    for (what, builder) in builders {
        let message = expect_code(builder.build(), ErrorCode::InvalidArg);
        assert!(message.contains(what), "{message}");
    }
}

#[test]
fn a_stack_larger_than_a_thread_can_hold_is_rejected() {
    let message = expect_code(
        SandboxBuilder::new().stack_size(64 << 20).build(),
        ErrorCode::InvalidArg,
    );
    assert!(message.contains("stack size"), "{message}");
}

#[test]
fn an_event_larger_than_the_input_buffer_is_rejected_with_both_sizes() {
    let mut sandbox = runtime(SandboxBuilder::new().input_buffer_size(100));
    sandbox
        .add_handler("echo", "function handler(e) { return e; }")
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    let event = json!("x".repeat(200)).to_string();
    let message = expect_code(
        loaded.handle_event("echo", &event, None),
        ErrorCode::InvalidArg,
    );
    assert!(
        message.contains("202 bytes") && message.contains("100 bytes"),
        "{message}"
    );
    assert_eq!(loaded.handle_event("echo", "1", None).unwrap(), "1");
}

#[test]
fn a_result_larger_than_the_output_buffer_is_rejected_with_both_sizes() {
    let mut sandbox = runtime(SandboxBuilder::new().output_buffer_size(1000));
    sandbox
        .add_handler("big", "function handler(e) { return 'y'.repeat(e.n); }")
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    let message = expect_code(
        loaded.handle_event("big", r#"{"n":2000}"#, None),
        ErrorCode::InvalidArg,
    );
    assert!(
        message.contains("2002 bytes") && message.contains("1000 bytes"),
        "{message}"
    );
    assert_eq!(
        loaded.handle_event("big", r#"{"n":3}"#, None).unwrap(),
        r#""yyy""#
    );
}

#[test]
fn unload_discards_state_and_new_handlers_can_be_loaded() {
    let mut sandbox = runtime(SandboxBuilder::new());
    sandbox
        .add_module(
            "state",
            "export let n = 0; export const inc = () => ++n;",
            None,
        )
        .unwrap();
    sandbox
        .add_handler(
            "old",
            "import { inc } from 'user:state';\nfunction handler() { return inc(); }",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    assert_eq!(call(&mut loaded, "old", json!({})).unwrap(), json!(1));
    assert_eq!(call(&mut loaded, "old", json!({})).unwrap(), json!(2));

    let mut sandbox = loaded.unload().unwrap();
    sandbox
        .add_module(
            "state",
            "export let n = 100; export const inc = () => ++n;",
            None,
        )
        .unwrap();
    sandbox
        .add_handler(
            "new",
            "import { inc } from 'user:state';\nfunction handler() { return inc(); }",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    assert_eq!(call(&mut loaded, "new", json!({})).unwrap(), json!(101));
    expect_code(
        loaded.handle_event("old", "{}", None),
        ErrorCode::InvalidArg,
    );
}

#[test]
fn unload_keeps_host_functions() {
    let mut proto = SandboxBuilder::new().build().unwrap();
    proto.register("m", "one", || 1).unwrap();
    let mut sandbox = proto.load_runtime().unwrap();
    sandbox
        .add_handler(
            "h",
            "import { one } from 'host:m';\nfunction handler() { return one(); }",
        )
        .unwrap();
    let mut sandbox = sandbox.get_loaded_sandbox().unwrap().unload().unwrap();
    sandbox
        .add_handler(
            "h",
            "import { one } from 'host:m';\nfunction handler() { return one() + 1; }",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    assert_eq!(call(&mut loaded, "h", json!({})).unwrap(), json!(2));
}

#[test]
fn removed_and_cleared_handlers_are_not_loaded() {
    let mut sandbox = runtime(SandboxBuilder::new());
    sandbox
        .add_handler("a", "function handler() { return 'a'; }")
        .unwrap();
    sandbox
        .add_handler("b", "function handler() { return 'b'; }")
        .unwrap();
    assert!(sandbox.remove_handler("a").unwrap());
    assert!(!sandbox.remove_handler("a").unwrap());
    let loaded = sandbox.get_loaded_sandbox().unwrap();
    assert_eq!(loaded.handlers().collect::<Vec<_>>(), ["b"]);
    let mut sandbox = loaded.unload().unwrap();
    sandbox.add_handler("c", "function handler() {}").unwrap();
    sandbox.clear_handlers();
    assert_eq!(sandbox.get_loaded_sandbox().unwrap().handlers().count(), 0);
}

#[test]
fn handler_names_are_validated() {
    let mut sandbox = runtime(SandboxBuilder::new());
    for name in ["", "line\nbreak", "nul\0byte"] {
        expect_code(
            sandbox.add_handler(name, "function handler() {}"),
            ErrorCode::InvalidArg,
        );
    }
    let huge = "h".repeat(polybox::MAX_NAME_LEN + 1);
    expect_code(
        sandbox.add_handler(&huge, "function handler() {}"),
        ErrorCode::InvalidArg,
    );
    sandbox
        .add_handler("ünïcode name", "function handler() { return 1; }")
        .unwrap();
    assert_eq!(
        sandbox
            .get_loaded_sandbox()
            .unwrap()
            .handle_event("ünïcode name", "{}", None)
            .unwrap(),
        "1"
    );
}

#[test]
fn runaway_recursion_is_a_stack_overflow_not_a_crash() {
    let mut sandbox = load_handler(
        "rec",
        "function f(n) { return f(n + 1) + 1; }\nfunction handler() { return f(0); }",
    );
    let message = expect_code(
        sandbox.handle_event("rec", "{}", None),
        ErrorCode::StackOverflow,
    );
    assert!(message.contains("runaway recursion"), "{message}");
    // JavaScript's own stack limit caught it: the sandbox is still usable.
    assert!(!sandbox.poisoned());
    expect_code(
        sandbox.handle_event("rec", "{}", None),
        ErrorCode::StackOverflow,
    );
}

#[test]
fn deep_recursion_throws_a_catchable_range_error() {
    let mut sandbox = load_handler(
        "rec",
        "let depth = 0;\nfunction f(n) { depth = n; return f(n + 1) + 1; }\n\
         function handler() { try { return f(0); } catch (e) { return [String(e), depth > 500]; } }",
    );
    let result = call(&mut sandbox, "rec", json!({})).unwrap();
    assert_eq!(
        result,
        json!(["RangeError: Maximum call stack size exceeded", true])
    );
}

#[test]
fn recursion_through_large_frames_is_a_stack_overflow_too() {
    let locals: Vec<String> = (0..400).map(|i| format!("let v{i} = n + {i};")).collect();
    let source = format!(
        "function f(n) {{ {} return f(n + 1) + v0 + v399; }}\nfunction handler() {{ return f(0); }}",
        locals.join(" ")
    );
    let mut sandbox = load_handler("big", &source);
    expect_code(
        sandbox.handle_event("big", "{}", None),
        ErrorCode::StackOverflow,
    );
    assert!(!sandbox.poisoned());
}

#[test]
fn a_larger_stack_allows_deeper_recursion() {
    let depth = |stack_size: usize| {
        let mut sandbox = runtime(SandboxBuilder::new().stack_size(stack_size));
        sandbox
            .add_handler("rec", "let d = 0;\nfunction f(n) { d = n; return f(n + 1); }\nfunction handler() { try { f(0); } catch { return d; } }")
            .unwrap();
        call(&mut sandbox.get_loaded_sandbox().unwrap(), "rec", json!({}))
            .unwrap()
            .as_u64()
            .unwrap()
    };
    // Run on a thread with room for the largest stack tried.
    let (small, large) = std::thread::Builder::new()
        .stack_size(16 << 20)
        .spawn(move || (depth(256 << 10), depth(4 << 20)))
        .unwrap()
        .join()
        .unwrap();
    assert!(large > 8 * small, "{small} vs {large}");
}

#[test]
fn a_thread_without_room_for_the_guest_stack_is_refused() {
    let result = std::thread::Builder::new()
        .stack_size(512 << 10)
        .spawn(|| {
            let mut sandbox = SandboxBuilder::new().stack_size(1 << 20).build().unwrap();
            sandbox.register("m", "f", || 1).unwrap();
            sandbox.load_runtime().map(|_| ())
        })
        .unwrap()
        .join()
        .unwrap();
    let message = expect_code(result, ErrorCode::InvalidArg);
    assert!(message.contains("stack"), "{message}");
}

#[test]
fn exhausting_the_engine_stack_is_a_stack_overflow_not_a_crash() {
    // With almost no stack, starting the runtime itself overflows wasm's
    // native stack: a trap, reported cleanly.
    let result = SandboxBuilder::new()
        .stack_size(8 << 10)
        .build()
        .unwrap()
        .load_runtime();
    let message = expect_code(result.map(|_| ()), ErrorCode::StackOverflow);
    assert!(message.contains("poisoned"), "{message}");
}

#[test]
fn a_failing_sandbox_leaves_another_untouched() {
    let mut healthy = load_handler("count", "let n = 0;\nfunction handler() { return ++n; }");
    assert_eq!(call(&mut healthy, "count", json!({})).unwrap(), json!(1));
    let mut failing = load_handler(
        "rec",
        "function f() { return f() + 1; }\nfunction handler() { return f(); }",
    );
    expect_code(
        failing.handle_event("rec", "{}", None),
        ErrorCode::StackOverflow,
    );
    assert_eq!(call(&mut healthy, "count", json!({})).unwrap(), json!(2));
}

#[test]
fn running_out_of_heap_is_a_catchable_error_and_the_sandbox_stays_usable() {
    let mut sandbox = runtime(SandboxBuilder::new().heap_size(8 << 20));
    sandbox
        .add_handler(
            "hog",
            "function handler(e) { const keep = []; try { for (;;) keep.push('x'.repeat(1 << 16) + keep.length); } \
             catch (err) { return { caught: String(err), kept: keep.length > 10 }; } }",
        )
        .unwrap();
    sandbox
        .add_handler(
            "uncaught",
            "function handler() { const a = []; for (;;) a.push(new Array(1 << 16).fill(1)); }",
        )
        .unwrap();
    sandbox
        .add_handler("ok", "function handler() { return 'still fine'; }")
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    let result = call(&mut loaded, "hog", json!({})).unwrap();
    assert_eq!(
        result,
        json!({"caught": "InternalError: out of memory", "kept": true})
    );
    let error = loaded.handle_event("uncaught", "{}", None).unwrap_err();
    assert_eq!(
        error.guest_error().map(|g| g.kind),
        Some(GuestErrorKind::OutOfMemory),
        "{error}"
    );
    assert_eq!(
        loaded.handle_event("ok", "{}", Some(true)).unwrap(),
        r#""still fine""#
    );
}
