//! Serving HTTP: `wrk` (50 connections, 2 threads) against `polybox serve`
//! with a JSON handler, for each pool strategy and for the same handler as
//! a program's `createServer`, beside a bare `node:http` server running the
//! same handler, in the same run on the same machine. Skipped, with a note,
//! where `wrk` or `node` is missing.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::report::{Measurement, Target, Unit};
use crate::stats::Summary;

/// The fetch handler every server runs: a small JSON answer.
const HANDLER: &str = r#"
let hits = 0;
export default {
  fetch(request) {
    hits++;
    return Response.json({ hello: "world", path: new URL(request.url).pathname, hits });
  },
};
"#;

/// The same handler as a program that starts a server.
const PROGRAM: &str = r#"
const http = require("node:http");
let hits = 0;
http.createServer((req, res) => {
  hits++;
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ hello: "world", path: new URL(req.url, "http://x").pathname, hits }));
}).listen(3000);
"#;

/// The same handler on Node.js itself, listening on the port it is given.
const BARE_NODE: &str = r#"
const http = require("node:http");
let hits = 0;
const server = http.createServer((req, res) => {
  hits++;
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ hello: "world", path: new URL(req.url, "http://x").pathname, hits }));
}).listen(0, "127.0.0.1", () => console.error(`serving on http://127.0.0.1:${server.address().port}`));
"#;

/// A server process, killed when dropped.
struct Server(Child, u16);

impl Server {
    /// Starts `command`, which names its address on stderr.
    fn start(mut command: Command) -> Option<Self> {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .ok()?;
        let stderr = child.stderr.take()?;
        let mut lines = BufReader::new(stderr).lines();
        let port = loop {
            let line = lines.next()?.ok()?;
            if let Some(after) = line.split("http://127.0.0.1:").nth(1) {
                let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
                break digits.parse().ok()?;
            }
        };
        // Keep reading (and dropping) what it writes, so it never blocks.
        std::thread::spawn(move || for _ in lines {});
        Some(Self(child, port))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What one `wrk` run measured: requests per second and the 99th
/// percentile latency in microseconds.
fn wrk(port: u16, seconds: u64) -> Option<(f64, f64)> {
    let output = Command::new("wrk")
        .args(["-t2", "-c50", &format!("-d{seconds}s"), "--latency"])
        .arg(format!("http://127.0.0.1:{port}/json"))
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let rate = text
        .lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))?
        .trim()
        .parse()
        .ok()?;
    let p99 = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("99%"))
        .and_then(|latency| micros(latency.trim()))?;
    Some((rate, p99))
}

/// `wrk`'s latency (`812.00us`, `1.20ms`, `2.00s`) in microseconds.
fn micros(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => number,
        "ms" => number * 1e3,
        "s" => number * 1e6,
        _ => return None,
    })
}

/// `runs` runs of `wrk` against a server `start` makes, each against a
/// fresh server (a run never sees the state another left).
fn measure_server(
    runs: usize,
    seconds: u64,
    start: impl Fn() -> Option<Server>,
) -> Option<(Summary, Summary)> {
    let mut rates = Vec::new();
    let mut p99s = Vec::new();
    for _ in 0..runs {
        let server = start()?;
        // A first short run warms the server up.
        wrk(server.1, 1)?;
        let (rate, p99) = wrk(server.1, seconds)?;
        rates.push(rate);
        p99s.push(p99);
    }
    Some((Summary::of_runs(rates), Summary::of_runs(p99s)))
}

fn available(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// A file holding `text` in a scratch directory.
fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("polybox-bench-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path).expect("a scratch file");
    file.write_all(text.as_bytes()).expect("a scratch file");
    path
}

/// The serving rows; none, with a note on stderr, without `wrk` or `node`.
pub fn measure(polybox: &Path, quick: bool) -> Vec<Measurement> {
    if !available("wrk") || !available("node") {
        eprintln!(
            "polybox bench: serving skipped: it needs wrk and node on PATH (`make bench` installs wrk)"
        );
        return Vec::new();
    }
    let (runs, seconds) = if quick { (1, 2) } else { (3, 5) };
    let handler = scratch("handler.js", HANDLER);
    let program = scratch("server.js", PROGRAM);
    let bare = scratch("bare.js", BARE_NODE);

    let serve = |app: &Path, strategy: &str| {
        let mut command = Command::new(polybox);
        command.arg("serve").arg(app).args([
            "--port",
            "0",
            "--quiet",
            "--pool",
            "2",
            "--strategy",
            strategy,
        ]);
        Server::start(command)
    };
    let Some((node, node_p99)) = measure_server(runs, seconds, || {
        let mut command = Command::new("node");
        command.arg(&bare);
        Server::start(command)
    }) else {
        eprintln!("polybox bench: serving skipped: bare node:http did not serve");
        return Vec::new();
    };
    let mut rows = vec![
        Measurement::new(
            "serving",
            "bare node:http, same handler (wrk, 50 connections)",
            Unit::PerSecond,
            node,
        ),
        Measurement::new(
            "serving",
            "bare node:http, p99 latency",
            Unit::Micros,
            node_p99,
        ),
    ];
    for (label, app, strategy, share) in [
        ("fetch handler, restore", handler.as_path(), "restore", 0.5),
        ("fetch handler, reuse", handler.as_path(), "reuse", 0.8),
        ("fetch handler, new", handler.as_path(), "new", 0.0),
        (
            "createServer program, reuse",
            program.as_path(),
            "reuse",
            0.0,
        ),
    ] {
        let Some((rate, p99)) = measure_server(runs, seconds, || serve(app, strategy)) else {
            eprintln!("polybox bench: serving {label}: polybox serve did not serve");
            continue;
        };
        let ratio = rate.ratio_to(node);
        let mut rate_row = Measurement::new(
            "serving",
            format!("polybox serve, {label}"),
            Unit::PerSecond,
            rate,
        );
        let mut ratio_row = Measurement::new(
            "serving",
            format!("polybox serve, {label}, / bare node"),
            Unit::Ratio,
            ratio,
        );
        if share > 0.0 {
            rate_row = rate_row.target(Target::AtLeast(node.median * share));
            ratio_row = ratio_row.target(Target::AtLeast(share));
        }
        rows.push(rate_row);
        rows.push(ratio_row);
        rows.push(
            Measurement::new(
                "serving",
                format!("polybox serve, {label}, p99 latency"),
                Unit::Micros,
                p99,
            )
            .target(Target::AtMost(5_000.0)),
        );
    }
    if let Some(dir) = handler.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::micros;

    #[test]
    fn wrk_latencies_read_in_microseconds() {
        assert_eq!(micros("812.00us"), Some(812.0));
        assert_eq!(micros("1.20ms"), Some(1200.0));
        assert_eq!(micros("2.00s"), Some(2_000_000.0));
        assert_eq!(micros("soon"), None);
    }
}
