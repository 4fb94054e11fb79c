//! Programs that serve HTTP (`node:http`'s `createServer`) on the
//! sandbox's virtual sockets, spawned as processes (`Runtime::spawn`):
//! secure-exec's dev-server flow, and every way a request can fail.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use polybox::program::EXIT_KILLED;
use polybox::{ErrorCode, ExecOptions, HttpRequest, Runtime};
use polybox_tests::expect_code;

const WAIT: Duration = Duration::from_secs(30);

const APP: &str = r#"
const http = require('node:http');
const server = http.createServer(async (req, res) => {
  if (req.url === '/') {
    res.setHeader('content-type', 'text/plain');
    res.end('home');
  } else if (req.method === 'POST' && req.url.startsWith('/echo')) {
    let body = '';
    for await (const chunk of req) body += chunk;
    res.writeHead(201, { 'content-type': 'application/json', 'x-agent': req.headers['user-agent'] });
    res.end(JSON.stringify({ got: JSON.parse(body), url: req.url }));
  } else if (req.url === '/hang') {
    console.log('hanging'); // and never answers
  } else if (req.url === '/throw') {
    throw new Error('handler failed');
  } else {
    res.statusCode = 404;
    res.end('not found: ' + req.url);
  }
});
server.listen(3000, () => console.log('listening on', server.address().port));
"#;

fn spawn(code: &str) -> polybox::Process {
    Runtime::builder()
        .build()
        .unwrap()
        .spawn(code, ExecOptions::default())
        .unwrap()
}

