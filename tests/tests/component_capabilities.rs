//! Capabilities reach user components through WASI: the sandbox's own
//! filesystem as `wasi:filesystem` (the same tree and policy as a program's
//! `node:fs`), the granted environment as `wasi:cli/environment`, and the
//! network as `wasi:http/outgoing-handler` (decided and sent as a program's
//! `fetch` is; the test server listens on loopback).

use polybox::permissions::{HostPattern, Permissions};
use polybox::{
    ExecOptions, HttpRequest, HttpResponse, Mount, Runtime, SandboxBuilder, Secret, SharedFiles,
};
use polybox_tests::http_server::HttpServer;
use polybox_tests::{allowing, host_dir, probe_files};

#[test]
fn a_component_sees_the_sandboxs_seeded_files_and_tmp_and_nothing_else() {
    let outcomes = probe_files(
        SandboxBuilder::new().file("/config/app.json", b"{\"debug\":true}".to_vec()),
        &[
            &["list", "/"],
            &["read", "/config/app.json"],
            &["write", "/tmp/out.txt", "hello"],
            &["append", "/tmp/out.txt", ", world"],
            &["read", "/tmp/out.txt"],
            &["size", "/tmp/out.txt"],
            &["mkdir", "/tmp/a/b"],
            &["rename", "/tmp/out.txt", "/tmp/a/b/moved.txt"],
            &["list", "/tmp/a/b"],
            &["rm", "/tmp/a/b/moved.txt"],
            &["rmdir", "/tmp/a/b"],
            &["read", "/etc/passwd"],
            &["write", "/etc/passwd", "x"],
            &["write", "/config/new.json", "x"],
            &["is_dir", "/config"],
        ],
    );
    assert_eq!(
        outcomes,
        [
            r#"ok: ["config", "tmp"]"#,
            r#"ok: "{\"debug\":true}""#,
            "ok: ()",
            "ok: ()",
            r#"ok: "hello, world""#,
            "ok: 12",
            "ok: ()",
            "ok: ()",
            r#"ok: ["moved.txt"]"#,
            "ok: ()",
            "ok: ()",
            "err: PermissionDenied",
            "err: PermissionDenied",
            "err: PermissionDenied",
            "ok: true",
        ]
    );
}

#[test]
fn a_component_and_a_program_share_one_view_of_the_files() {
    let files = SharedFiles::new();
    let outcomes = probe_files(
        SandboxBuilder::new().shared_files(files.clone()),
        &[&["write", "/tmp/from-component.txt", "written by a component"]],
    );
    assert_eq!(outcomes, ["ok: ()"]);
    let mut runtime = Runtime::builder()
        .sandbox(SandboxBuilder::new().shared_files(files))
        .build()
        .unwrap();
    let output = runtime
        .exec(
            "console.log(require('fs').readFileSync('/tmp/from-component.txt', 'utf8'))",
            ExecOptions::default(),
        )
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "written by a component\n"
    );
}

#[test]
fn mounts_are_read_and_written_through_to_the_host_as_granted() {
    let input = host_dir("input");
    let output = host_dir("wasi-output");
    std::fs::write(input.join("data.csv"), "a,b\n1,2\n").unwrap();
    let outcomes = probe_files(
        SandboxBuilder::new()
            .mount(Mount::read_only("/input", &input))
            .mount(Mount::read_write("/output", &output)),
        &[
            &["read", "/input/data.csv"],
            &["write", "/input/data.csv", "overwritten"],
            &["rm", "/input/data.csv"],
            &["mkdir", "/input/new"],
            &["write", "/output/result.txt", "2 rows"],
            &["create_new", "/output/result.txt"],
            &["list", "/output"],
        ],
    );
    assert_eq!(
        outcomes,
        [
            r#"ok: "a,b\n1,2\n""#,
            "err: PermissionDenied",
            "err: PermissionDenied",
            "err: PermissionDenied",
            "ok: ()",
            "err: AlreadyExists",
            r#"ok: ["result.txt"]"#,
        ]
    );
    assert_eq!(
        std::fs::read_to_string(input.join("data.csv")).unwrap(),
        "a,b\n1,2\n"
    );
    assert_eq!(
        std::fs::read_to_string(output.join("result.txt")).unwrap(),
        "2 rows"
    );
}

