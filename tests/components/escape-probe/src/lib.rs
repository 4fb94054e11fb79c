//! Test fixture: a handler component that tries every way out through WASI
//! (files, environment, arguments, sockets, processes) and reports, as
//! JSON, what each attempt returned. Given `{"ops": [[op, path, arg?], ...]}`
//! it runs those operations instead (files, the environment, `fetch` through
//! `wasi:http`), and answers one outcome each: `"ok: ..."` or `"err: ..."`.

use std::io::Read;
use std::net::{TcpListener, TcpStream, UdpSocket};

use exports::polybox::sandbox::event_handler::Guest;
use polybox::sandbox::types::GuestError;
use serde_json::{Value, json};

wit_bindgen::generate!({
    world: "handler",
    path: "../../../wit",
});

struct Probe;

/// `"denied: <error>"`, or what the attempt got.
fn attempt<T: std::fmt::Debug, E: std::fmt::Display>(result: Result<T, E>) -> Value {
    match result {
        Ok(value) => json!(format!("reached: {value:?}")),
        Err(error) => json!(format!("denied: {error}")),
    }
}

/// `"ok: <value>"`, or the error's kind.
fn outcome<T: std::fmt::Debug>(result: std::io::Result<T>) -> Value {
    match result {
        Ok(value) => json!(format!("ok: {value:?}")),
        Err(error) => json!(format!("err: {:?}", error.kind())),
    }
}

/// Makes a symbolic link at `path` to `target`, through wasi-libc (std's
/// own is unstable on WASI).
fn symlink(target: &str, path: &str) -> std::io::Result<()> {
    use std::ffi::{CString, c_char, c_int};
    unsafe extern "C" {
        fn symlink(target: *const c_char, path: *const c_char) -> c_int;
    }
    let (target, path) = (CString::new(target)?, CString::new(path)?);
    // SAFETY: both are NUL-terminated strings that outlive the call.
    if unsafe { symlink(target.as_ptr(), path.as_ptr()) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Sends `method url` through `wasi:http/outgoing-handler` with the header
/// `authorization: Bearer {{TOKEN}}` and `body`; `"<status> <body>"`, or
/// the error.
fn fetch(method: &str, url: &str, body: &str) -> Result<String, String> {
    use wasip2::http::outgoing_handler::handle;
    use wasip2::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, Scheme};
    use wasip2::io::streams::StreamError;

    let (scheme, rest) = url.split_once("://").ok_or("no scheme")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let headers = Fields::new();
    headers
        .append("authorization", b"Bearer {{TOKEN}}")
        .map_err(|e| format!("{e:?}"))?;
    let request = OutgoingRequest::new(headers);
    let method = match method {
        "GET" => Method::Get,
        "POST" => Method::Post,
        other => Method::Other(other.to_owned()),
    };
    let scheme = if scheme == "https" {
        Scheme::Https
    } else {
        Scheme::Http
    };
    let set = request.set_method(&method).is_ok()
        && request.set_scheme(Some(&scheme)).is_ok()
        && request.set_authority(Some(authority)).is_ok()
        && request
            .set_path_with_query(Some(if path.is_empty() { "/" } else { path }))
            .is_ok();
    if !set {
        return Err("bad request parts".into());
    }
    let outgoing = request.body().map_err(|()| "no body")?;
    let stream = outgoing.write().map_err(|()| "no body stream")?;
    stream
        .blocking_write_and_flush(body.as_bytes())
        .map_err(|e| format!("{e:?}"))?;
    drop(stream);
    let future = handle(request, None).map_err(|e| format!("{e:?}"))?;
    OutgoingBody::finish(outgoing, None).map_err(|e| format!("{e:?}"))?;
    future.subscribe().block();
    let response = future
        .get()
        .ok_or("no response")?
        .map_err(|()| "taken twice")?
        .map_err(|e| format!("{e:?}"))?;
    let status = response.status();
    let incoming = response.consume().map_err(|()| "no response body")?;
    let stream = incoming.stream().map_err(|()| "no response stream")?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend(chunk),
            Err(StreamError::Closed) => break,
            Err(e) => return Err(format!("{e:?}")),
        }
    }
    Ok(format!("{status} {}", String::from_utf8_lossy(&bytes)))
}

