//! The network capability through the public API: programs' `fetch` to a
//! test server on loopback, decided by the sandbox's permissions on the
//! host. Nothing leaves the machine.

use polybox::permissions::{HostPattern, Permissions};
use polybox::{ExecOptions, HttpResponse, Runtime, SandboxBuilder, Secret};
use polybox_tests::http_server::HttpServer;
use polybox_tests::{allowing, load_with};

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

/// Runs `code` in a sandbox built by `sandbox`; returns stdout, failing on
/// a non-zero exit.
#[track_caller]
fn run(sandbox: SandboxBuilder, code: &str) -> String {
    let mut runtime = Runtime::builder().sandbox(sandbox).build().unwrap();
    let output = runtime.exec(code, ExecOptions::default()).unwrap();
    assert_eq!(output.exit_code, 0, "stderr: {}", text(&output.stderr));
    text(&output.stdout).to_owned()
}

/// Options stopping a run after 100 ms of wall-clock time.
fn within_100ms() -> ExecOptions {
    ExecOptions {
        limits: polybox::CallLimits {
            wall_clock: Some(std::time::Duration::from_millis(100)),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Prints what a fetch of `url` gave: the status and body, or the error's
/// name and cause code.
fn fetch_code(url: &str) -> String {
    format!(
        "try {{ const r = await fetch({url:?}); console.log(r.status, await r.text()); }}
         catch (e) {{ console.log(e.name, e.cause?.code, e.message); }}"
    )
}

#[test]
fn fetch_is_denied_by_default() {
    let server = HttpServer::start();
    let out = run(SandboxBuilder::new(), &fetch_code(&server.url("/hello")));
    assert!(out.starts_with("TypeError EACCES fetch failed"), "{out}");
}

#[test]
fn a_rule_allows_a_host_and_only_it() {
    let server = HttpServer::start();
    let sandbox = allowing(&[format!("http://127.0.0.1:{}/hello", server.port)]);
    assert_eq!(
        run(sandbox.clone(), &fetch_code(&server.url("/hello"))),
        "200 hello\n"
    );
    let out = run(sandbox, &fetch_code(&server.url("/echo")));
    assert!(out.starts_with("TypeError EACCES"), "{out}");
}

#[test]
fn requests_and_responses_are_the_web_s() {
    let server = HttpServer::start();
    let sandbox = allowing(&[format!("http://127.0.0.1:{}/*", server.port)]);
    let out = run(
        sandbox,
        &format!(
            "const response = await fetch({:?}, {{ method: 'POST', headers: {{ 'x-test': 'yes', 'content-type': 'application/json' }}, body: JSON.stringify({{ a: 1 }}) }});
             const data = await response.json();
             console.log(response.ok, response.status, response.headers.get('content-type'), data.method, data.test, data.body);
             const request = new Request({:?}, {{ method: 'PUT', body: 'put body' }});
             console.log((await (await fetch(request)).json()).body);
             const missing = await fetch({:?});
             console.log(missing.status, missing.ok, await missing.text());
             const chunks = []; for await (const c of (await fetch({:?})).body) chunks.push(c.length); console.log(chunks);",
            server.url("/echo"),
            server.url("/echo"),
            server.url("/nope"),
            server.url("/hello"),
        ),
    );
    assert_eq!(
        out,
        "true 200 application/json POST yes {\"a\":1}\nput body\n404 false not found\n[ 5 ]\n"
    );
}

#[test]
fn a_redirect_to_a_denied_host_is_refused_and_an_allowed_one_followed() {
    let server = HttpServer::start();
    let sandbox = allowing(&[format!("http://127.0.0.1:{}/*", server.port)]);
    let denied = server.url(&format!(
        "/redirect?to=http%3A%2F%2F127.0.0.2%3A{}%2Fhello",
        server.port
    ));
    let out = run(sandbox.clone(), &fetch_code(&denied));
    assert!(out.starts_with("TypeError EACCES"), "{out}");
    let allowed = server.url(&format!(
        "/redirect?to=http%3A%2F%2F127.0.0.1%3A{}%2Fhello",
        server.port
    ));
    let out = run(
        sandbox.clone(),
        &format!(
            "const r = await fetch({allowed:?}); console.log(r.status, r.redirected, r.url, await r.text());"
        ),
    );
    assert_eq!(out, format!("200 true {} hello\n", server.url("/hello")));
    let out = run(
        sandbox,
        &format!(
            "const r = await fetch({allowed:?}, {{ redirect: 'manual' }}); console.log(r.status, r.headers.get('location'));
             try {{ await fetch({allowed:?}, {{ redirect: 'error' }}); }} catch (e) {{ console.log(e.cause.code); }}"
        ),
    );
    assert_eq!(out, format!("302 {}\nEREDIRECT\n", server.url("/hello")));
}

#[test]
fn a_name_that_resolves_to_an_internal_address_needs_that_address_granted() {
    let Some(name) = polybox_tests::name_resolving_to_loopback() else {
        eprintln!("skipped: this machine resolves no name but localhost to loopback");
        return;
    };
    let server = HttpServer::start();
    let by_name = format!("http://{name}:{}/hello", server.port);
    let out = run(
        allowing(&[format!("http://{name}:{}", server.port)]),
        &fetch_code(&by_name),
    );
    assert!(out.starts_with("TypeError EACCES"), "{out}");
    assert!(out.contains("resolves to"), "{out}");
    let both = allowing(&[
        format!("http://{name}:{}", server.port),
        format!("http://127.0.0.0/8:{}", server.port),
        format!("http://[::1]:{}", server.port),
    ]);
    assert_eq!(run(both, &fetch_code(&by_name)), "200 hello\n");
}

#[test]
fn localhost_granted_by_name_reaches_loopback() {
    let server = HttpServer::start();
    for host in ["localhost", "LocalHost.", "app.localhost"] {
        let out = run(
            allowing(&[
                format!("localhost:{}", server.port),
                format!("*.localhost:{}", server.port),
            ]),
            &fetch_code(&format!("http://{host}:{}/hello", server.port)),
        );
        assert_eq!(out, "200 hello\n", "{host}");
    }
    // Granting loopback by name grants only that name.
    let out = run(
        allowing(&[format!("localhost:{}", server.port)]),
        &fetch_code(&format!("http://127.0.0.1:{}/hello", server.port)),
    );
    assert!(out.starts_with("TypeError EACCES"), "{out}");
}

#[test]
fn a_secret_placeholder_is_filled_in_only_for_its_hosts() {
    let server = HttpServer::start();
    let sandbox = allowing(&[
        format!("http://127.0.0.1:{}/*", server.port),
        format!("http://localhost:{}/*", server.port),
    ])
    .secret(Secret {
        placeholder: "{{API_KEY}}".into(),
        value: "s3cr3t".into(),
        hosts: vec![HostPattern::parse("127.0.0.1").unwrap()],
    });
    let code = |url: String| {
        format!(
            "const r = await fetch({url:?}, {{ headers: {{ authorization: 'Bearer {{{{API_KEY}}}}' }} }});
             console.log((await r.json()).authorization);"
        )
    };
    assert_eq!(
        run(sandbox.clone(), &code(server.url("/echo"))),
        "Bearer s3cr3t\n"
    );
    let out = run(
        sandbox,
        &code(format!("http://localhost:{}/echo", server.port)),
    );
    assert_eq!(out, "Bearer {{API_KEY}}\n");
}

#[test]
fn a_handler_answers_without_any_network() {
    let sandbox = SandboxBuilder::new().http_handler(|request: &polybox::HttpRequest| {
        Ok(HttpResponse {
            status: 201,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: format!(
                "{} {} {}",
                request.method,
                request.url,
                String::from_utf8_lossy(&request.body)
            )
            .into_bytes(),
        })
    });
    let out = run(
        sandbox,
        "const r = await fetch('https://api.example.com/v1?q=1', { method: 'POST', body: 'hi' });
         console.log(r.status, await r.text());",
    );
    assert_eq!(out, "201 POST https://api.example.com/v1?q=1 hi\n");
    let narrowed = SandboxBuilder::new()
        .http_handler(|_: &polybox::HttpRequest| Ok(HttpResponse::new(200, "x")))
        .permissions(Permissions::from_json(r#"{"network":{"rules":[{"mode":"allow","patterns":["https://api.example.com:443/*"]}]}}"#).unwrap());
    let out = run(narrowed, &fetch_code("https://other.example.com/"));
    assert!(out.starts_with("TypeError EACCES"), "{out}");
}

#[test]
fn responses_are_capped_and_bad_requests_fail_cleanly() {
    let server = HttpServer::start();
    let sandbox =
        allowing(&[format!("http://127.0.0.1:{}/*", server.port)]).max_response_bytes(1000);
    let out = run(sandbox.clone(), &fetch_code(&server.url("/big?n=5000")));
    assert!(out.starts_with("TypeError EFBIG"), "{out}");
    assert_eq!(
        run(sandbox.clone(), &fetch_code(&server.url("/big?n=1000"))).len(),
        1000 + 5
    );
    for bad in [
        "ftp://127.0.0.1/x",
        "not a url",
        "file:///etc/passwd",
        "data:text/plain,hi",
    ] {
        let out = run(sandbox.clone(), &fetch_code(bad));
        assert!(out.starts_with("TypeError"), "{bad}: {out}");
    }
}

#[test]
fn handlers_fetch_too() {
    let server = HttpServer::start();
    let mut loaded = load_with(
        allowing(&[format!("http://127.0.0.1:{}/*", server.port)]),
        &[(
            "get",
            "export default async function handler(event) { const r = await fetch(event.url); return { status: r.status, text: await r.text() }; }",
        )],
    );
    let event = serde_json::json!({ "url": server.url("/hello") }).to_string();
    assert_eq!(
        loaded.handle_event("get", &event, None).unwrap(),
        r#"{"status":200,"text":"hello"}"#
    );
}

#[test]
fn redirect_loops_slow_servers_and_stops_end_cleanly() {
    let server = HttpServer::start();
    let sandbox = allowing(&[format!("http://127.0.0.1:{}/*", server.port)])
        .request_timeout(std::time::Duration::from_millis(200));
    let out = run(sandbox.clone(), &fetch_code(&server.url("/loop")));
    assert!(out.starts_with("TypeError ERR_TOO_MANY_REDIRECTS"), "{out}");
    let out = run(sandbox.clone(), &fetch_code(&server.url("/slow?ms=2000")));
    assert!(out.starts_with("TypeError ETIMEDOUT"), "{out}");
    // A wall-clock limit stops a program waiting for a response at once
    // (the server would answer after a minute, past the test's patience).
    let mut runtime = Runtime::builder()
        .sandbox(allowing(&[format!("http://127.0.0.1:{}/*", server.port)]))
        .build()
        .unwrap();
    let output = runtime
        .exec(&fetch_code(&server.url("/slow?ms=60000")), within_100ms())
        .unwrap();
    assert_eq!(output.exit_code, polybox::program::EXIT_TIMEOUT);
    assert_eq!(output.stats.terminated_by, Some("wall-clock"));
}

#[test]
fn a_handler_that_waits_learns_that_its_call_was_stopped() {
    let (told, heard) = std::sync::mpsc::channel::<&'static str>();
    let told = std::sync::Mutex::new(told);
    let sandbox = SandboxBuilder::new().http_handler_with_context(move |_, call| {
        let (stopped, wait) = std::sync::mpsc::channel();
        let _stop = call.on_stop(move || {
            let _ = stopped.send(());
        });
        // Waits for an answer that never comes, until the call stops.
        let _ = wait.recv();
        let _ = told
            .lock()
            .unwrap()
            .send(call.stop_reason().unwrap_or("none"));
        Err("stopped".into())
    });
    let mut runtime = Runtime::builder().sandbox(sandbox).build().unwrap();
    let output = runtime
        .exec("await fetch('https://api.example.com/')", within_100ms())
        .unwrap();
    assert_eq!(output.exit_code, polybox::program::EXIT_TIMEOUT);
    assert_eq!(heard.recv().unwrap(), "wall-clock");
}

#[test]
fn blobs_files_and_form_data_are_bodies() {
    let sandbox = SandboxBuilder::new().http_handler(|request: &polybox::HttpRequest| {
        let content_type = request
            .headers
            .iter()
            .find(|(name, _)| name == "content-type")
            .map_or("", |(_, value)| value.as_str());
        Ok(HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/octet-stream".into())],
            body: format!("{content_type}\n{}", String::from_utf8_lossy(&request.body))
                .into_bytes(),
        })
    });
    let out = run(
        sandbox,
        "const blob = new Blob(['ab', new Uint8Array([99])], { type: 'text/x-abc' });
         console.log(blob.size, blob.type, await blob.text(), await blob.slice(1).text());
         const file = new File(['hello'], 'hello.txt', { type: 'text/plain' });
         console.log(file.name, file instanceof Blob);
         const form = new FormData();
         form.append('field', 'value');
         form.append('upload', file);
         console.log([...form.keys()].join(','), form.get('upload').name);
         const r = await fetch('https://api.example.com/upload', { method: 'POST', body: form });
         const echoed = await r.text();
         const [type, ...body] = echoed.split('\\n');
         const boundary = type.match(/^multipart\\/form-data; boundary=(.+)$/)[1];
         const text = body.join('\\n');
         console.log(text.includes('--' + boundary), text.includes('name=\"field\"'), text.includes('filename=\"hello.txt\"'), text.includes('hello'));
         const sent = await fetch('https://api.example.com/blob', { method: 'PUT', body: blob });
         console.log(JSON.stringify(await sent.text()));
         const got = await (await fetch('https://api.example.com/x')).blob();
         console.log(got instanceof Blob, got.type, got.size);
         const response = new Response(new Blob(['in a response']));
         console.log(await response.text(), response.bodyUsed);",
    );
    assert_eq!(
        out,
        "3 text/x-abc abc bc\n\
         hello.txt true\n\
         field,upload hello.txt\n\
         true true true true\n\
         \"text/x-abc\\nabc\"\n\
         true application/octet-stream 1\n\
         in a response true\n"
    );
}
