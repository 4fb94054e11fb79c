//! [`Process`]: a program spawned on a thread of its own, as a server runs:
//! its standard input written as it runs, its output heard as it is
//! written (`ExecOptions::on_stdout`), killed or waited for, and its
//! listening ports reached with requests ([`Listeners`](crate::Listeners)).
//!
//! The runtime goes with the process (a runtime runs one program at a
//! time) and comes back from [`Process::wait`].

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::Notify;

use super::{ExecOptions, ExecOutput, Runtime};
use crate::capability::process::Pipe;
use crate::capability::sockets::Listeners;
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse};
use crate::monitor::{ExecutionMonitor, InterruptHandle};

/// How long [`ProcessHandle::fetch`] waits for an answer.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// The last process id handed out in this process.
static PIDS: AtomicU32 = AtomicU32::new(0);

/// A running program. Dropping it kills the program and waits for it.
/// Everything but waiting is on its [`ProcessHandle`] (which it derefs
/// to), which can be cloned and used from other threads meanwhile.
pub struct Process {
    handle: ProcessHandle,
    thread: Option<JoinHandle<(Result<ExecOutput>, Runtime)>>,
}

/// What can be done to a running program from anywhere: its input, a
/// kill, its exit code, its listening ports.
#[derive(Clone)]
pub struct ProcessHandle {
    pid: u32,
    stdin: Arc<Pipe>,
    kill: Kill,
    interrupt: InterruptHandle,
    listeners: Listeners,
    exit_code: Arc<OnceLock<i32>>,
}

impl std::ops::Deref for Process {
    type Target = ProcessHandle;

    fn deref(&self) -> &ProcessHandle {
        &self.handle
    }
}

impl Process {
    pub(super) fn spawn(mut runtime: Runtime, code: &str, options: ExecOptions) -> Result<Self> {
        let stdin = Arc::new(Pipe::default());
        if !options.stdin.is_empty() {
            stdin.write(&options.stdin);
        }
        let kill = Kill::default();
        let interrupt = runtime.interrupt_handle();
        let listeners = runtime.listeners();
        let exit_code = Arc::new(OnceLock::new());
        let stack = runtime.core().config.stack_size + (2 << 20);
        let (code, pipe, stop, exited) = (
            code.to_owned(),
            stdin.clone(),
            kill.clone(),
            exit_code.clone(),
        );
        let thread = std::thread::Builder::new()
            .name("polybox-process".into())
            .stack_size(stack)
            .spawn(move || {
                let run = runtime.run_piped(&code, options, &stop, pipe);
                if let Ok(run) = &run {
                    let _ = exited.set(run.output.exit_code);
                }
                (run.map(|run| run.output), runtime)
            })
            .map_err(|e| Error::Internal(format!("cannot start the process's thread: {e}")))?;
        Ok(Self {
            handle: ProcessHandle {
                pid: PIDS.fetch_add(1, Ordering::Relaxed) + 1,
                stdin,
                kill,
                interrupt,
                listeners,
                exit_code,
            },
            thread: Some(thread),
        })
    }

    /// A handle to the program, for other threads.
    pub fn handle(&self) -> ProcessHandle {
        self.handle.clone()
    }

    /// Waits for the program to exit; returns what it wrote, how it ended,
    /// and the runtime, ready for the next program.
    pub fn wait(mut self) -> Result<(ExecOutput, Runtime)> {
        let thread = self.thread.take().expect("a process is waited for once");
        let (output, runtime) = thread
            .join()
            .map_err(|_| Error::Internal("the process's thread panicked".into()))?;
        Ok((output?, runtime))
    }
}

impl ProcessHandle {
    /// The process's id, unique within this host process.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Adds `bytes` to what the program reads from standard input;
    /// `ERR_INVALID_ARG` once it was closed.
    pub fn write_stdin(&self, bytes: &[u8]) -> Result<()> {
        if self.stdin.write(bytes) {
            Ok(())
        } else {
            Err(Error::invalid_arg("the process's standard input is closed"))
        }
    }

    /// Ends standard input: the program reads what is left, then its end.
    pub fn close_stdin(&self) {
        self.stdin.close();
    }

    /// A handle that stops the program's run (as the runtime's does).
    pub fn interrupt_handle(&self) -> InterruptHandle {
        self.interrupt.clone()
    }

    /// Stops the program (it exits with `EXIT_KILLED`), whatever it is
    /// doing, even if it has not started yet.
    pub fn kill(&self) {
        self.kill.fire();
        self.interrupt.kill();
    }

    /// Its exit code, once it has exited.
    pub fn exit_code(&self) -> Option<i32> {
        self.exit_code.get().copied()
    }

    /// The program's listening ports.
    pub fn listeners(&self) -> &Listeners {
        &self.listeners
    }

    /// Whether the program listens on `port`.
    pub fn find_listener(&self, port: u16) -> bool {
        self.listeners.find_listener(port)
    }

    /// Waits until the program listens on `port` (`ERR_TIMEOUT` after
    /// `timeout`).
    pub fn wait_for_listener(&self, port: u16, timeout: Duration) -> Result<()> {
        self.listeners.wait_for_listener(port, timeout)
    }

    /// Sends `request` to the program's server on `port` and waits for its
    /// answer, at most [`DEFAULT_FETCH_TIMEOUT`] (see
    /// [`Listeners::fetch`](crate::Listeners::fetch)).
    pub fn fetch(&self, port: u16, request: HttpRequest) -> Result<HttpResponse> {
        self.listeners.fetch(port, request, DEFAULT_FETCH_TIMEOUT)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.kill();
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.handle.fmt(f)
    }
}

impl std::fmt::Debug for ProcessHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.pid)
            .field("exit_code", &self.exit_code())
            .finish_non_exhaustive()
    }
}

/// Stops the process's run when fired, also when fired before the run
/// began (a kill of the interrupt handle alone would be lost then).
#[derive(Clone, Default)]
struct Kill {
    fired: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl Kill {
    fn fire(&self) {
        self.fired.store(true, Ordering::SeqCst);
        // Stores a permit when nothing waits yet.
        self.notify.notify_one();
    }
}

impl ExecutionMonitor for Kill {
    fn get_monitor(&self) -> Result<impl Future<Output = ()> + Send + 'static> {
        let (fired, notify) = (self.fired.clone(), self.notify.clone());
        Ok(async move {
            if !fired.load(Ordering::SeqCst) {
                notify.notified().await;
            }
        })
    }

    fn name(&self) -> &'static str {
        "killed"
    }
}
