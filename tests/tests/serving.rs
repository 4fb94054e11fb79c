//! Handlers that answer HTTP requests: the module form (`export default {
//! fetch }`) and the service-worker form (`addEventListener("fetch")`),
//! served through `LoadedJSSandbox::fetch` and `Pool::fetch`, with every
//! body kind, `waitUntil`, and the failures a server must turn into 5xx.

use std::time::Duration;

use polybox::{
    CallLimits, ErrorCode, HttpRequest, Pool, SandboxBuilder, Strategy, Template, WallClockMonitor,
};
use polybox_tests::{component, expect_code, load_handler};

const ECHO: &str = r#"
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const body = request.method === "GET" ? null : await request.text();
    return Response.json(
      { method: request.method, path: url.pathname, query: url.searchParams.get("q"), agent: request.headers.get("user-agent"), body },
      { status: 201, headers: { "x-served-by": "polybox" } },
    );
  },
};
"#;

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).expect("a JSON body")
}

#[test]
fn a_module_handler_answers_with_its_request_seen_as_a_web_request() {
    let mut sandbox = load_handler("app", ECHO);
    let request = HttpRequest::new("POST", "http://example.test/items?q=7")
        .header("User-Agent", "tests")
        .body("hello");
    let response = sandbox.fetch("app", &request).unwrap();
    assert_eq!(response.status, 201);
    assert_eq!(response.header("x-served-by"), Some("polybox"));
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(
        json(&response.body),
        serde_json::json!({ "method": "POST", "path": "/items", "query": "7", "agent": "tests", "body": "hello" })
    );
    let get = sandbox
        .fetch("app", &HttpRequest::new("GET", "http://example.test/"))
        .unwrap();
    assert_eq!(json(&get.body)["body"], serde_json::Value::Null);
}

#[test]
fn a_service_worker_answers_through_respond_with_and_waits_for_wait_until() {
    let mut sandbox = load_handler(
        "worker",
        r#"
        globalThis.finished = 0;
        addEventListener("fetch", (event) => {
          if (new URL(event.request.url).pathname !== "/mine") return;
          event.waitUntil(new Promise((resolve) => setTimeout(resolve, 5)).then(() => finished++));
          event.respondWith(new Response(`finished before: ${finished}`));
        });
        addEventListener("fetch", (event) => event.respondWith(new Response("fallback", { status: 404 })));
        "#,
    );
    let mine = sandbox
        .fetch("worker", &HttpRequest::new("GET", "http://x/mine"))
        .unwrap();
    assert_eq!(
        (mine.status, &mine.body[..]),
        (200, &b"finished before: 0"[..])
    );
    let again = sandbox
        .fetch("worker", &HttpRequest::new("GET", "http://x/mine"))
        .unwrap();
    assert_eq!(
        again.body, b"finished before: 1",
        "waitUntil's work ran before the call ended"
    );
    let other = sandbox
        .fetch("worker", &HttpRequest::new("GET", "http://x/other"))
        .unwrap();
    assert_eq!((other.status, &other.body[..]), (404, &b"fallback"[..]));
}

