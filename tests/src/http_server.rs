//! A small HTTP/1.1 server on loopback for the network tests: it answers
//! each connection on a thread of its own, by path.
//!
//! - `/hello`: `200 hello`;
//! - `/echo`: the method, the `authorization` and `x-test` headers and the
//!   body, as JSON;
//! - `/redirect?to=URL`: `302` to URL;
//! - `/big?n=N`: N bytes of `x`;
//! - `/loop`: `302` to itself;
//! - `/slow?ms=N`: `200 slow` after N milliseconds;
//! - anything else: `404`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

/// A server listening on `127.0.0.1`, until the process ends.
pub struct HttpServer {
    /// Its port.
    pub port: u16,
}

impl HttpServer {
    /// Starts a server on a free loopback port.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let _ = serve(stream);
                });
            }
        });
        Self { port }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

fn serve(stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or("").to_owned(),
        parts.next().unwrap_or("/").to_owned(),
    );
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let length: usize = header("content-length")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
            .map(|v| {
                v.replace("%3A", ":")
                    .replace("%2F", "/")
                    .replace("%5B", "[")
                    .replace("%5D", "]")
            })
    };
    let (status, extra, content) = match path {
        "/hello" => ("200 OK", String::new(), b"hello".to_vec()),
        "/echo" => (
            "200 OK",
            "content-type: application/json\r\n".to_owned(),
            serde_json::json!({
                "method": method,
                "authorization": header("authorization"),
                "test": header("x-test"),
                "body": String::from_utf8_lossy(&body),
            })
            .to_string()
            .into_bytes(),
        ),
        "/redirect" => (
            "302 Found",
            format!("location: {}\r\n", param("to").unwrap_or_default()),
            Vec::new(),
        ),
        "/loop" => ("302 Found", "location: /loop\r\n".to_owned(), Vec::new()),
        "/slow" => {
            let ms = param("ms").and_then(|n| n.parse().ok()).unwrap_or(0);
            std::thread::sleep(std::time::Duration::from_millis(ms));
            ("200 OK", String::new(), b"slow".to_vec())
        }
        "/big" => {
            let n = param("n").and_then(|n| n.parse().ok()).unwrap_or(0);
            ("200 OK", String::new(), vec![b'x'; n])
        }
        _ => ("404 Not Found", String::new(), b"not found".to_vec()),
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n",
        content.len()
    )?;
    stream.write_all(&content)?;
    stream.flush()
}
