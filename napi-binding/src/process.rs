//! The native side of `NodeRuntime.spawn` and `fetch`: a program running as
//! a process (`polybox::Process`) on a thread of its own, with one of the
//! `NodeRuntime`'s runtimes, given back when it exits; and the requests
//! `fetch` drives into the servers of the processes running now.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use polybox::{HttpResponse, ProcessHandle};

use crate::error::{Result, invalid_arg};
use crate::exchange::{FetchResponse, request};
use crate::job::Job;
use crate::live::Registration;

/// The processes of one `NodeRuntime` running now.
#[derive(Default)]
pub struct Processes(Mutex<Vec<ProcessHandle>>);

impl Processes {
    fn lock(&self) -> MutexGuard<'_, Vec<ProcessHandle>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn add(&self, handle: ProcessHandle) {
        self.lock().push(handle);
    }

    fn remove(&self, pid: u32) {
        self.lock().retain(|handle| handle.pid() != pid);
    }

    /// The process listening on `port`, if one does.
    pub fn listening(&self, port: u16) -> Option<ProcessHandle> {
        self.lock()
            .iter()
            .find(|handle| handle.find_listener(port))
            .cloned()
    }

    /// Kills every process (the runtime is being disposed of).
    pub fn kill_all(&self) {
        for handle in self.lock().iter() {
            handle.kill();
        }
    }
}

/// A running program (`NodeRuntime.spawn`).
#[napi]
pub struct NativeProcess {
    handle: ProcessHandle,
    /// The process until `wait` takes it.
    process: Arc<Mutex<Option<(polybox::Process, Registration)>>>,
    /// Where its runtime goes back, and where it is listed while it runs.
    give_back: Arc<dyn Fn(polybox::Runtime) + Send + Sync>,
    processes: Arc<Processes>,
}

impl NativeProcess {
    pub fn new(
        process: polybox::Process,
        give_back: Arc<dyn Fn(polybox::Runtime) + Send + Sync>,
        processes: Arc<Processes>,
    ) -> Self {
        let handle = process.handle();
        processes.add(handle.clone());
        let registration = Registration::new(process.interrupt_handle());
        Self {
            handle,
            process: Arc::new(Mutex::new(Some((process, registration)))),
            give_back,
            processes,
        }
    }
}

#[napi]
impl NativeProcess {
    /// The process's id.
    #[napi(getter)]
    pub fn pid(&self) -> u32 {
        self.handle.pid()
    }

    /// Its exit code once it exited, else null.
    #[napi(getter)]
    pub fn exit_code(&self) -> Option<i32> {
        self.handle.exit_code()
    }

    /// Adds `bytes` to its standard input.
    #[napi]
    pub fn write_stdin(&self, bytes: Buffer) -> Result<()> {
        self.handle.write_stdin(&bytes).map_err(crate::error::to_js)
    }

    /// Ends its standard input.
    #[napi]
    pub fn close_stdin(&self) {
        self.handle.close_stdin();
    }

    /// Stops it.
    #[napi]
    pub fn kill(&self) {
        self.handle.kill();
    }

    /// Resolves to its exit code once it exits; its runtime goes back to
    /// the `NodeRuntime`.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn wait(&self) -> Job<i32, i32> {
        let (process, give_back, processes, handle) = (
            self.process.clone(),
            self.give_back.clone(),
            self.processes.clone(),
            self.handle.clone(),
        );
        Job::new(
            move || {
                let taken = process.lock().unwrap_or_else(|p| p.into_inner()).take();
                let Some((process, _registration)) = taken else {
                    // Waited for already: its exit code is known, or will be
                    // once the other wait ends.
                    while handle.exit_code().is_none() {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    return Ok(handle.exit_code().unwrap_or_default());
                };
                let pid = process.pid();
                let waited = process.wait();
                processes.remove(pid);
                let (output, runtime) = waited?;
                give_back(runtime);
                Ok(output.exit_code)
            },
            |code| code,
        )
    }
}

/// Sends a request to the process of `processes` listening on `port`.
pub fn fetch(
    processes: Arc<Processes>,
    port: u32,
    method: String,
    path: String,
    headers: Vec<Vec<String>>,
    body: Buffer,
    timeout: Duration,
) -> Result<Job<HttpResponse, FetchResponse>> {
    let port = u16::try_from(port).map_err(|_| invalid_arg("port must be 0 to 65535"))?;
    if !path.starts_with('/') {
        return Err(invalid_arg(format!(
            "path must start with '/', not {path:?}"
        )));
    }
    let request = request(
        method,
        format!("http://localhost:{port}{path}"),
        headers,
        &body,
    )?;
    Ok(Job::new(
        move || match processes.listening(port) {
            Some(process) => process.listeners().fetch(port, request, timeout),
            None => Err(polybox::Error::ConnectionRefused(format!(
                "connect ECONNREFUSED: nothing listens on port {port}"
            ))),
        },
        FetchResponse::from,
    ))
}
