//! A program app of `polybox serve`: a script that starts an HTTP server
//! (`http.createServer(...).listen(port)`), run as `--pool` processes,
//! each listening on its sandbox's own virtual port. A request goes to an
//! idle process's server. A process that does not answer within the
//! request's time, or that ends (an uncaught exception), is replaced by a
//! fresh one; the others serve on. A server keeps its state between
//! requests, as a server does: there is no per-request restore.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use polybox::{
    ErrorCode, ExecOptions, HttpRequest, HttpResponse, Process, Runtime, SandboxBuilder,
};

/// How long a process may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A process and the port its server listens on.
struct Server {
    process: Process,
    port: u16,
}

/// The processes serving a program app.
pub struct Programs {
    source: String,
    filename: String,
    sandbox: SandboxBuilder,
    timeout: Duration,
    idle: Mutex<Vec<Server>>,
}

impl Programs {
    /// Starts `size` processes of the program at `path` (absolute).
    pub fn start(
        path: &Path,
        source: String,
        sandbox: SandboxBuilder,
        size: usize,
        timeout: Duration,
    ) -> polybox::Result<Self> {
        let programs = Self {
            source,
            filename: path.display().to_string(),
            sandbox,
            timeout,
            idle: Mutex::new(Vec::new()),
        };
        for _ in 0..size {
            let server = programs.spawn()?;
            programs.idle().push(server);
        }
        Ok(programs)
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Server>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new process, once its server listens. Its output goes to stderr.
    fn spawn(&self) -> polybox::Result<Server> {
        let runtime = Runtime::builder().sandbox(self.sandbox.clone()).build()?;
        let options = ExecOptions {
            filename: Some(self.filename.clone()),
            on_stdout: Some(Box::new(|chunk| {
                eprint!("{}", String::from_utf8_lossy(chunk))
            })),
            on_stderr: Some(Box::new(|chunk| {
                eprint!("{}", String::from_utf8_lossy(chunk))
            })),
            ..ExecOptions::default()
        };
        let process = runtime.spawn(&self.source, options)?;
        let port = process.listeners().wait_for_any_listener(START_TIMEOUT)?;
        Ok(Server { process, port })
    }

    /// Answers `request` with an idle process's server (the caller holds
    /// one of `size` permits, so one is idle). A process that failed to
    /// answer is replaced.
    pub fn answer(&self, request: &HttpRequest) -> polybox::Result<HttpResponse> {
        let server = self.idle().pop().ok_or_else(|| {
            polybox::Error::Busy("no process is serving: the last ones failed to start".into())
        })?;
        let answer = server
            .process
            .listeners()
            .fetch(server.port, request.clone(), self.timeout);
        let gone = matches!(
            answer.as_ref().map_err(polybox::Error::code),
            Err(ErrorCode::Timeout | ErrorCode::ConnectionReset | ErrorCode::ConnectionRefused)
        );
        if gone {
            // Dropping it kills it.
            drop(server);
            match self.spawn() {
                Ok(fresh) => self.idle().push(fresh),
                Err(error) => {
                    eprintln!("cannot start a process to replace one that failed: {error}")
                }
            }
        } else {
            self.idle().push(server);
        }
        answer
    }
}
