//! Sessions: isola's model. Scripts loaded into one lasting scope, their
//! functions called by name with positional and keyword arguments,
//! generators streamed, hostcalls answered by the host, and a stopped call
//! reported and recovered.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use polybox::{
    Argument, CacheStatus, CallLimits, ErrorCode, RuntimeBuilder, SandboxBuilder, Session,
    SessionEvent, SessionTemplate,
};
use polybox_tests::{expect_code, host_dir};
use serde_json::{Value, json};

fn json_args(values: &[Value]) -> Vec<Argument> {
    values
        .iter()
        .map(|v| Argument::Json(v.to_string()))
        .collect()
}

fn session(script: &str) -> Session {
    let template = SessionTemplate::builder(RuntimeBuilder::new())
        .build()
        .unwrap();
    let mut session = template.create(RuntimeBuilder::new()).unwrap();
    session.load_script(script).unwrap();
    session
}

fn call(
    session: &mut Session,
    name: &str,
    args: &[Value],
    kwargs: &[(&str, Value)],
) -> polybox::Result<String> {
    let kwargs: Vec<(String, Argument)> = kwargs
        .iter()
        .map(|(k, v)| (k.to_string(), Argument::Json(v.to_string())))
        .collect();
    session.call(name, &json_args(args), &kwargs, &CallLimits::default())
}

/// The events of a streaming call, and its result.
fn stream(
    session: &mut Session,
    name: &str,
    args: &[Value],
) -> (Vec<SessionEvent>, polybox::Result<String>) {
    let (send, receive) = mpsc::channel();
    let result = session.call_streaming(
        name,
        &json_args(args),
        &[],
        &CallLimits::default(),
        move |event| {
            let _ = send.send(event);
        },
    );
    (receive.try_iter().collect(), result)
}

#[test]
fn functions_are_called_with_positional_and_keyword_arguments() {
    let mut s = session(
        "function greet(name, greeting = 'hello') { return `${greeting}, ${name}!`; }
         async function slow(x) { await new Promise((r) => setTimeout(r, 1)); return x * 2; }
         const arrow = (a, { b } = {}, c) => [a, c];
         let counter = 0;
         function count() { return ++counter; }
         function keys(o) { return Object.keys(o); }",
    );
    assert_eq!(
        call(&mut s, "greet", &[json!("World")], &[]).unwrap(),
        r#""hello, World!""#
    );
    assert_eq!(
        call(
            &mut s,
            "greet",
            &[],
            &[("greeting", json!("Hi")), ("name", json!("Ada"))]
        )
        .unwrap(),
        r#""Hi, Ada!""#
    );
    assert_eq!(call(&mut s, "slow", &[json!(21)], &[]).unwrap(), "42");
    assert_eq!(
        call(&mut s, "arrow", &[json!(1)], &[("c", json!(3))]).unwrap(),
        "[1,3]"
    );
    // Arguments are JSON: `__proto__` is a key like any other.
    assert_eq!(
        call(&mut s, "keys", &[json!({ "__proto__": { "x": 1 } })], &[]).unwrap(),
        r#"["__proto__"]"#
    );
    let proto = expect_code(
        call(&mut s, "keys", &[], &[("__proto__", json!(1))]),
        ErrorCode::GuestError,
    );
    assert!(
        proto
            .to_string()
            .contains("unexpected keyword argument '__proto__'")
    );
    // State lasts from call to call.
    assert_eq!(call(&mut s, "count", &[], &[]).unwrap(), "1");
    assert_eq!(call(&mut s, "count", &[], &[]).unwrap(), "2");

    let unexpected = expect_code(
        call(&mut s, "greet", &[json!("x")], &[("nope", json!(1))]),
        ErrorCode::GuestError,
    );
    assert!(
        unexpected
            .to_string()
            .contains("unexpected keyword argument 'nope'"),
        "{unexpected}"
    );
    let twice = expect_code(
        call(&mut s, "greet", &[json!("x")], &[("name", json!("y"))]),
        ErrorCode::GuestError,
    );
    assert!(
        twice
            .to_string()
            .contains("multiple values for argument 'name'")
    );
    let missing = expect_code(call(&mut s, "absent", &[], &[]), ErrorCode::GuestError);
    assert!(
        missing.to_string().contains("absent is not defined"),
        "{missing}"
    );
    let not_function = expect_code(call(&mut s, "counter", &[], &[]), ErrorCode::GuestError);
    assert!(
        not_function
            .to_string()
            .contains("counter is not a function")
    );
    expect_code(call(&mut s, "not a name", &[], &[]), ErrorCode::InvalidArg);
    expect_code(
        s.call(
            "greet",
            &[Argument::Json("{oops".into())],
            &[],
            &CallLimits::default(),
        ),
        ErrorCode::InvalidArg,
    );
    // After all of it, the session still answers.
    assert_eq!(call(&mut s, "count", &[], &[]).unwrap(), "3");
}

