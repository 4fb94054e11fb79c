//! [`ExecOutput`] and [`RunOutput`]: what a program left behind.

use crate::error::Error;
use crate::stats::CallStats;

/// The exit code of a program a limit stopped (a wall-clock or CPU-time
/// monitor, a budget), as `timeout(1)` reports it.
pub const EXIT_TIMEOUT: i32 = 124;
/// The exit code of a program stopped by a kill
/// ([`InterruptHandle::kill`](crate::InterruptHandle::kill)), as a shell
/// reports `SIGKILL`.
pub const EXIT_KILLED: i32 = 137;
/// The exit code of a program whose guest crashed (a trap, a native stack
/// overflow), as a shell reports `SIGABRT`.
pub const EXIT_CRASHED: i32 = 134;

/// What a program wrote, how it ended, and what it cost.
#[derive(Debug)]
pub struct ExecOutput {
    /// Standard output, up to the output limit.
    pub stdout: Vec<u8>,
    /// Standard error, up to the output limit.
    pub stderr: Vec<u8>,
    /// Whether standard output went past the limit (the rest is not kept;
    /// the `on_stdout` callback heard it all).
    pub stdout_truncated: bool,
    /// Whether standard error went past the limit.
    pub stderr_truncated: bool,
    /// The exit code: the program's own (`process.exit`,
    /// `process.exitCode`, 1 after an uncaught exception, 13 for a
    /// top-level `await` that can never settle), or [`EXIT_TIMEOUT`],
    /// [`EXIT_KILLED`] or [`EXIT_CRASHED`] when it did not end by itself.
    pub exit_code: i32,
    /// The run's cost; `terminated_by` names what stopped it.
    pub stats: CallStats,
    /// Why the program did not end by itself: the `ERR_CANCELLED`,
    /// `ERR_STACK_OVERFLOW` or `ERR_GUEST_ABORT` error behind the exit
    /// code. `None` when it ended by itself.
    pub error: Option<Error>,
}

/// What [`Runtime::run`](crate::Runtime::run) returns: the program's value
/// beside its output.
#[derive(Debug)]
pub struct RunOutput {
    /// The JSON of the value the program gave `__return(value)`, else of an
    /// ES module's default export; `None` when there is neither, or it has
    /// no JSON form.
    pub value: Option<String>,
    /// Its output, exit code and cost.
    pub output: ExecOutput,
}