#[test]
fn bodies_cross_as_bytes_text_json_and_streams() {
    let mut sandbox = load_handler(
        "bodies",
        r#"
        export default {
          async fetch(request) {
            const kind = new URL(request.url).pathname.slice(1);
            if (kind === "bytes") {
              const input = new Uint8Array(await request.arrayBuffer());
              return new Response(input.map((b) => 255 - b), { headers: { "content-type": "application/octet-stream" } });
            }
            if (kind === "json") return Response.json(await request.json());
            if (kind === "stream") {
              const parts = ["one ", new TextEncoder().encode("two "), "three"];
              return new Response(new ReadableStream({
                pull(controller) { parts.length ? controller.enqueue(parts.shift()) : controller.close(); },
              }));
            }
            if (kind === "empty") return new Response(null, { status: 204 });
            return new Response("text");
          },
        };
        "#,
    );
    let bytes: Vec<u8> = (0..=255).collect();
    let response = sandbox
        .fetch(
            "bodies",
            &HttpRequest::new("PUT", "http://x/bytes").body(bytes.clone()),
        )
        .unwrap();
    assert_eq!(
        response.body,
        bytes.iter().map(|b| 255 - b).collect::<Vec<_>>()
    );
    let response = sandbox
        .fetch(
            "bodies",
            &HttpRequest::new("POST", "http://x/json").body(r#"{"a":[1,2]}"#),
        )
        .unwrap();
    assert_eq!(json(&response.body), serde_json::json!({ "a": [1, 2] }));
    let response = sandbox
        .fetch("bodies", &HttpRequest::new("GET", "http://x/stream"))
        .unwrap();
    assert_eq!(response.body, b"one two three");
    let response = sandbox
        .fetch("bodies", &HttpRequest::new("GET", "http://x/empty"))
        .unwrap();
    assert_eq!((response.status, response.body.len()), (204, 0));
}

#[test]
fn a_handler_that_fails_gives_a_guest_error_and_the_sandbox_serves_on() {
    let mut sandbox = load_handler(
        "app",
        r#"
        export default {
          async fetch(request) {
            switch (new URL(request.url).pathname) {
              case "/throw": throw new Error("boom");
              case "/string": return "not a response";
              case "/object": return { status: 200 };
              default: return new Response("ok");
            }
          },
        };
        "#,
    );
    let fetch = |sandbox: &mut polybox::LoadedJSSandbox, path: &str| {
        sandbox.fetch("app", &HttpRequest::new("GET", format!("http://x{path}")))
    };
    let thrown = expect_code(fetch(&mut sandbox, "/throw"), ErrorCode::GuestError);
    assert!(thrown.contains("boom"), "{thrown}");
    let string = expect_code(fetch(&mut sandbox, "/string"), ErrorCode::GuestError);
    assert!(
        string.contains("returned string, not a Response"),
        "{string}"
    );
    let object = expect_code(fetch(&mut sandbox, "/object"), ErrorCode::GuestError);
    assert!(
        object.contains("returned a Object, not a Response") || object.contains("not a Response"),
        "{object}"
    );
    assert_eq!(fetch(&mut sandbox, "/").unwrap().body, b"ok");
}

#[test]
fn a_listener_that_never_responds_and_a_plain_handler_are_told_apart() {
    let mut sandbox = load_handler("silent", r#"addEventListener("fetch", () => {});"#);
    let silent = expect_code(
        sandbox.fetch("silent", &HttpRequest::new("GET", "http://x/")),
        ErrorCode::GuestError,
    );
    assert!(
        silent.contains("no fetch listener called respondWith"),
        "{silent}"
    );

    // A plain handler gets the request as its event; its result must be a
    // response record.
    let mut plain = load_handler(
        "plain",
        "function handler(event) { return { url: event.url }; }",
    );
    let error = expect_code(
        plain.fetch("plain", &HttpRequest::new("GET", "http://x/")),
        ErrorCode::GuestError,
    );
    assert!(error.contains("not an HTTP response"), "{error}");

    let mut sandbox = SandboxBuilder::new()
        .build()
        .unwrap()
        .load_runtime()
        .unwrap();
    sandbox
        .add_handler("nothing", "export default { notFetch() {} };")
        .unwrap();
    let error = expect_code(
        sandbox.get_loaded_sandbox().map_err(|e| e.error),
        ErrorCode::InvalidArg,
    );
    assert!(error.contains("serves no requests"), "{error}");
}

#[test]
fn a_runaway_request_is_stopped_and_the_sandbox_restored() {
    let mut sandbox = load_handler(
        "app",
        r#"export default { fetch(request) { if (request.url.endsWith("/spin")) for (;;) {} return new Response("fine"); } };"#,
    );
    let start = sandbox.snapshot().unwrap();
    let limit = WallClockMonitor::new(Duration::from_millis(50)).unwrap();
    expect_code(
        sandbox.fetch_with_monitor("app", &HttpRequest::new("GET", "http://x/spin"), &limit),
        ErrorCode::Cancelled,
    );
    assert!(sandbox.poisoned());
    sandbox.restore(&start).unwrap();
    let fine = sandbox
        .fetch_with_monitor("app", &HttpRequest::new("GET", "http://x/"), &limit)
        .unwrap();
    assert_eq!(fine.body, b"fine");
}

#[test]
fn a_pool_of_a_template_serves_requests_with_nothing_kept_between_them() {
    let proto = SandboxBuilder::new().build().unwrap();
    let template = Template::builder(proto)
        .handler(
            "app",
            r#"let hits = 0; export default { fetch() { hits++; return new Response(String(hits)); } };"#,
        )
        .build()
        .unwrap();
    let limits = CallLimits {
        wall_clock: Some(Duration::from_secs(5)),
        ..CallLimits::default()
    };
    let restore = Pool::of(template.clone())
        .size(2)
        .strategy(Strategy::Restore)
        .limits(limits)
        .build()
        .unwrap();
    let reuse = Pool::of(template)
        .size(1)
        .strategy(Strategy::Reuse)
        .build()
        .unwrap();
    let request = HttpRequest::new("GET", "http://x/");
    for _ in 0..3 {
        assert_eq!(restore.fetch("app", &request).unwrap().body, b"1");
    }
    let counts: Vec<_> = (0..3)
        .map(|_| reuse.fetch("app", &request).unwrap().body)
        .collect();
    assert_eq!(counts, [b"1".to_vec(), b"2".to_vec(), b"3".to_vec()]);
}

#[test]
fn a_wasi_http_component_answers_requests_as_a_fetch_handler_does() {
    let mut sandbox = SandboxBuilder::new()
        .build()
        .unwrap()
        .load_runtime()
        .unwrap();
    sandbox
        .add_component_handler("hello", component("http_hello"))
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    let start = loaded.snapshot().unwrap();
    let response = loaded
        .fetch(
            "hello",
            &HttpRequest::new("POST", "http://x/path?q=1").body("abc"),
        )
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.header("x-component"), Some("http-hello"));
    assert_eq!(response.body, b"POST /path?q=1 3");
    let missing = loaded
        .fetch("hello", &HttpRequest::new("GET", "http://x/missing"))
        .unwrap();
    assert_eq!(
        (missing.status, &missing.body[..]),
        (404, &b"GET /missing 0"[..])
    );
    // A runaway request is stopped like any call, and the sandbox recovers.
    let limit = WallClockMonitor::new(Duration::from_millis(50)).unwrap();
    expect_code(
        loaded.fetch_with_monitor("hello", &HttpRequest::new("GET", "http://x/spin"), &limit),
        ErrorCode::Cancelled,
    );
    loaded.restore(&start).unwrap();
    let again = loaded
        .fetch("hello", &HttpRequest::new("GET", "http://x/"))
        .unwrap();
    assert_eq!(again.body, b"GET / 0");
    // An event that is not a request is refused before the component runs.
    expect_code(
        loaded.handle_event("hello", r#"{"not":"a request"}"#, None),
        ErrorCode::InvalidArg,
    );
}