#[test]
fn generators_stream_results_and_output_is_events() {
    let mut s = session(
        "function* numbers(n) { for (let i = 1; i <= n; i++) yield i; return 'done'; }
         async function* slowly() { yield { a: 1 }; await null; yield [2]; }
         function chatty() { console.log('to stdout'); console.error('to stderr'); return 7; }
         function* broken() { yield 1; throw new RangeError('midway'); }
         function big() { return 10n; }",
    );
    let (events, result) = stream(&mut s, "numbers", &[json!(3)]);
    assert_eq!(result.unwrap(), r#""done""#);
    assert_eq!(
        events,
        [
            SessionEvent::Result("1".into()),
            SessionEvent::Result("2".into()),
            SessionEvent::Result("3".into()),
            SessionEvent::End(r#""done""#.into()),
        ]
    );
    let (events, result) = stream(&mut s, "slowly", &[]);
    assert_eq!(result.unwrap(), "null");
    assert_eq!(
        events[..2],
        [
            SessionEvent::Result(r#"{"a":1}"#.into()),
            SessionEvent::Result("[2]".into())
        ]
    );
    let (events, _) = stream(&mut s, "chatty", &[]);
    assert_eq!(
        events,
        [
            SessionEvent::Stdout("to stdout\n".into()),
            SessionEvent::Stderr("to stderr\n".into()),
            SessionEvent::End("7".into()),
        ]
    );
    let (events, result) = stream(&mut s, "broken", &[]);
    let error = expect_code(result, ErrorCode::GuestError);
    assert!(error.to_string().contains("RangeError: midway"));
    assert_eq!(events[0], SessionEvent::Result("1".into()));
    assert!(matches!(&events[1], SessionEvent::Error(message) if message.contains("midway")));
    let unserialisable = expect_code(call(&mut s, "big", &[], &[]), ErrorCode::GuestError);
    assert!(
        unserialisable
            .to_string()
            .contains("cannot be sent to the host as JSON")
    );
}

#[test]
fn scripts_keep_their_declarations_and_report_their_failures() {
    let mut s = session("const base = await Promise.resolve(40);");
    s.load_script("function answer() { return base + 2; }")
        .unwrap();
    assert_eq!(call(&mut s, "answer", &[], &[]).unwrap(), "42");
    let syntax = expect_code(s.load_script("function ("), ErrorCode::GuestError);
    assert!(syntax.to_string().contains("SyntaxError"), "{syntax}");
    let thrown = expect_code(
        s.load_script("throw new Error('at load')"),
        ErrorCode::GuestError,
    );
    assert!(thrown.to_string().contains("at load"));
    assert_eq!(call(&mut s, "answer", &[], &[]).unwrap(), "42");
}

#[test]
fn hostcalls_reach_the_handler_and_streams_pull_from_it() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let items = Arc::new(Mutex::new(VecDeque::from([json!(1), json!(2), json!(3)])));
    let (seen, feed) = (calls.clone(), items.clone());
    let runtime = || {
        let (seen, feed) = (seen.clone(), feed.clone());
        RuntimeBuilder::new().sandbox(SandboxBuilder::new().hostcall_handler(move |name, payload, _| {
            seen.lock().unwrap().push(name.to_owned());
            match name {
                "lookup_user" => Ok(json!({ "id": payload["user_id"], "name": format!("user-{}", payload["user_id"]) })),
                "__polybox_stream" => Ok(match feed.lock().unwrap().pop_front() {
                    Some(value) => json!({ "done": false, "value": value }),
                    None => json!({ "done": true }),
                }),
                other => Err(format!("no hostcall named {other}")),
            }
        }))
    };
    let template = SessionTemplate::builder(runtime()).build().unwrap();
    let mut s = template.create(runtime()).unwrap();
    s.load_script(
        "async function lookup(id) { return await hostcall('lookup_user', { user_id: id }); }
         async function missing() { return await hostcall('nope', {}); }
         async function total(items) { let sum = 0; for await (const i of items) sum += i; return sum; }",
    )
    .unwrap();
    assert_eq!(
        call(&mut s, "lookup", &[json!(7)], &[]).unwrap(),
        r#"{"id":7,"name":"user-7"}"#
    );
    let refused = expect_code(call(&mut s, "missing", &[], &[]), ErrorCode::GuestError);
    assert!(refused.to_string().contains("no hostcall named nope"));
    let sum = s
        .call("total", &[Argument::Stream(1)], &[], &CallLimits::default())
        .unwrap();
    assert_eq!(sum, "6");
    assert_eq!(calls.lock().unwrap()[..2], ["lookup_user", "nope"]);

    // A session given no hostcalls refuses them.
    let mut bare = session("async function lookup() { return await hostcall('lookup_user', {}); }");
    let denied = expect_code(call(&mut bare, "lookup", &[], &[]), ErrorCode::GuestError);
    assert!(
        denied.to_string().contains("given no hostcalls"),
        "{denied}"
    );
}

#[test]
fn a_stopped_call_poisons_the_session_until_restart() {
    let mut s = session("function spin() { for (;;) {} }\nfunction one() { return 1; }");
    let limits = CallLimits {
        wall_clock: Some(Duration::from_millis(50)),
        ..CallLimits::default()
    };
    expect_code(s.call("spin", &[], &[], &limits), ErrorCode::Cancelled);
    assert!(s.poisoned());
    expect_code(call(&mut s, "one", &[], &[]), ErrorCode::Poisoned);
    s.restart().unwrap();
    assert!(!s.poisoned());
    // The template's state is back; the scripts loaded since are not.
    expect_code(call(&mut s, "one", &[], &[]), ErrorCode::GuestError);
    s.load_script("function one() { return 1; }").unwrap();
    assert_eq!(call(&mut s, "one", &[], &[]).unwrap(), "1");
}

#[test]
fn templates_hold_the_prelude_and_sessions_are_separate() {
    let dir = host_dir("session-cache");
    let build = || {
        SessionTemplate::builder(RuntimeBuilder::new())
            .prelude("globalThis.visits = 0; function visit() { return ++visits; }")
            .cache_dir(&dir)
            .build()
            .unwrap()
    };
    assert_eq!(build().cache_status(), &CacheStatus::Stored);
    let template = build();
    assert_eq!(template.cache_status(), &CacheStatus::Hit);
    let mut first = template.create(RuntimeBuilder::new()).unwrap();
    let mut second = template
        .create(RuntimeBuilder::new().sandbox(SandboxBuilder::new().heap_size(64 << 20)))
        .unwrap();
    assert_eq!(call(&mut first, "visit", &[], &[]).unwrap(), "1");
    assert_eq!(call(&mut first, "visit", &[], &[]).unwrap(), "2");
    assert_eq!(call(&mut second, "visit", &[], &[]).unwrap(), "1");
    // Other engine settings are refused, saying which.
    let error = expect_code(
        template.create(RuntimeBuilder::new().sandbox(SandboxBuilder::new().stack_size(2 << 20))),
        ErrorCode::InvalidArg,
    );
    assert!(error.to_string().contains("stackSize"));
    let failing = SessionTemplate::builder(RuntimeBuilder::new())
        .prelude("throw new Error('prelude broke')")
        .build();
    assert!(
        expect_code(failing, ErrorCode::GuestError)
            .to_string()
            .contains("prelude broke")
    );
}
