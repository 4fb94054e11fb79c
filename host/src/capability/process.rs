//! The host side of a program's process (the `process` interface of
//! `wit/`): its standard streams and the waits of its timers.
//!
//! A program's streams belong to the call that runs it: the program API
//! hands them over when the call starts ([`ProcessIo::begin`]) and takes
//! them back, with what was captured, when it ends. Output reaches the
//! caller's callbacks as it is written, so a long program streams; what is
//! kept is capped. A timer's wait sleeps on the host, where a stop request
//! (a kill, a monitor, a budget) ends it at once.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use super::clock;
use super::host_functions::CallContext;
use super::log::{LogLevel, LogSink};
use crate::monitor::InterruptState;

/// Receives a program's output as it is written.
pub type OutputCallback = Box<dyn FnMut(&[u8]) + Send>;

/// One of a program's output streams: what is kept of it, and who hears it.
pub(crate) struct OutputStream {
    /// The bytes kept, at most `limit`.
    pub captured: Vec<u8>,
    /// Whether bytes were written past the limit (and not kept).
    pub truncated: bool,
    limit: usize,
    callback: Option<OutputCallback>,
}

impl OutputStream {
    /// A stream keeping at most `limit` bytes, handing every write to
    /// `callback`.
    pub fn new(limit: usize, callback: Option<OutputCallback>) -> Self {
        Self {
            captured: Vec::new(),
            truncated: false,
            limit,
            callback,
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        let room = self.limit.saturating_sub(self.captured.len());
        self.captured
            .extend_from_slice(&bytes[..room.min(bytes.len())]);
        self.truncated |= bytes.len() > room;
        if let Some(callback) = &mut self.callback {
            // A callback that panics is not called again; the panic does
            // not cross into the guest.
            if catch_unwind(AssertUnwindSafe(|| callback(bytes))).is_err() {
                tracing::error!("a program output callback panicked; it is no longer called");
                self.callback = None;
            }
        }
    }
}

/// A standard input the host writes to while the program runs (a spawned
/// process's): reads wait for bytes, or for its end.
#[derive(Default)]
pub(crate) struct Pipe {
    state: Arc<Mutex<PipeState>>,
    ready: Arc<Condvar>,
}

#[derive(Default)]
struct PipeState {
    bytes: VecDeque<u8>,
    closed: bool,
}

impl Pipe {
    fn lock(&self) -> MutexGuard<'_, PipeState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds `bytes` for the program to read; false once closed.
    pub fn write(&self, bytes: &[u8]) -> bool {
        let mut state = self.lock();
        if state.closed {
            return false;
        }
        state.bytes.extend(bytes);
        self.ready.notify_all();
        true
    }

    /// Ends the input: reads get what is left, then its end.
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }

    /// At most `max` bytes, waiting for some unless the input ended or
    /// the call stopped (then empty).
    fn read(&self, max: usize, call: &CallContext<'_>) -> Vec<u8> {
        let mut state = call.wait_while(&self.state, &self.ready, None, |state| {
            state.bytes.is_empty() && !state.closed
        });
        let n = max.min(state.bytes.len());
        state.bytes.drain(..n).collect()
    }
}

/// Where a program's standard input comes from.
enum Input {
    /// Bytes given before it ran, and how many it has read.
    Given(Vec<u8>, usize),
    /// A pipe the host writes to as it runs.
    Pipe(Arc<Pipe>),
}

/// A program's standard streams, for the call that runs it.
pub(crate) struct Stdio {
    stdin: Input,
    pub stdout: OutputStream,
    pub stderr: OutputStream,
    /// A session's records (fd 3), when a session call runs; else writes
    /// to fd 3 go nowhere.
    pub events: Option<OutputStream>,
}

impl Stdio {
    /// Streams with `stdin` to read.
    pub fn new(stdin: Vec<u8>, stdout: OutputStream, stderr: OutputStream) -> Self {
        Self {
            stdin: Input::Given(stdin, 0),
            stdout,
            stderr,
            events: None,
        }
    }
}

impl Stdio {
    /// Takes standard input from `pipe` instead.
    pub fn piped(mut self, pipe: Arc<Pipe>) -> Self {
        self.stdin = Input::Pipe(pipe);
        self
    }
}

/// The fd of a session's records (see `session.js` in the guest).
pub(crate) const EVENTS_FD: u32 = 3;

/// A sandbox's process: the streams of the program running now, if any.
pub(crate) struct ProcessIo {
    interrupt: Arc<InterruptState>,
    /// Where output goes when no program runs.
    log: LogSink,
    stdio: Mutex<Option<Stdio>>,
}

impl ProcessIo {
    /// The process of the sandbox whose calls `interrupt` tracks.
    pub fn new(interrupt: Arc<InterruptState>, log: LogSink) -> Self {
        Self {
            interrupt,
            log,
            stdio: Mutex::default(),
        }
    }

    fn stdio(&self) -> MutexGuard<'_, Option<Stdio>> {
        self.stdio.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Gives the program about to run its streams.
    pub fn begin(&self, stdio: Stdio) {
        *self.stdio() = Some(stdio);
    }

    /// Takes back the streams of the program that ran.
    pub fn end(&self) -> Option<Stdio> {
        self.stdio().take()
    }

