//! The MCP server: an `execute_javascript` call of a small snippet through
//! `polybox mcp` over stdio, timed from the client's side (request written
//! to the server's stdin, to the response read from its stdout), as an
//! agent sees it.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use crate::report::{Measurement, Target, Unit};
use crate::stats::{Plan, latency_us};

/// A `polybox mcp` process and its pipes.
struct Server {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    next_id: u64,
}

impl Server {
    fn start(polybox: &Path) -> Self {
        let mut child = Command::new(polybox)
            .arg("mcp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("polybox mcp starts");
        let input = child.stdin.take().expect("piped");
        let output = BufReader::new(child.stdout.take().expect("piped"));
        let mut server = Self {
            child,
            input,
            output,
            next_id: 0,
        };
        server.request(
            "initialize",
            serde_json::json!({
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": { "name": "polybox-bench", "version": "1" },
            }),
        );
        server
            .send(&serde_json::json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }));
        server
    }

    fn send(&mut self, message: &serde_json::Value) {
        writeln!(self.input, "{message}").expect("the server reads its stdin");
        self.input.flush().expect("the server reads its stdin");
    }

    /// Sends a request and reads lines until its response.
    fn request(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(
            &serde_json::json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }),
        );
        let mut line = String::new();
        loop {
            line.clear();
            self.output
                .read_line(&mut line)
                .expect("the server answers");
            let message: serde_json::Value = serde_json::from_str(&line).expect("a JSON-RPC line");
            if message["id"] == id {
                return message;
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The round trip of a small snippet through `polybox` (the command at
/// that path) serving MCP over stdio.
pub fn measure(polybox: &Path, plan: Plan) -> Vec<Measurement> {
    let mut server = Server::start(polybox);
    let call = serde_json::json!({
        "name": "execute_javascript",
        "arguments": { "code": "console.log(6 * 7)" },
    });
    let round_trip = latency_us(plan, || {
        let response = server.request("tools/call", call.clone());
        assert_eq!(response["result"]["structuredContent"]["stdout"], "42\n");
    });
    vec![
        Measurement::new(
            "mcp",
            "execute_javascript round trip, stdio, from the client",
            Unit::Micros,
            round_trip,
        )
        .target(Target::AtMost(1000.0)),
    ]
}
