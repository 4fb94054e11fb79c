//! Host tools of `polybox mcp`, each a command on the host: the guest's
//! input (checked against the tool's schema first) is written to its stdin
//! as JSON, and what it prints is the result (JSON, else its text). The
//! command runs with the server's own environment, so it can hold
//! credentials the guest never sees. It runs in a process group of its
//! own, and the whole group is killed when the call ends, stopped or not:
//! what the command started (`sh -c 'sleep 30 &'`) does not outlive it.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use polybox::{CallContext, Error, Tool};
use serde_json::{Value, json};

use super::config::ToolConfig;
use crate::failure::Failure;

/// The tool `name` that runs `config`'s command.
pub fn tool(name: &str, config: &ToolConfig) -> Result<Tool, Failure> {
    if config.command.is_empty() {
        return Err(Failure::Sandbox(Error::InvalidArg(format!(
            "the tool {name:?} has an empty command"
        ))));
    }
    let command = config.command.clone();
    let schema = config
        .input_schema
        .clone()
        .unwrap_or_else(|| json!({ "type": "object" }));
    Ok(Tool::with_context(
        name,
        config.description.clone(),
        schema,
        move |input, call| run(&command, &input, call),
    )?)
}

/// Runs `command` with `input` on its stdin until it exits or the call is
/// stopped.
fn run(command: &[String], input: &Value, call: &CallContext<'_>) -> Result<Value, String> {
    let mut child = Command::new(&command[0])
        .args(&command[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", command[0]))?;
    let stopped = Arc::new(AtomicBool::new(false));
    let flag = stopped.clone();
    let _stop = call.on_stop(move || flag.store(true, Ordering::SeqCst));
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input closes the pipe: fine.
        let _ = stdin.write_all(input.to_string().as_bytes());
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait(&mut child, &stopped);
    // What the command left behind holds its pipes open: end it all.
    kill_group(&child);
    let status = status?;
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    if !status.success() {
        let why = String::from_utf8_lossy(&stderr).trim().to_owned();
        return Err(if why.is_empty() {
            format!("the tool's command failed ({status})")
        } else {
            why
        });
    }
    let text = String::from_utf8_lossy(&stdout);
    Ok(serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.trim().to_owned())))
}

/// Waits for `child`, killing it if the call is stopped first.
fn wait(child: &mut Child, stopped: &AtomicBool) -> Result<std::process::ExitStatus, String> {
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(status);
        }
        if stopped.load(Ordering::SeqCst) {
            kill_group(child);
            let _ = child.wait();
            return Err("the call was stopped".into());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Kills `child`'s process group (`child` leads it).
fn kill_group(child: &Child) {
    if let Some(group) = rustix::process::Pid::from_raw(child.id() as i32) {
        // It may be gone already: nothing to do then.
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
}

/// Reads `pipe` to its end on a thread of its own.
fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}