#[test]
fn the_dev_server_flow_spawn_wait_fetch_kill_wait() {
    let stdout = Arc::new(Mutex::new(Vec::new()));
    let heard = stdout.clone();
    let options = ExecOptions {
        on_stdout: Some(Box::new(move |chunk| heard.lock().unwrap().extend(chunk))),
        ..ExecOptions::default()
    };
    let server = Runtime::builder()
        .build()
        .unwrap()
        .spawn(APP, options)
        .unwrap();
    assert!(server.pid() > 0);
    server.wait_for_listener(3000, WAIT).unwrap();
    assert!(server.find_listener(3000));
    assert!(!server.find_listener(3001));

    let home = server
        .fetch(3000, HttpRequest::new("GET", "http://localhost:3000/"))
        .unwrap();
    assert_eq!((home.status, &home.body[..]), (200, &b"home"[..]));
    assert_eq!(home.header("content-type"), Some("text/plain"));
    let echo = server
        .fetch(
            3000,
            HttpRequest::new("POST", "http://localhost:3000/echo?x=1")
                .header("user-agent", "tests")
                .body(r#"{"a":1}"#),
        )
        .unwrap();
    assert_eq!(echo.status, 201);
    assert_eq!(echo.header("x-agent"), Some("tests"));
    assert_eq!(echo.body, br#"{"got":{"a":1},"url":"/echo?x=1"}"#);
    let missing = server
        .fetch(3000, HttpRequest::new("GET", "http://localhost:3000/nope"))
        .unwrap();
    // A URL that does not parse is answered 400, and the server serves on.
    let unreadable = server
        .fetch(3000, HttpRequest::new("GET", "no url at all"))
        .unwrap();
    assert_eq!(unreadable.status, 400);
    assert_eq!(
        (missing.status, &missing.body[..]),
        (404, &b"not found: /nope"[..])
    );

    assert_eq!(server.exit_code(), None);
    server.kill();
    let (output, mut runtime) = server.wait().unwrap();
    assert_eq!(output.exit_code, EXIT_KILLED);
    assert_eq!(
        String::from_utf8_lossy(&stdout.lock().unwrap()),
        "listening on 3000\n"
    );
    // The runtime runs the next program, and the port closed with the
    // process.
    assert!(!runtime.listeners().find_listener(3000));
    let next = runtime
        .exec("console.log('next')", ExecOptions::default())
        .unwrap();
    assert_eq!(next.stdout, b"next\n");
}

#[test]
fn requests_to_nothing_fail_as_a_network_would() {
    let (said, hears) = std::sync::mpsc::channel::<Vec<u8>>();
    let options = ExecOptions {
        on_stdout: Some(Box::new(move |chunk| {
            let _ = said.send(chunk.to_vec());
        })),
        ..ExecOptions::default()
    };
    let server = Runtime::builder()
        .build()
        .unwrap()
        .spawn(APP, options)
        .unwrap();
    server.wait_for_listener(3000, WAIT).unwrap();
    let refused = expect_code(
        server.fetch(4000, HttpRequest::new("GET", "http://localhost:4000/")),
        ErrorCode::ConnectionRefused,
    );
    assert!(refused.contains("ECONNREFUSED"), "{refused}");
    let timeout = expect_code(
        server.listeners().fetch(
            3000,
            HttpRequest::new("GET", "http://localhost:3000/hang"),
            Duration::from_millis(200),
        ),
        ErrorCode::Timeout,
    );
    assert!(timeout.contains("did not answer"), "{timeout}");
    expect_code(
        server.wait_for_listener(3001, Duration::from_millis(50)),
        ErrorCode::Timeout,
    );
    // A process killed while a request waits for its answer resets it.
    let listeners = server.listeners().clone();
    let waiting = std::thread::spawn(move || {
        listeners.fetch(
            3000,
            HttpRequest::new("GET", "http://localhost:3000/hang"),
            WAIT,
        )
    });
    let mut heard = String::new();
    while heard.matches("hanging").count() < 2 {
        heard += &String::from_utf8_lossy(&hears.recv_timeout(WAIT).unwrap());
    }
    server.kill();
    expect_code(waiting.join().unwrap(), ErrorCode::ConnectionReset);
    let (output, _) = server.wait().unwrap();
    assert_eq!(output.exit_code, EXIT_KILLED);
}

#[test]
fn a_handler_that_throws_ends_the_process_and_its_request() {
    let server = spawn(APP);
    server.wait_for_listener(3000, WAIT).unwrap();
    expect_code(
        server.fetch(3000, HttpRequest::new("GET", "http://localhost:3000/throw")),
        ErrorCode::ConnectionReset,
    );
    let (output, _) = server.wait().unwrap();
    assert_eq!(output.exit_code, 1);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Error: handler failed"), "{stderr}");
}

#[test]
fn ports_are_taken_once_and_a_closed_server_lets_the_program_end() {
    let server = spawn(
        r#"
        const http = require('http');
        const first = http.createServer((req, res) => {
          res.end('bye');
          first.close(() => console.log('closed'));
        }).listen(0);
        const second = http.createServer();
        second.on('error', (error) => console.log('second:', error.code));
        second.listen(first.address().port);
        console.log('first on an ephemeral port:', first.address().port >= 32768);
        "#,
    );
    // `listen(0)` took the first free port of the ephemeral range.
    let port = 32768;
    server.wait_for_listener(port, WAIT).unwrap();
    let bye = server
        .fetch(port, HttpRequest::new("GET", "http://localhost/"))
        .unwrap();
    assert_eq!(bye.body, b"bye");
    let (output, _) = server.wait().unwrap();
    assert_eq!(output.exit_code, 0);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "first on an ephemeral port: true\nsecond: EADDRINUSE\nclosed\n"
    );
}

#[test]
fn standard_input_is_written_while_the_process_runs() {
    let runtime = Runtime::builder().build().unwrap();
    let process = runtime
        .spawn(
            "process.stdin.on('data', (chunk) => process.stdout.write(String(chunk).toUpperCase()));
             process.stdin.on('end', () => console.log('|end'));",
            ExecOptions {
                stdin: b"first ".to_vec(),
                ..ExecOptions::default()
            },
        )
        .unwrap();
    process.write_stdin(b"second").unwrap();
    process.close_stdin();
    expect_code(process.write_stdin(b"late"), ErrorCode::InvalidArg);
    let (output, _) = process.wait().unwrap();
    assert_eq!(output.exit_code, 0);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "FIRST SECOND|end\n"
    );
}

#[test]
fn a_kill_before_the_program_starts_still_stops_it() {
    let process = spawn("require('http').createServer().listen(3000)");
    process.kill();
    let (output, _) = process.wait().unwrap();
    assert_eq!(output.exit_code, EXIT_KILLED);
}

#[test]
fn http_client_calls_are_refused_with_a_clear_error() {
    let mut runtime = Runtime::builder().build().unwrap();
    let output = runtime
        .exec(
            "try { require('http').get('http://example.com') } catch (e) { console.log(e.code, e.message) }",
            ExecOptions::default(),
        )
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "ERR_NOT_SUPPORTED Polybox's node:http serves requests only: make them with fetch()\n"
    );
}