/// Runs one file operation.
fn run(op: &str, path: &str, arg: &str) -> Value {
    use std::fs;
    use std::io::Write;
    match op {
        "read" => outcome(fs::read_to_string(path)),
        "write" => outcome(fs::write(path, arg)),
        "append" => outcome(
            fs::OpenOptions::new()
                .append(true)
                .open(path)
                .and_then(|mut f| f.write_all(arg.as_bytes())),
        ),
        "create_new" => outcome(fs::File::create_new(path).map(drop)),
        "list" => outcome(fs::read_dir(path).and_then(|entries| {
            let mut names = entries
                .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect::<std::io::Result<Vec<_>>>()?;
            names.sort();
            Ok(names)
        })),
        "mkdir" => outcome(fs::create_dir_all(path)),
        "rm" => outcome(fs::remove_file(path)),
        "rmdir" => outcome(fs::remove_dir(path)),
        "rename" => outcome(fs::rename(path, arg)),
        "size" => outcome(fs::metadata(path).map(|m| m.len())),
        "is_dir" => outcome(fs::metadata(path).map(|m| m.is_dir())),
        "symlink" => outcome(symlink(arg, path)),
        "hard_link" => outcome(fs::hard_link(arg, path)),
        "read_link" => outcome(fs::read_link(path)),
        "canonicalize" => outcome(fs::canonicalize(path)),
        "write_at" => outcome(
            fs::OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|mut f| {
                    use std::io::{Seek, SeekFrom};
                    f.seek(SeekFrom::Start(arg.parse().unwrap_or(0)))?;
                    f.write_all(b"x")
                }),
        ),
        "fill" => {
            let piece = vec![b'x'; 1 << 20];
            let mut written = 0;
            let end = loop {
                if let Err(error) = fs::write(format!("{path}/f{written}"), &piece) {
                    break error;
                }
                written += 1;
            };
            json!(format!("{written} MiB, then {:?}", end.kind()))
        }
        "fetch" => match fetch("POST", path, arg) {
            Ok(answer) => json!(format!("ok: {answer}")),
            Err(error) => json!(format!("err: {error}")),
        },
        "env" => json!(format!("{:?}", std::env::var(path).ok())),
        other => json!(format!("unknown op {other}")),
    }
}

impl Guest for Probe {
    fn handle(event: String) -> Result<String, GuestError> {
        let event: Value = serde_json::from_str(&event).unwrap_or(Value::Null);
        if let Some(ops) = event["ops"].as_array() {
            let text = |op: &Value, i: usize| op[i].as_str().unwrap_or("").to_owned();
            let outcomes: Vec<Value> = ops
                .iter()
                .map(|op| run(&text(op, 0), &text(op, 1), &text(op, 2)))
                .collect();
            return Ok(Value::Array(outcomes).to_string());
        }
        let report = json!({
            "read /etc/passwd": attempt(std::fs::read_to_string("/etc/passwd")),
            "list /": attempt(std::fs::read_dir("/").map(|d| d.count())),
            "list .": attempt(std::fs::read_dir(".").map(|d| d.count())),
            "create /tmp/escape": attempt(std::fs::File::create("/tmp/escape")),
            "current dir": attempt(std::env::current_dir()),
            "environment": std::env::vars().count(),
            "arguments": std::env::args().count(),
            "connect tcp": attempt(TcpStream::connect("127.0.0.1:22")),
            "listen tcp": attempt(TcpListener::bind("0.0.0.0:8080")),
            "bind udp": attempt(UdpSocket::bind("0.0.0.0:0")),
            "resolve name": attempt(std::net::ToSocketAddrs::to_socket_addrs("example.com:80")),
            "spawn process": attempt(std::process::Command::new("/bin/sh").output()),
            "read stdin": attempt(std::io::stdin().read(&mut [0u8; 16])),
        });
        Ok(report.to_string())
    }
}

export!(Probe);
