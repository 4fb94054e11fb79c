//! Serving HTTP: a fetch handler answering a request, and a program's
//! server spawned as a process, reached on its sandbox's own virtual port.

use std::time::Duration;

use polybox::{ExecOptions, HttpRequest, Runtime, SandboxBuilder};

fn main() -> polybox::Result<()> {
    let mut sandbox = SandboxBuilder::new().build()?.load_runtime()?;
    sandbox.add_handler(
        "app",
        "export default { fetch: (request) => Response.json({ path: new URL(request.url).pathname }) };",
    )?;
    let mut loaded = sandbox.get_loaded_sandbox()?;
    let response = loaded.fetch("app", &HttpRequest::new("GET", "http://localhost/items"))?;
    println!(
        "{} {}",
        response.status,
        String::from_utf8_lossy(&response.body)
    );

    let server = Runtime::builder().build()?.spawn(
        "require('http').createServer((req, res) => res.end('hello from ' + req.url)).listen(3000)",
        ExecOptions::default(),
    )?;
    server.wait_for_listener(3000, Duration::from_secs(10))?;
    let answer = server.fetch(3000, HttpRequest::new("GET", "http://localhost/dev"))?;
    println!(
        "{} {}",
        answer.status,
        String::from_utf8_lossy(&answer.body)
    );
    server.kill();
    let (output, _runtime) = server.wait()?;
    println!("exit code {}", output.exit_code);
    Ok(())
}