    /// Writes `bytes` to standard output (`fd` 1), a session's records
    /// ([`EVENTS_FD`]) or standard error (any other): to the running
    /// program's streams, or else to the log.
    pub fn write(&self, fd: u32, bytes: &[u8]) {
        let mut stdio = self.stdio();
        match stdio.as_mut() {
            Some(stdio) if fd == 1 => stdio.stdout.write(bytes),
            Some(stdio) if fd == EVENTS_FD => {
                if let Some(events) = &mut stdio.events {
                    events.write(bytes);
                }
            }
            None if fd == EVENTS_FD => {}
            Some(stdio) => stdio.stderr.write(bytes),
            None => {
                drop(stdio);
                let level = if fd == 1 {
                    LogLevel::Info
                } else {
                    LogLevel::Error
                };
                (self.log)(level, String::from_utf8_lossy(bytes).trim_end());
            }
        }
    }

    /// The next at most `max` bytes of standard input; empty at its end.
    pub fn read_stdin(&self, max: u32) -> Vec<u8> {
        let mut guard = self.stdio();
        let Some(stdio) = guard.as_mut() else {
            return Vec::new();
        };
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        match &mut stdio.stdin {
            Input::Given(bytes, read) => {
                let end = read.saturating_add(max).min(bytes.len());
                let chunk = bytes[*read..end].to_vec();
                *read = end;
                chunk
            }
            Input::Pipe(pipe) => {
                // Waits without holding the streams: the program's output
                // may be written meanwhile (from a host function).
                let pipe = pipe.clone();
                drop(guard);
                pipe.read(max, &CallContext::new(&self.interrupt))
            }
        }
    }

    /// Sleeps until the monotonic clock reads `deadline_ns`, or until
    /// `limit` (a backend's own deadline for the call), whichever is first.
    /// Returns `false` when the wait was cut short: the call was told to
    /// stop, or `limit` came first.
    pub fn wait_until(&self, deadline_ns: u64, limit: Option<Instant>) -> bool {
        let deadline = clock::monotonic_instant(deadline_ns);
        let (until, cut_short) = match limit {
            Some(limit) if limit < deadline => (limit, true),
            _ => (deadline, false),
        };
        let call = CallContext::new(&self.interrupt);
        if call.stop_reason().is_some() {
            return false;
        }
        let (stopped, wait) = mpsc::sync_channel(1);
        // Outside any call no listener is kept: this sender keeps the
        // channel open, so the wait still lasts.
        let _open = stopped.clone();
        let _listener = call.on_stop(move || {
            let _ = stopped.try_send(());
        });
        let timeout = until.saturating_duration_since(Instant::now());
        match wait.recv_timeout(timeout) {
            Ok(()) => false,
            Err(_) => !cut_short,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    fn process() -> ProcessIo {
        ProcessIo::new(Arc::default(), Arc::new(|_, _| {}))
    }

    #[test]
    fn output_is_kept_up_to_its_limit_and_every_write_is_heard() {
        let heard = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = heard.clone();
        let callback: OutputCallback = Box::new(move |bytes| sink.lock().unwrap().extend(bytes));
        let process = process();
        process.begin(Stdio::new(
            Vec::new(),
            OutputStream::new(4, Some(callback)),
            OutputStream::new(8, None),
        ));
        process.write(1, b"abc");
        process.write(1, b"def");
        process.write(2, b"oops");
        let stdio = process.end().unwrap();
        assert_eq!(stdio.stdout.captured, b"abcd");
        assert!(stdio.stdout.truncated);
        assert_eq!(*heard.lock().unwrap(), b"abcdef");
        assert_eq!(stdio.stderr.captured, b"oops");
        assert!(!stdio.stderr.truncated);
    }

    #[test]
    fn stdin_is_read_in_chunks_then_ends() {
        let process = process();
        process.begin(Stdio::new(
            b"hello".to_vec(),
            OutputStream::new(0, None),
            OutputStream::new(0, None),
        ));
        assert_eq!(process.read_stdin(3), b"hel");
        assert_eq!(process.read_stdin(3), b"lo");
        assert_eq!(process.read_stdin(3), b"");
        process.end();
        assert_eq!(process.read_stdin(3), b"");
    }

    #[test]
    fn a_wait_ends_at_its_deadline_or_early_at_the_limit() {
        let process = process();
        let soon = clock::monotonic_ns() + 2_000_000;
        assert!(process.wait_until(soon, None));
        assert!(clock::monotonic_ns() >= soon);
        let later = clock::monotonic_ns() + 10_000_000_000;
        let limit = Instant::now() + Duration::from_millis(2);
        assert!(!process.wait_until(later, Some(limit)));
    }

    #[test]
    fn a_stop_request_ends_a_wait_at_once() {
        let interrupt = Arc::new(InterruptState::default());
        let process = ProcessIo::new(interrupt.clone(), Arc::new(|_, _| {}));
        let call = interrupt.begin_call();
        let id = call.id();
        let killer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            interrupt.kill_call(id, "killed");
        });
        assert!(!process.wait_until(clock::monotonic_ns() + 60_000_000_000, None));
        killer.join().unwrap();
    }
}
