//! `polybox serve` as a user runs it: a real server on loopback, driven by
//! raw HTTP/1.1 over TCP (so malformed and slow requests can be sent too).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

const APP: &str = r#"
let hits = 0;
export default {
  async fetch(request) {
    hits++;
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/spin": console.log("spinning"); for (;;) {}
      case "/throw": throw new Error("boom");
      case "/string": return "not a response";
      case "/slow": console.log("slow request started"); await new Promise((resolve) => setTimeout(resolve, 300)); return new Response("slow");
      case "/echo": return new Response(await request.text(), { headers: { "x-method": request.method } });
      default: return Response.json({ path: url.pathname, query: url.searchParams.get("q"), hits, host: url.host });
    }
  },
};
"#;

/// A running `polybox serve`, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    metrics_port: Option<u16>,
    log: mpsc::Receiver<String>,
    _dir: Scratch,
}

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Server {
    fn start(test: &str, source: &str, flags: &[&str]) -> Self {
        let dir = std::env::temp_dir().join(format!("polybox-serve-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let app = dir.join("app.js");
        std::fs::write(&app, source).unwrap();
        Self::spawn(Scratch(dir), &[app.to_str().unwrap()], flags)
    }

    fn spawn(dir: Scratch, app: &[&str], flags: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_polybox"))
            .arg("serve")
            .args(app)
            .args(["--port", "0"])
            .args(flags)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, log) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Self {
            child,
            port: 0,
            metrics_port: None,
            log,
            _dir: dir,
        };
        loop {
            let line = server.next_line();
            let port = |line: &str| {
                let after = line.split("http://127.0.0.1:").nth(1).unwrap();
                after
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            };
            if line.starts_with("metrics on") {
                server.metrics_port = Some(port(&line));
            } else if line.starts_with("serving") {
                server.port = port(&line);
                return server;
            }
        }
    }

    fn next_line(&self) -> String {
        self.log
            .recv_timeout(Duration::from_secs(60))
            .expect("the server wrote a line")
    }

    /// Waits for an access log line containing `needle`.
    fn logged(&self, needle: &str) -> String {
        loop {
            let line = self.next_line();
            if line.contains(needle) {
                return line;
            }
        }
    }

    fn request(&self, raw: &str) -> Response {
        send(self.port, raw.as_bytes())
    }

    fn get(&self, path: &str) -> Response {
        self.request(&format!(
            "GET {path} HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n"
        ))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Response {
    status: u16,
    head: String,
    body: String,
}

/// Sends `raw` and reads the response to the connection's end.
fn send(port: u16, raw: &[u8]) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream.write_all(raw).unwrap();
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Response {
        status,
        head: head.to_ascii_lowercase(),
        body: body.to_owned(),
    }
}

#[test]
fn requests_are_answered_by_the_app_with_nothing_kept_between_them() {
    let server = Server::start("answers", APP, &["--metrics-port", "0"]);
    let first = server.get("/items?q=7");
    assert_eq!(first.status, 200, "{first:?}");
    assert!(
        first.head.contains("content-type: application/json"),
        "{first:?}"
    );
    let json: serde_json::Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({ "path": "/items", "query": "7", "hits": 1, "host": "app.test" })
    );
    // The default strategy restores the app's start after each request.
    let again: serde_json::Value = serde_json::from_str(&server.get("/").body).unwrap();
    assert_eq!(again["hits"], 1);
    let echo = server.request(
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    );
    assert_eq!((echo.status, echo.body.as_str()), (200, "hello"));
    assert!(echo.head.contains("x-method: post"), "{echo:?}");
    let line = server.logged("\"POST /echo HTTP/1.1\" 200 5");
    assert!(line.starts_with("127.0.0.1:"), "{line}");

    let metrics = send(
        server.metrics_port.unwrap(),
        b"GET /metrics HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n",
    );
    assert!(
        metrics
            .body
            .contains("polybox_http_requests_total{status=\"200\"} 3"),
        "{}",
        metrics.body
    );
}

#[test]
fn the_reuse_strategy_keeps_state_between_requests() {
    let server = Server::start("reuse", APP, &["--strategy", "reuse", "--pool", "1"]);
    let hits: Vec<_> = (0..3)
        .map(|_| {
            let body: serde_json::Value = serde_json::from_str(&server.get("/").body).unwrap();
            body["hits"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(hits, [1, 2, 3]);
}

#[test]
fn failures_become_statuses_and_the_server_serves_on() {
    let server = Server::start(
        "failures",
        APP,
        &[
            "--timeout-ms",
            "300",
            "--max-body",
            "16",
            "--max-header-bytes",
            "8KiB",
        ],
    );
    let runaway = thread::spawn({
        let port = server.port;
        move || {
            send(
                port,
                b"GET /spin HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            )
        }
    });
    // The other sandbox answers while one spins.
    assert_eq!(server.get("/").status, 200);
    assert_eq!(runaway.join().unwrap().status, 504);
    assert!(
        server.logged("GET /spin").contains("504 20 "),
        "the access log names the status"
    );
    assert_eq!(server.get("/throw").status, 500);
    assert!(server.logged("GET /throw").contains("(Error: boom)"));
    assert_eq!(server.get("/string").status, 500);
    let large = server.request(
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 17\r\nConnection: close\r\n\r\n12345678901234567",
    );
    assert_eq!(large.status, 413);
    let chunked = server.request(
        "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n11\r\n12345678901234567\r\n0\r\n\r\n",
    );
    assert_eq!(chunked.status, 413);
    let huge_header = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "x".repeat(20_000)
    );
    assert_eq!(server.request(&huge_header).status, 431);
    assert_eq!(server.request("NOT HTTP AT ALL\r\n\r\n").status, 400);
    assert_eq!(
        server
            .request("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n")
            .status,
        400
    );
    // Every sandbox is fine after all that.
    for _ in 0..3 {
        assert_eq!(server.get("/").status, 200);
    }
}

#[test]
fn a_full_queue_is_refused_with_503_and_slow_heads_time_out() {
    let server = Server::start(
        "queue",
        APP,
        &[
            "--pool",
            "1",
            "--queue",
            "0",
            "--timeout-ms",
            "1500",
            "--header-timeout-ms",
            "300",
        ],
    );
    let port = server.port;
    let runaway = thread::spawn(move || {
        send(
            port,
            b"GET /spin HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        )
    });
    // While the runaway holds the only sandbox, the next request is refused.
    server.logged("spinning");
    let refused = server.get("/");
    assert_eq!(refused.status, 503, "{refused:?}");
    assert!(refused.head.contains("retry-after: 1"), "{refused:?}");
    assert_eq!(runaway.join().unwrap().status, 504);
    // A client that never finishes its head is cut off.
    let mut slow = TcpStream::connect(("127.0.0.1", port)).unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n").unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    let text = String::from_utf8_lossy(&rest);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
    assert_eq!(server.get("/").status, 200);
}

#[test]
fn a_stop_signal_lets_requests_in_flight_finish() {
    let mut server = Server::start("graceful", APP, &[]);
    let port = server.port;
    let slow = thread::spawn(move || {
        send(
            port,
            b"GET /slow HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        )
    });
    server.logged("slow request started");
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let answered = slow.join().unwrap();
    assert_eq!((answered.status, answered.body.as_str()), (200, "slow"));
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn a_template_file_and_a_service_worker_are_served_too() {
    let dir = std::env::temp_dir().join(format!("polybox-serve-{}-template", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let app = dir.join("worker.js");
    std::fs::write(
        &app,
        r#"addEventListener("fetch", (event) => event.respondWith(new Response(`worker ${new URL(event.request.url).pathname}`)));"#,
    )
    .unwrap();
    let template = dir.join("worker.pbx");
    let built = Command::new(env!("CARGO_BIN_EXE_polybox"))
        .args([
            "template",
            "build",
            app.to_str().unwrap(),
            "-o",
            template.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let template = template.to_str().unwrap().to_owned();
    let server = Server::spawn(Scratch(dir), &["--template", &template], &[]);
    let answer = server.get("/x");
    assert_eq!((answer.status, answer.body.as_str()), (200, "worker /x"));
}

const PROGRAM: &str = r#"
const http = require('node:http');
let hits = 0;
http.createServer((req, res) => {
  hits++;
  if (req.url === '/spin') for (;;) {}
  if (req.url === '/crash') throw new Error('crash');
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ path: req.url, hits }));
}).listen(3000);
"#;

#[test]
fn a_program_that_starts_a_server_is_served_by_its_processes() {
    let server = Server::start("program", PROGRAM, &["--pool", "1", "--timeout-ms", "300"]);
    let hits = |server: &Server| {
        let answer = server.get("/x");
        assert_eq!(answer.status, 200, "{answer:?}");
        let json: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
        json["hits"].as_u64().unwrap()
    };
    // A server keeps its state between requests.
    assert_eq!((hits(&server), hits(&server)), (1, 2));
    // One that does not answer in time, or that ends, is replaced.
    assert_eq!(server.get("/spin").status, 504);
    assert_eq!(hits(&server), 1);
    assert_eq!(server.get("/crash").status, 502);
    assert_eq!(hits(&server), 1);
    let refused = Command::new(env!("CARGO_BIN_EXE_polybox"))
        .args(["serve", "--port", "0", "--strategy", "restore"])
        .arg(server._dir.0.join("app.js"))
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("only --strategy reuse"));
}

#[test]
fn a_hono_app_from_npm_answers_a_scripted_set_of_requests() {
    // At run time, not `env!`: a test binary may be shared between checkouts.
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("..");
    let source = std::fs::read_to_string(root.join("tests/fixtures/hono-server.js")).unwrap();
    let modules = root.join("tests/fixtures/npm/node_modules");
    let server = Server::start(
        "hono",
        &source,
        &["--node-modules", modules.to_str().unwrap()],
    );
    let home = server.get("/");
    assert_eq!((home.status, home.body.as_str()), (200, "Hello Hono!"));
    assert!(home.head.contains("content-type: text/plain"), "{home:?}");
    let user = server.get("/users/42?q=x");
    assert_eq!(
        (user.status, user.body.as_str()),
        (200, r#"{"id":"42","q":"x"}"#)
    );
    let echo = server.request(
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{\"a\":1}",
    );
    assert_eq!(
        (echo.status, echo.body.as_str()),
        (201, r#"{"got":{"a":1}}"#)
    );
    let missing = server.get("/zzz");
    assert_eq!(
        (missing.status, missing.body.as_str()),
        (404, "no route /zzz")
    );
}

#[test]
fn a_wasi_http_component_is_served_as_spin_serves_it() {
    let component = polybox_tests::component_path("http_hello");
    let dir = std::env::temp_dir().join(format!("polybox-serve-{}-component", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = Server::spawn(
        Scratch(dir),
        &[component.to_str().unwrap()],
        &["--timeout-ms", "300"],
    );
    let answer = server.request(
        "PUT /things?id=3 HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody",
    );
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (200, "PUT /things?id=3 4")
    );
    assert!(
        answer.head.contains("x-component: http-hello"),
        "{answer:?}"
    );
    assert_eq!(server.get("/missing").status, 404);
    assert_eq!(server.get("/spin").status, 504);
    assert_eq!(server.get("/").body, "GET / 0");
}

#[test]
fn ten_thousand_connections_against_a_pool_of_two_are_queued_or_refused() {
    let server = Server::start(
        "crowd",
        r#"export default { async fetch() { await new Promise((r) => setTimeout(r, 20)); return new Response("done"); } };"#,
        &[
            "--pool",
            "2",
            "--queue",
            "64",
            "--quiet",
            "--body-timeout-ms",
            "300",
        ],
    );
    // A body that never arrives whole is cut off.
    let slow = server.request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
    assert_eq!(slow.status, 408, "{slow:?}");
    let mut streams = Vec::new();
    for _ in 0..10_000 {
        let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            .unwrap();
        streams.push(stream);
    }
    let (mut answered, mut refused) = (0, 0);
    for mut stream in streams {
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .unwrap();
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        match String::from_utf8_lossy(&bytes).split(' ').nth(1) {
            Some("200") => answered += 1,
            Some("503") => refused += 1,
            other => panic!("a connection got {other:?}"),
        }
    }
    assert_eq!(answered + refused, 10_000);
    assert!(answered >= 66, "only {answered} were answered");
    assert!(refused > 0, "nothing was refused");
    // Memory stayed bounded, and the server serves on.
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert!(
        peak_kib < 1024 * 1024,
        "the server peaked at {peak_kib} KiB"
    );
    assert_eq!(server.get("/").body, "done");
}

#[test]
fn a_request_past_the_queue_is_refused_before_its_body_is_read() {
    // Bodies were once read before a request had a place: 400 clients of
    // 1 MiB took the server from 19 MB to 468 MB.
    let server = Server::start(
        "admission",
        APP,
        &["--pool", "1", "--queue", "0", "--body-timeout-ms", "30000"],
    );
    // The first request takes the only place, and its body never comes.
    let mut holder = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    holder
        .write_all(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1048576\r\n\r\n")
        .unwrap();
    // The second is refused at once, its body unsent: had the server waited
    // for it, no answer would come before the body timeout.
    let mut second = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    second
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    second
        .write_all(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1048576\r\n\r\n")
        .unwrap();
    let mut head = [0u8; 12];
    second.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 503");
    drop(holder);
    assert_eq!(server.get("/").status, 200);
}

#[test]
fn an_apps_status_outside_200_to_599_and_control_characters_stay_out_of_the_wire_and_log() {
    let app = r#"export default { fetch(request) {
        const path = new URL(request.url).pathname;
        if (path === "/switch") { const r = new Response("upgraded"); r.status = 101; return r; }
        throw new Error("forged\u001b[2J line");
    } };"#;
    let server = Server::start("status", app, &[]);
    let switched = server.get("/switch");
    assert_eq!(switched.status, 500, "{switched:?}");
    let line = server.logged("GET /switch");
    assert!(line.contains("status 101"), "{line}");
    assert_eq!(server.get("/forge").status, 500);
    let line = server.logged("GET /forge");
    assert!(line.contains(r"forged\u{1b}[2J line"), "{line}");
    assert!(!line.contains('\u{1b}'), "{line}");
}

#[test]
fn a_host_components_state_does_not_outlive_a_request_under_restore() {
    // A restore resets the guest, not the components beside it: one
    // tenant's value was once served to the next.
    let app = r#"import { swap } from 'host:kv';
        export default { fetch() { return new Response(swap("k", "left by an earlier request") ?? "nothing"); } };"#;
    let kv = polybox_tests::component_path("kv_store");
    let flag = format!("kv={}", kv.display());
    let server = Server::start("components", app, &["--host-component", &flag]);
    assert!(server.get("/").body == "nothing");
    let second = server.get("/");
    assert_eq!(second.body, "nothing", "{second:?}");
    let reuse = Server::start(
        "components-reuse",
        app,
        &[
            "--host-component",
            &flag,
            "--strategy",
            "reuse",
            "--pool",
            "1",
        ],
    );
    assert_eq!(reuse.get("/").body, "nothing");
    assert_eq!(reuse.get("/").body, "left by an earlier request");
}
