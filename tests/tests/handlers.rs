//! Handlers: how they are defined, what they receive and what they return.

use polybox::{ErrorCode, GuestErrorKind, SandboxBuilder};
use polybox_tests::{call, expect_code, load_handler, load_handlers, runtime};
use serde_json::json;

#[test]
fn a_handler_receives_the_parsed_event_and_returns_json() {
    let mut sandbox = load_handler(
        "greet",
        "function handler(e) { e.message = `Hello, ${e.name}!`; return e; }",
    );
    let result = sandbox
        .handle_event("greet", r#"{"name":"World"}"#, None)
        .unwrap();
    assert_eq!(result, r#"{"name":"World","message":"Hello, World!"}"#);
}

#[test]
fn a_handler_may_be_exported_or_declared_with_const() {
    let mut sandbox = load_handlers(&[
        ("exported", "export function handler() { return 1; }"),
        ("arrow", "const handler = (e) => e.x * 2;"),
        (
            "default_export",
            "export default function handler() { return 'd'; }",
        ),
    ]);
    assert_eq!(call(&mut sandbox, "exported", json!({})).unwrap(), json!(1));
    assert_eq!(
        call(&mut sandbox, "arrow", json!({"x": 21})).unwrap(),
        json!(42)
    );
    assert_eq!(
        call(&mut sandbox, "default_export", json!({})).unwrap(),
        json!("d")
    );
}

#[test]
fn any_json_value_is_an_event_and_a_result() {
    let mut sandbox = load_handler("echo", "function handler(e) { return e; }");
    for value in [
        json!(null),
        json!(true),
        json!(3.5),
        json!("text"),
        json!([1, [2, {"a": null}]]),
    ] {
        assert_eq!(call(&mut sandbox, "echo", value.clone()).unwrap(), value);
    }
}

#[test]
fn an_async_handlers_promise_is_awaited() {
    let mut sandbox = load_handler(
        "slow",
        "async function handler(e) { const v = await Promise.resolve(e.n); await null; return { doubled: v * 2 }; }",
    );
    assert_eq!(
        call(&mut sandbox, "slow", json!({"n": 4})).unwrap(),
        json!({"doubled": 8})
    );
}

#[test]
fn a_rejected_promise_is_a_guest_error() {
    let mut sandbox = load_handler(
        "reject",
        "async function handler() { throw new RangeError('too far'); }",
    );
    let error = sandbox.handle_event("reject", "{}", None).unwrap_err();
    assert_eq!(error.code(), ErrorCode::GuestError);
    assert!(
        error.to_string().starts_with("RangeError: too far"),
        "{error}"
    );
}

#[test]
fn a_promise_that_can_never_settle_is_reported() {
    let mut sandbox = load_handler(
        "stuck",
        "function handler() { return new Promise(() => {}); }",
    );
    let error = sandbox.handle_event("stuck", "{}", None).unwrap_err();
    assert_eq!(
        error.guest_error().unwrap().kind,
        GuestErrorKind::Unsettled,
        "{error}"
    );
}

#[test]
fn a_throw_comes_back_with_message_and_stack() {
    let mut sandbox = load_handler(
        "thrower",
        "function inner() { throw new TypeError('bad input'); }\nfunction handler() { inner(); }",
    );
    let error = sandbox.handle_event("thrower", "{}", None).unwrap_err();
    let guest = error.guest_error().expect("a guest error");
    assert_eq!(guest.kind, GuestErrorKind::Exception);
    assert_eq!(guest.message, "TypeError: bad input");
    let stack = guest.stack.as_deref().expect("a stack");
    assert!(
        stack.contains("inner") && stack.contains("handler/thrower"),
        "{stack}"
    );
}

#[test]
fn throwing_a_non_error_value_is_reported_with_that_value() {
    let mut sandbox = load_handlers(&[
        ("string", "function handler() { throw 'plain string'; }"),
        ("object", "function handler() { throw { code: 7 }; }"),
    ]);
    let message = expect_code(
        sandbox.handle_event("string", "{}", None),
        ErrorCode::GuestError,
    );
    assert_eq!(message, "Uncaught plain string");
    let message = expect_code(
        sandbox.handle_event("object", "{}", None),
        ErrorCode::GuestError,
    );
    assert_eq!(message, r#"Uncaught {"code":7}"#);
}

#[test]
fn a_result_without_a_json_form_is_a_guest_error() {
    let mut sandbox = load_handlers(&[
        ("undefined", "function handler() {}"),
        ("function", "function handler() { return () => 1; }"),
        (
            "cycle",
            "function handler() { const a = {}; a.self = a; return a; }",
        ),
        ("bigint", "function handler() { return 10n; }"),
    ]);
    for name in ["undefined", "function", "cycle", "bigint"] {
        let error = sandbox.handle_event(name, "{}", None).unwrap_err();
        let guest = error
            .guest_error()
            .unwrap_or_else(|| panic!("{name}: {error}"));
        assert_eq!(
            guest.kind,
            GuestErrorKind::UnserializableResult,
            "{name}: {error}"
        );
    }
    // The sandbox is still usable afterwards.
    expect_code(
        sandbox.handle_event("undefined", "{}", None),
        ErrorCode::GuestError,
    );
}

#[test]
fn an_event_that_is_not_json_is_an_invalid_argument() {
    let mut sandbox = load_handler("echo", "function handler(e) { return e; }");
    let message = expect_code(
        sandbox.handle_event("echo", "{not json", None),
        ErrorCode::InvalidArg,
    );
    assert!(message.contains("not valid JSON"), "{message}");
    assert_eq!(sandbox.handle_event("echo", "1", None).unwrap(), "1");
}

/// The guest's QuickJS reads and writes JSON strings eight bytes at a time
/// (vendor/rquickjs-sys/POLYBOX.md): every kind of character, at every
/// offset in a word, crosses unchanged and is written as `JSON.stringify`
/// writes it.
#[test]
fn strings_cross_exactly_whatever_characters_they_hold_and_wherever() {
    let mut sandbox = load_handler("echo", "function handler(e) { return [e.s, e.s.length]; }");
    let kinds = [
        '"', '\\', '\n', '\t', '\u{1}', '\u{1f}', ' ', '~', '\u{7f}', '/', 'é', 'ÿ', '\u{80}',
        '中', '😀', '\u{2028}',
    ];
    let mut rng = fastrand::Rng::with_seed(19);
    for _ in 0..400 {
        let len = rng.usize(0..80);
        let every = rng.usize(1..40);
        let text: String = (0..len)
            .map(|_| match rng.usize(0..every) {
                0 => kinds[rng.usize(0..kinds.len())],
                _ => rng.alphanumeric(),
            })
            .collect();
        // Written with some characters escaped as \uXXXX (surrogate pairs
        // for those past U+FFFF), which the guest must read as the same.
        let mut event = String::from(r#"{"s":""#);
        for character in text.chars() {
            match character {
                '"' | '\\' => event.extend(['\\', character]),
                _ if u32::from(character) < 0x20 || rng.usize(0..4) == 0 => {
                    for unit in character.encode_utf16(&mut [0; 2]) {
                        event.push_str(&format!("\\u{unit:04x}"));
                    }
                }
                _ => event.push(character),
            }
        }
        event.push_str(r#""}"#);
        let result = sandbox.handle_event("echo", &event, Some(false)).unwrap();
        let expected = serde_json::to_string(&json!([text, text.encode_utf16().count()])).unwrap();
        assert_eq!(result, expected, "event {event}");
    }
    // 16-bit strings (any character past U+00FF) with a lone surrogate, which
    // is written escaped, and a pair, which is written as it is, anywhere.
    for at in 0..12 {
        for lone in ["\\ud800", "\\udfff"] {
            let text = format!(
                "\"{}{lone}{}中😀\\\"\"",
                "a".repeat(at),
                "b".repeat(11 - at)
            );
            let event = format!("{{\"s\":{text}}}");
            let echoed = sandbox.handle_event("echo", &event, Some(false)).unwrap();
            assert!(
                echoed.starts_with(&format!("[{text},")),
                "{event} gave {echoed}"
            );
        }
    }
    // A raw control character is refused wherever it sits in a long run.
    for at in 0..17 {
        let event = format!("\"{}\u{1}{}\"", "a".repeat(at), "b".repeat(20));
        expect_code(
            sandbox.handle_event("echo", &event, None),
            ErrorCode::InvalidArg,
        );
    }
}

#[test]
fn source_without_a_handler_function_is_rejected_at_load() {
    let mut sandbox = runtime(SandboxBuilder::new());
    sandbox
        .add_handler("nothing", "const notHandler = 1;")
        .unwrap();
    let error = sandbox.get_loaded_sandbox().unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidArg);
    assert!(
        error.to_string().contains("function named `handler`"),
        "{error}"
    );
}

#[test]
fn a_syntax_error_is_reported_at_load_and_the_sandbox_can_be_fixed() {
    let mut sandbox = runtime(SandboxBuilder::new());
    sandbox
        .add_handler("broken", "function handler( {")
        .unwrap();
    let failure = sandbox.get_loaded_sandbox().unwrap_err();
    let guest = failure.error.guest_error().expect("a guest error");
    assert_eq!(guest.kind, GuestErrorKind::Syntax);
    assert!(
        guest.message.starts_with("SyntaxError"),
        "{}",
        guest.message
    );

    let mut sandbox = failure.into_sandbox();
    sandbox
        .add_handler("broken", "function handler() { return 'fixed'; }")
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    assert_eq!(
        loaded.handle_event("broken", "{}", None).unwrap(),
        r#""fixed""#
    );
}

#[test]
fn top_level_code_runs_once_at_load_and_handler_state_persists() {
    let mut sandbox = load_handler(
        "counter",
        "let calls = 0;\nfunction handler() { return ++calls; }",
    );
    assert_eq!(call(&mut sandbox, "counter", json!({})).unwrap(), json!(1));
    assert_eq!(call(&mut sandbox, "counter", json!({})).unwrap(), json!(2));
}

/// Strings and objects of every small size are made, kept across calls
/// and dropped in an interleaved order, so QuickJS's small-block arenas
/// (handed out lazily: `vendor/rquickjs-sys/POLYBOX.md`) fill, free and
/// refill in every size class; what was kept must read back intact.
#[test]
fn small_allocations_of_every_size_survive_churn() {
    let mut sandbox = load_handler(
        "churn",
        r#"
        let kept = [];
        const text = (n) => String.fromCharCode(97 + (n % 26)).repeat(n);
        function handler(e) {
          for (const [n, s, o] of kept) {
            if (s !== text(n) || Object.keys(o).length !== n % 40 || (n % 40 && o.k0 !== n)) {
              return 'corrupt ' + n;
            }
          }
          const made = [];
          for (let n = 0; n < 600; n++) {
            const o = {};
            for (let k = 0; k < n % 40; k++) o['k' + k] = n;
            made.push([n, text(n), o]);
          }
          kept = made.filter((_, i) => i % 3 === e.round % 3)
            .concat(kept.filter((_, i) => i % 2 === 0));
          return kept.length;
        }"#,
    );
    for round in 0..12 {
        let kept = call(&mut sandbox, "churn", json!({ "round": round })).unwrap();
        assert!(kept.is_u64(), "round {round}: {kept}");
    }
}

/// Integers in an event are read without `strtod` up to 15 digits
/// (`vendor/rquickjs-sys/POLYBOX.md`); on either side of every edge
/// (int32, 15 digits, 2^53, -0) values and arithmetic must be a double's.
#[test]
fn event_numbers_keep_their_values_on_either_side_of_every_edge() {
    let mut sandbox = load_handler(
        "numbers",
        "function handler(e) { return e.map(x => [x, x + 1, x * 3, Object.is(x, -0)]); }",
    );
    let text = "[0,-0,7,-7,2147483647,2147483648,-2147483648,-2147483649,\
                999999999999999,-999999999999999,1000000000000000,\
                9007199254740993,12345678901234567890,1e2,1.5,-0.0,0.1]";
    let numbers: Vec<f64> = serde_json::from_str(text).unwrap();
    let result = sandbox.handle_event("numbers", text, None).unwrap();
    let got: Vec<(f64, f64, f64, bool)> = serde_json::from_str(&result).unwrap();
    let expected: Vec<(f64, f64, f64, bool)> = numbers
        .iter()
        .map(|&x| (x, x + 1.0, x * 3.0, x == 0.0 && x.is_sign_negative()))
        .collect();
    assert_eq!(got, expected, "{result}");
}

/// `JSON.stringify` writes integers without making strings of them and
/// makes an array index's key only for a `toJSON` or a replacer
/// (`vendor/rquickjs-sys/POLYBOX.md`): both must still see every key.
#[test]
fn json_stringify_gives_tojson_and_replacers_their_array_keys() {
    let mut sandbox = load_handler(
        "keys",
        r#"function handler() {
          const keys = [];
          const at = { toJSON(k) { return 'at ' + k; } };
          const text = JSON.stringify([5, -7, at, [2147483647, -2147483648, 0, -0]],
            function (k, v) { keys.push(k); return v; });
          const plain = JSON.stringify([1, [2, { toJSON(k) { return typeof k + k; } }]]);
          return { text, keys, plain };
        }"#,
    );
    assert_eq!(
        call(&mut sandbox, "keys", json!({})).unwrap(),
        json!({
            "text": "[5,-7,\"at 2\",[2147483647,-2147483648,0,0]]",
            "keys": ["", "0", "1", "2", "3", "0", "1", "2", "3"],
            "plain": "[1,[2,\"string1\"]]",
        })
    );
}

#[test]
fn an_unknown_handler_name_is_an_invalid_argument() {
    let mut sandbox = load_handler("known", "function handler() { return 1; }");
    let message = expect_code(
        sandbox.handle_event("unknown", "{}", None),
        ErrorCode::InvalidArg,
    );
    assert!(
        message.contains("\"unknown\"") && message.contains("known"),
        "{message}"
    );
}

#[test]
fn gc_can_be_skipped_per_call() {
    let mut sandbox = load_handler(
        "alloc",
        "function handler() { return new Array(1000).fill('x').length; }",
    );
    assert_eq!(
        sandbox.handle_event("alloc", "{}", Some(false)).unwrap(),
        "1000"
    );
    assert_eq!(
        sandbox.handle_event("alloc", "{}", Some(true)).unwrap(),
        "1000"
    );
}

#[test]
fn handlers_have_timers_that_take_real_time() {
    let mut loaded = load_handler(
        "h",
        "async function handler(event) {
             const order = [];
             setTimeout(() => order.push('timeout'), 5);
             setImmediate(() => order.push('immediate'));
             await new Promise((resolve) => setTimeout(resolve, event.ms));
             let n = 0;
             await new Promise((resolve) => { const i = setInterval(() => { if (++n === 3) { clearInterval(i); resolve(); } }, 1); });
             const cleared = setTimeout(() => order.push('cleared'), 1); clearTimeout(cleared);
             await new Promise((resolve) => setTimeout(resolve, 2));
             return { order, n };
         }",
    );
    assert_eq!(
        call(&mut loaded, "h", json!({"ms": 10})).unwrap(),
        json!({"order": ["immediate", "timeout"], "n": 3})
    );
}

#[test]
fn a_handlers_pending_timers_end_with_its_call() {
    let capture = polybox_tests::LogCapture::default();
    let mut sandbox = capture.builder().build().unwrap().load_runtime().unwrap();
    sandbox
        .add_handler(
            "h",
            "let calls = 0;
             function handler() { calls += 1; setTimeout(() => console.log('left over', calls), 0); return calls; }",
        )
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    assert_eq!(call(&mut loaded, "h", json!({})).unwrap(), json!(1));
    assert_eq!(call(&mut loaded, "h", json!({})).unwrap(), json!(2));
    assert_eq!(capture.lines(), []);
}

#[test]
fn a_timer_callback_that_throws_fails_the_call() {
    let mut loaded = load_handler(
        "h",
        "function handler() { return new Promise((resolve) => setTimeout(() => { throw new RangeError('in a timer'); }, 1)); }",
    );
    let message = polybox_tests::expect_code(
        loaded.handle_event("h", "{}", None),
        polybox::ErrorCode::GuestError,
    );
    assert!(message.contains("RangeError: in a timer"), "{message}");
    assert!(!loaded.poisoned());
}