#[test]
fn the_callers_rules_decide_a_components_files_too() {
    let dir = host_dir("wasi-rules");
    std::fs::create_dir_all(dir.join("secret")).unwrap();
    std::fs::write(dir.join("secret/key"), "KEY").unwrap();
    std::fs::write(dir.join("public.txt"), "public").unwrap();
    let policy = Permissions::from_json(
        r#"{"fs": {"rules": [{"mode": "deny", "paths": ["/data/secret"]},
                             {"mode": "deny", "operations": ["write"], "paths": ["/tmp"]}]}}"#,
    )
    .unwrap();
    let outcomes = probe_files(
        SandboxBuilder::new()
            .mount(Mount::read_write("/data", &dir))
            .permissions(policy),
        &[
            &["read", "/data/public.txt"],
            &["read", "/data/secret/key"],
            &["list", "/data/secret"],
            &["rename", "/data/secret", "/data/open"],
            &["write", "/tmp/x", "x"],
        ],
    );
    assert_eq!(
        outcomes,
        [
            r#"ok: "public""#,
            "err: PermissionDenied",
            "err: PermissionDenied",
            "err: PermissionDenied",
            "err: PermissionDenied",
        ]
    );
    assert!(dir.join("secret/key").exists());
}

#[test]
fn in_memory_files_are_capped_for_components_too() {
    // Entries count too: `/tmp` and `/tmp/a` take about 270 of the 300.
    let more = "9".repeat(100);
    let outcomes = probe_files(
        SandboxBuilder::new().fs_memory_limit(300),
        &[
            &["write", "/tmp/a", "12345678"],
            &["append", "/tmp/a", &more],
            &["read", "/tmp/a"],
        ],
    );
    // The cap is `insufficient-space` on the host side; wasi-libc reports
    // any failed stream write as `EIO` (Rust: `Uncategorized`).
    assert_eq!(outcomes[0], "ok: ()");
    assert!(outcomes[1].starts_with("err: "), "{outcomes:?}");
    assert_eq!(outcomes[2], r#"ok: "12345678""#);
}

#[test]
fn a_component_sees_exactly_the_granted_environment() {
    let policy = Permissions::from_json(
        r#"{"env": {"default": "allow", "rules": [{"mode": "deny", "patterns": ["AWS_*"]}]}}"#,
    )
    .unwrap();
    let outcomes = probe_files(
        SandboxBuilder::new()
            .env("GREETING", "hello")
            .env("AWS_SECRET_ACCESS_KEY", "hunter2")
            .permissions(policy),
        &[
            &["env", "GREETING"],
            &["env", "AWS_SECRET_ACCESS_KEY"],
            &["env", "PATH"],
            &["env", "HOME"],
        ],
    );
    assert_eq!(outcomes, [r#"Some("hello")"#, "None", "None", "None"]);
}

/// What the component's `wasi:http` POST of `body` to `url` got:
/// `"ok: <status> <body>"` or `"err: <error-code>"`.
fn component_fetch(builder: SandboxBuilder, url: &str, body: &str) -> String {
    let mut outcomes = probe_files(builder, &[&["fetch", url, body]]);
    outcomes.remove(0)
}

#[test]
fn a_components_requests_are_denied_until_granted() {
    let server = HttpServer::start();
    assert_eq!(
        component_fetch(SandboxBuilder::new(), &server.url("/echo"), ""),
        "err: ErrorCode::HttpRequestDenied"
    );
    let granted = allowing(&[format!("http://127.0.0.1:{}/echo", server.port)]);
    let answer = component_fetch(granted.clone(), &server.url("/echo"), "ping");
    let json: serde_json::Value =
        serde_json::from_str(answer.strip_prefix("ok: 200 ").unwrap()).unwrap();
    assert_eq!(json["method"], "POST");
    assert_eq!(json["body"], "ping");
    assert_eq!(json["authorization"], "Bearer {{TOKEN}}");
    // Only the granted path.
    assert_eq!(
        component_fetch(granted, &server.url("/hello"), ""),
        "err: ErrorCode::HttpRequestDenied"
    );
}

#[test]
fn a_components_requests_get_secrets_only_for_their_hosts_and_no_ssrf_by_name() {
    let server = HttpServer::start();
    let secret = |host: &str| Secret {
        placeholder: "{{TOKEN}}".into(),
        value: "s3cr3t".into(),
        hosts: vec![HostPattern::parse(host).unwrap()],
    };
    let granted = || allowing(&[format!("http://*:{}/*", server.port)]);
    let answer = component_fetch(
        granted().secret(secret("127.0.0.1")),
        &server.url("/echo"),
        "",
    );
    assert!(
        answer.contains(r#""authorization":"Bearer s3cr3t""#),
        "{answer}"
    );
    let answer = component_fetch(
        granted().secret(secret("api.example.com")),
        &server.url("/echo"),
        "",
    );
    assert!(
        answer.contains(r#""authorization":"Bearer {{TOKEN}}""#),
        "{answer}"
    );
    // A name is granted, but the loopback address it resolves to is not.
    let Some(name) = polybox_tests::name_resolving_to_loopback() else {
        eprintln!(
            "skipped (its last part): this machine resolves no name but localhost to loopback"
        );
        return;
    };
    let by_name = format!("http://{name}:{}/echo", server.port);
    let answer = component_fetch(
        allowing(&[format!("http://{name}:{}", server.port)]),
        &by_name,
        "",
    );
    assert_eq!(answer, "err: ErrorCode::HttpRequestDenied");
}

#[test]
fn a_component_sees_redirects_and_the_callers_handler_answers_without_a_network() {
    let server = HttpServer::start();
    let granted = allowing(&[format!("http://127.0.0.1:{}/*", server.port)]);
    let redirect = server.url("/redirect?to=http%3A%2F%2F169.254.169.254%2F");
    // A wasi:http client sees the redirect itself (and would have to ask
    // again, decided again, to follow it).
    assert_eq!(component_fetch(granted, &redirect, ""), "ok: 302 ");
    let handled = SandboxBuilder::new().http_handler(|request: &HttpRequest| {
        Ok(HttpResponse::new(
            201,
            format!(
                "{} {} {}",
                request.method,
                request.url,
                String::from_utf8_lossy(&request.body)
            ),
        ))
    });
    assert_eq!(
        component_fetch(handled, "https://api.example.com/v1?q=1", "hi"),
        "ok: 201 POST https://api.example.com/v1?q=1 hi"
    );
}

#[test]
fn a_wall_clock_limit_stops_a_component_waiting_for_a_response() {
    let server = HttpServer::start();
    let mut sandbox =
        polybox_tests::runtime(allowing(&[format!("http://127.0.0.1:{}/*", server.port)]));
    sandbox
        .add_component_handler("probe", polybox_tests::component("escape_probe"))
        .unwrap();
    let mut loaded = sandbox.get_loaded_sandbox().unwrap();
    let snapshot = loaded.snapshot().unwrap();
    // The server would answer after a minute, past the test's patience.
    let event = serde_json::json!({ "ops": [["fetch", server.url("/slow?ms=60000"), ""]] });
    let monitor = polybox::WallClockMonitor::new(std::time::Duration::from_millis(100)).unwrap();
    polybox_tests::expect_code(
        loaded.handle_event_with_monitor("probe", event.to_string(), &monitor, None),
        polybox::ErrorCode::Cancelled,
    );
    assert_eq!(
        loaded.last_call_stats().unwrap().terminated_by,
        Some("wall-clock")
    );
    loaded.restore(&snapshot).unwrap();
    let event = serde_json::json!({ "ops": [["env", "HOME"]] });
    assert_eq!(
        loaded
            .handle_event("probe", event.to_string(), None)
            .unwrap(),
        r#"["None"]"#
    );
}
