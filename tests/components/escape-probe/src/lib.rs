//! Test fixture: a handler component that tries every way out through WASI
//! (files, environment, arguments, sockets, processes) and reports, as
//! JSON, what each attempt returned.

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

impl Guest for Probe {
    fn handle(_event: String) -> Result<String, GuestError> {
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
