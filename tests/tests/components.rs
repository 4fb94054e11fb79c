//! Components as handlers, as modules that JavaScript imports, and as host
//! imports: built from `components/` and `tests/components/`.

use std::time::Duration;

use polybox::{
    CpuTimeMonitor, EpochDeadline, ErrorCode, FuelBudget, JSSandbox, LoadedJSSandbox, LogLevel,
    MonitorSet, SandboxBuilder, WallClockMonitor, WasmComponent,
};
use polybox_tests::{LogCapture, call, component, expect_code, kill_after, runtime};
use serde_json::json;

/// A runtime whose host module `kv` is the `kv-store` component.
fn with_kv(builder: SandboxBuilder) -> JSSandbox {
    let mut proto = builder.build().unwrap();
    proto.host_component("kv", component("kv_store")).unwrap();
    proto.load_runtime().unwrap()
}

/// A loaded sandbox with the `textkit` module and one JS handler.
fn with_textkit(handler: &str) -> LoadedJSSandbox {
    let mut sandbox = runtime(SandboxBuilder::new());
    sandbox
        .add_component_module("textkit", component("textkit"), None)
        .unwrap();
    sandbox.add_handler("h", handler).unwrap();
    sandbox.get_loaded_sandbox().unwrap()
}

#[test]
fn a_handler_component_answers_through_handle_event() {
    let log = LogCapture::default();
    let mut sandbox = with_kv(log.builder());
    sandbox
        .add_component_handler("echo", component("echo_handler"))
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    assert_eq!(
        loaded.handle_event("echo", r#"{"x":1}"#, None).unwrap(),
        r#"{"echo":{"x":1}}"#
    );
    let stats = loaded.last_call_stats().unwrap();
    assert_eq!(stats.terminated_by, None);
    // Its standard output reaches the sandbox's log sink, a line at a time.
    call(&mut loaded, "echo", json!({"key": "k", "value": "v"})).unwrap();
    assert!(
        log.lines()
            .contains(&(LogLevel::Info, "echo-handler: k was null".into())),
        "{:?}",
        log.lines()
    );
    assert_eq!(loaded.handlers().collect::<Vec<_>>(), ["echo"]);
}

#[test]
fn a_handler_component_reports_bad_events_as_its_own_errors() {
    let mut sandbox = with_kv(SandboxBuilder::new());
    sandbox
        .add_component_handler("echo", component("echo_handler"))
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    // Not JSON: refused before the component sees it.
    expect_code(
        loaded.handle_event("echo", "{", None),
        ErrorCode::InvalidArg,
    );
    assert!(!loaded.poisoned());
    assert_eq!(
        call(&mut loaded, "echo", json!(7)).unwrap(),
        json!({"echo": 7})
    );
}

#[test]
fn javascript_calls_textkit_with_each_wit_type_kind() {
    let mut loaded = with_textkit(
        r#"import * as t from 'user:textkit';
        function handler() {
            const stats = t.stats("one two\nsix");
            return {
                u32: t.wordCount("the quick  brown fox"),
                string: t.slugify("Hello, World! 2024"),
                record: stats,
                recordParam: t.describe(stats),
                enum: [t.changeCase("hello big world", "title"), t.changeCase("Hi There", "kebab")],
                variantList: t.tokenize("e is 2.5!"),
                flags: t.features("Hi 5"),
                resultOk: t.parseNumber(" 2.5 "),
                resultErr: (() => { try { t.parseNumber("x"); return null; } catch (e) { return e.message; } })(),
                optionSome: t.splitFirst("key=value=x", "="),
                optionNone: t.splitFirst("novalue", "="),
                bool: [t.isPalindrome("A man, a plan, a canal: Panama"), t.isPalindrome("polybox")],
                s64: [t.clamp(-5, 0, 10), t.clamp(99, 0, 10)],
                f32: t.ratio(1, 4),
            };
        }"#,
    );
    let result = call(&mut loaded, "h", json!({})).unwrap();
    assert_eq!(
        result,
        json!({
            "u32": 4,
            "string": "hello-world-2024",
            "record": {"words": 3, "lines": 2, "characters": 11, "averageWordLength": 3},
            "recordParam": "3 words on 2 lines, 11 characters, 3.0 letters a word",
            "enum": ["Hello Big World", "hi-there"],
            "variantList": [
                {"tag": "word", "val": "e"},
                {"tag": "word", "val": "is"},
                {"tag": "number", "val": 2.5},
                {"tag": "punctuation", "val": "!"}
            ],
            "flags": {"hasDigits": true, "hasUppercase": true, "hasWhitespace": true, "hasPunctuation": false},
            "resultOk": 2.5,
            "resultErr": "\"x\" is not a number: invalid float literal",
            "optionSome": ["key", "value=x"],
            "optionNone": null,
            "bool": [true, false],
            "s64": [0, 10],
            "f32": 0.25
        })
    );
}

#[test]
fn a_wrong_argument_type_is_a_catchable_type_error_naming_function_and_parameter() {
    let mut loaded = with_textkit(
        r#"import * as t from 'user:textkit';
        function attempt(f) {
            try { f(); return null; } catch (e) { return `${e.name}: ${e.message}`; }
        }
        function handler() {
            return [
                attempt(() => t.wordCount(42)),
                attempt(() => t.wordCount()),
                attempt(() => t.changeCase("x", "sideways")),
                attempt(() => t.describe({ words: 1 })),
                attempt(() => t.clamp(1.5, 0, 2)),
                attempt(() => t.ratio(-1, 2)),
            ];
        }"#,
    );
    let errors = call(&mut loaded, "h", json!({})).unwrap();
    let errors: Vec<&str> = errors
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    for (error, expected) in errors.iter().zip([
        "user:textkit.wordCount: parameter \"text\"",
        "user:textkit.wordCount: expected 1 argument, got 0",
        "user:textkit.changeCase: parameter \"style\"",
        "user:textkit.describe: parameter \"stats\"",
        "user:textkit.clamp: parameter \"value\"",
        "user:textkit.ratio: parameter \"part\"",
    ]) {
        assert!(error.starts_with("TypeError: "), "{error}");
        assert!(
            error.contains(expected),
            "{error:?} should mention {expected:?}"
        );
    }
    // Uncaught, it fails the call like any exception; the sandbox is fine.
    let mut loaded = with_textkit(
        "import { wordCount } from 'user:textkit';\nfunction handler() { return wordCount(['a']); }",
    );
    let message = expect_code(loaded.handle_event("h", "{}", None), ErrorCode::GuestError);
    assert!(message.contains("TypeError"), "{message}");
    assert!(!loaded.poisoned());
}

#[test]
fn a_javascript_handler_and_the_echo_handler_share_host_kv() {
    let mut sandbox = with_kv(SandboxBuilder::new());
    sandbox
        .add_component_handler("echo", component("echo_handler"))
        .unwrap();
    sandbox
        .add_handler(
            "js",
            r#"import { get, set, keys } from 'host:kv';
            function handler(e) {
                const before = get(e.key);
                if (e.value !== undefined) set(e.key, e.value);
                return { before, keys: keys() };
            }"#,
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    let js = call(&mut loaded, "js", json!({"key": "colour", "value": "red"})).unwrap();
    assert_eq!(js, json!({"before": null, "keys": ["colour"]}));
    let echo = call(
        &mut loaded,
        "echo",
        json!({"key": "colour", "value": "blue"}),
    )
    .unwrap();
    assert_eq!(echo["previous"], json!("red"));
    let js = call(&mut loaded, "js", json!({"key": "colour"})).unwrap();
    assert_eq!(js["before"], json!("blue"));
}

#[test]
fn host_component_state_outlives_restore_like_a_host_function() {
    let mut sandbox = with_kv(SandboxBuilder::new());
    sandbox
        .add_handler(
            "swap",
            "import { swap } from 'host:kv';\nfunction handler(e) { return swap('k', e.v) ?? 'none'; }",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    let snapshot = loaded.snapshot().unwrap();
    assert_eq!(
        call(&mut loaded, "swap", json!({"v": "1"})).unwrap(),
        json!("none")
    );
    loaded.restore(&snapshot).unwrap();
    assert_eq!(
        call(&mut loaded, "swap", json!({"v": "2"})).unwrap(),
        json!("1")
    );
}

/// A sandbox with the runaway handler component as `spin`, fuel metered.
fn runaway() -> LoadedJSSandbox {
    let mut sandbox = runtime(SandboxBuilder::new().fuel_metering(true));
    sandbox
        .add_component_handler("spin", component("runaway_handler"))
        .unwrap();
    sandbox.get_loaded_sandbox().unwrap()
}

/// Runs `spin` through `run`, expects `expected` to have stopped it, and
/// restores a snapshot to a fresh instance.
fn stopped_and_restored(
    expected: &str,
    run: impl FnOnce(&mut LoadedJSSandbox) -> polybox::Result<String>,
) {
    let mut loaded = runaway();
    assert_eq!(loaded.handle_event("spin", "{}", None).unwrap(), "1");
    let snapshot = loaded.snapshot().unwrap();
    expect_code(run(&mut loaded), ErrorCode::Cancelled);
    let stats = loaded.last_call_stats().unwrap();
    assert_eq!(stats.terminated_by, Some(expected));
    assert!(stats.fuel_consumed.is_some_and(|fuel| fuel > 0));
    assert!(loaded.poisoned());
    expect_code(loaded.handle_event("spin", "{}", None), ErrorCode::Poisoned);
    loaded.restore(&snapshot).unwrap();
    assert!(!loaded.poisoned());
    // A fresh instance: its call count starts again.
    assert_eq!(loaded.handle_event("spin", "{}", None).unwrap(), "1");
}

fn under(monitor: impl MonitorSet) -> impl FnOnce(&mut LoadedJSSandbox) -> polybox::Result<String> {
    move |loaded| loaded.handle_event_with_monitor("spin", r#""spin""#, &monitor, None)
}

#[test]
fn a_runaway_handler_component_is_stopped_by_the_wall_clock() {
    let monitor = WallClockMonitor::new(Duration::from_millis(50)).unwrap();
    stopped_and_restored("wall-clock", under(monitor));
}

#[test]
fn a_runaway_handler_component_is_stopped_by_cpu_time() {
    let monitor = CpuTimeMonitor::new(Duration::from_millis(50)).unwrap();
    stopped_and_restored("cpu-time", under(monitor));
}

#[test]
fn a_runaway_handler_component_is_stopped_by_fuel() {
    stopped_and_restored("fuel", under(FuelBudget::new(5_000_000).unwrap()));
}

#[test]
fn a_runaway_handler_component_is_stopped_by_an_epoch_deadline() {
    let monitor = EpochDeadline::new(Duration::from_millis(50)).unwrap();
    stopped_and_restored("epoch", under(monitor));
}

#[test]
fn a_runaway_handler_component_is_stopped_by_kill() {
    stopped_and_restored("killed", |loaded| {
        let killer = kill_after(loaded.interrupt_handle(), Duration::from_millis(50));
        let result = loaded.handle_event("spin", r#""spin""#, None);
        drop(killer);
        result
    });
}

#[test]
fn a_component_with_an_unsatisfied_import_is_rejected_with_its_names() {
    let mut sandbox = runtime(SandboxBuilder::new());
    sandbox
        .add_component_module("ledger", component("unlinkable"), None)
        .unwrap();
    let message = expect_code(sandbox.get_loaded_sandbox(), ErrorCode::InvalidArg);
    assert!(message.contains("acme:payments/ledger@0.1.0"), "{message}");

    let mut proto = SandboxBuilder::new().build().unwrap();
    proto
        .host_component("ledger", component("unlinkable"))
        .unwrap();
    let message = expect_code(proto.load_runtime(), ErrorCode::InvalidArg);
    assert!(message.contains("acme:payments/ledger@0.1.0"), "{message}");
}

#[test]
fn components_of_the_wrong_shape_are_rejected_at_load() {
    // Not a component at all.
    let mut sandbox = runtime(SandboxBuilder::new());
    sandbox
        .add_component_handler("h", WasmComponent::from_bytes(b"\0asm junk".to_vec()))
        .unwrap();
    let (error, mut sandbox) = sandbox.get_loaded_sandbox().unwrap_err().into_parts();
    assert_eq!(error.code(), ErrorCode::InvalidArg);
    // A module component used as a handler.
    sandbox.clear_handlers();
    sandbox
        .add_component_handler("h", component("textkit"))
        .unwrap();
    let (error, mut sandbox) = sandbox.get_loaded_sandbox().unwrap_err().into_parts();
    assert_eq!(error.code(), ErrorCode::InvalidArg);
    assert!(error.to_string().contains("event-handler"), "{error}");
    // The sandbox is still usable.
    sandbox.clear_handlers();
    sandbox
        .add_handler("ok", "function handler() { return 1; }")
        .unwrap();
    assert_eq!(
        sandbox
            .get_loaded_sandbox()
            .unwrap()
            .handle_event("ok", "{}", None)
            .unwrap(),
        "1"
    );
}

#[test]
fn a_host_module_name_is_either_functions_or_a_component() {
    let mut proto = SandboxBuilder::new().build().unwrap();
    proto.register("kv", "get", |k: String| k).unwrap();
    expect_code(
        proto.host_component("kv", component("kv_store")),
        ErrorCode::InvalidArg,
    );
    proto
        .host_component("store", component("kv_store"))
        .unwrap();
    expect_code(
        proto.host_module("store").map(|_| ()),
        ErrorCode::InvalidArg,
    );
}

#[test]
fn unload_drops_component_handlers_and_modules() {
    let mut sandbox = with_kv(SandboxBuilder::new());
    sandbox
        .add_component_handler("echo", component("echo_handler"))
        .unwrap();
    sandbox
        .add_component_module("textkit", component("textkit"), None)
        .unwrap();
    let loaded = sandbox.get_loaded_sandbox().unwrap();
    let mut sandbox = loaded.unload().unwrap();
    sandbox
        .add_handler(
            "h",
            "import { wordCount } from 'user:textkit';\nfunction handler() {}",
        )
        .unwrap();
    expect_code(sandbox.get_loaded_sandbox(), ErrorCode::GuestError);
}

#[test]
fn a_runaway_component_module_stops_its_caller_under_every_monitor() {
    let monitors: [(&dyn MonitorSet, &str); 4] = [
        (
            &WallClockMonitor::new(Duration::from_millis(50)).unwrap(),
            "wall-clock",
        ),
        (
            &CpuTimeMonitor::new(Duration::from_millis(50)).unwrap(),
            "cpu-time",
        ),
        (&FuelBudget::new(5_000_000).unwrap(), "fuel"),
        (
            &EpochDeadline::new(Duration::from_millis(50)).unwrap(),
            "epoch",
        ),
    ];
    for (monitor, expected) in monitors {
        let mut sandbox = runtime(SandboxBuilder::new().fuel_metering(true));
        sandbox
            .add_component_module("runaway", component("runaway_handler"), None)
            .unwrap();
        // The script swallows the failed call; the stop still ends it.
        sandbox
            .add_handler(
                "h",
                "import { spin } from 'user:runaway';\nfunction handler() { try { spin(); } catch (e) {} return 'swallowed'; }",
            )
            .unwrap();
        let mut loaded = sandbox.get_loaded_sandbox().unwrap();
        let snapshot = loaded.snapshot().unwrap();
        expect_code(
            loaded.handle_event_with_monitor("h", "{}", monitor, None),
            ErrorCode::Cancelled,
        );
        assert_eq!(
            loaded.last_call_stats().unwrap().terminated_by,
            Some(expected)
        );
        loaded.restore(&snapshot).unwrap();
    }
}
