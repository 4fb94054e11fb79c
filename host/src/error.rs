//! One error type for the whole API, each variant with a stable code.
//!
//! Codes are the contract: programs (and the Node addon's `error.code`)
//! branch on them, so they never change meaning. Messages say what happened
//! and, where there is one, what to do next.

use std::fmt;

/// The stable code of an [`Error`], as exposed to every language binding.
/// New codes may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `ERR_INVALID_ARG`: a bad argument, size, name, event or result.
    InvalidArg,
    /// `ERR_CONSUMED`: the object was already used by a state transition.
    Consumed,
    /// `ERR_POISONED`: the sandbox is in an inconsistent state; restore it.
    Poisoned,
    /// `ERR_CANCELLED`: a monitor, a budget or `kill()` stopped the call.
    Cancelled,
    /// `ERR_STACK_OVERFLOW`: guest code exhausted its stack.
    StackOverflow,
    /// `ERR_GUEST_ABORT`: the guest trapped (a bug or an internal abort).
    GuestAbort,
    /// `ERR_GUEST_ERROR`: guest code threw, failed to parse or returned
    /// something that is not JSON.
    GuestError,
    /// `ERR_HYPERVISOR_UNAVAILABLE`: the selected backend cannot run here.
    HypervisorUnavailable,
    /// `ERR_BUSY`: the sandbox is serving another call, and this one was
    /// not to wait for it.
    Busy,
    /// `ERR_INTERNAL`: a bug in Polybox or its engine.
    Internal,
    /// `ERR_CONNECTION_REFUSED`: a request to a port the program does not
    /// listen on.
    ConnectionRefused,
    /// `ERR_CONNECTION_RESET`: the program's server closed, or its process
    /// ended, before it answered a request.
    ConnectionReset,
    /// `ERR_TIMEOUT`: a wait (for a listener, for an answer) ran out of time.
    Timeout,
}

impl ErrorCode {
    /// The code as a string, e.g. `"ERR_INVALID_ARG"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidArg => "ERR_INVALID_ARG",
            Self::Consumed => "ERR_CONSUMED",
            Self::Poisoned => "ERR_POISONED",
            Self::Cancelled => "ERR_CANCELLED",
            Self::StackOverflow => "ERR_STACK_OVERFLOW",
            Self::GuestAbort => "ERR_GUEST_ABORT",
            Self::GuestError => "ERR_GUEST_ERROR",
            Self::HypervisorUnavailable => "ERR_HYPERVISOR_UNAVAILABLE",
            Self::Busy => "ERR_BUSY",
            Self::Internal => "ERR_INTERNAL",
            Self::ConnectionRefused => "ERR_CONNECTION_REFUSED",
            Self::ConnectionReset => "ERR_CONNECTION_RESET",
            Self::Timeout => "ERR_TIMEOUT",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of failure guest code reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GuestErrorKind {
    /// Code threw (or a promise rejected) and nothing caught it.
    Exception,
    /// Source code failed to parse.
    Syntax,
    /// An import names a module that is not registered.
    ModuleNotFound,
    /// The handler's result has no JSON form.
    UnserializableResult,
    /// The guest heap could not grow.
    OutOfMemory,
    /// The handler's promise can never settle.
    Unsettled,
}

impl GuestErrorKind {
    /// The kind's name, as `wit/` spells it (`"exception"`,
    /// `"module-not-found"`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Exception => "exception",
            Self::Syntax => "syntax",
            Self::ModuleNotFound => "module-not-found",
            Self::UnserializableResult => "unserializable-result",
            Self::OutOfMemory => "out-of-memory",
            Self::Unsettled => "unsettled",
        }
    }
}

/// A failure reported by guest code: its kind, message and JavaScript stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestError {
    /// What went wrong.
    pub kind: GuestErrorKind,
    /// The message, e.g. `TypeError: x is not a function`.
    pub message: String,
    /// The JavaScript stack at the point of failure, when there is one.
    pub stack: Option<String>,
}

impl fmt::Display for GuestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(stack) = &self.stack {
            write!(f, "\n{}", stack.trim_end())?;
        }
        Ok(())
    }
}

/// Every failure the Polybox API reports. New kinds may be added.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A bad argument; the message names it and the accepted values.
    #[error("{0}")]
    InvalidArg(String),
    /// The object was consumed by an earlier state transition.
    #[error("{0} was already consumed by an earlier call; use the object that call returned")]
    Consumed(&'static str),
    /// A call on a poisoned sandbox.
    #[error(
        "the sandbox is poisoned by an earlier {0}; restore() a snapshot or unload() before using it again"
    )]
    Poisoned(String),
    /// The call was stopped; the payload names what stopped it (as in
    /// [`CallStats::terminated_by`](crate::CallStats::terminated_by)).
    #[error(
        "{}; the sandbox is poisoned: restore() a snapshot or unload() to use it again",
        stopped(.0)
    )]
    Cancelled(&'static str),
    /// Guest code exhausted its stack. When the engine's own stack ran out
    /// the sandbox is poisoned; when JavaScript's stack limit caught it (and
    /// nothing handled the `RangeError`) the sandbox stays usable.
    #[error("guest code overflowed its stack (runaway recursion?){}", if *poisoned { "; the sandbox is poisoned: restore() a snapshot or unload() to use it again" } else { "" })]
    StackOverflow {
        /// Whether the overflow poisoned the sandbox.
        poisoned: bool,
    },
    /// The guest trapped.
    #[error("the guest aborted: {0}; the sandbox is poisoned")]
    GuestAbort(String),
    /// Guest code failed.
    #[error("{0}")]
    Guest(GuestError),
    /// The selected backend cannot run on this machine.
    #[error("the hypervisor is unavailable: {0}")]
    HypervisorUnavailable(String),
    /// The sandbox is serving another call, and this one was not to wait.
    #[error("busy: {0}")]
    Busy(String),
    /// A bug in Polybox or its engine.
    #[error("internal error: {0}")]
    Internal(String),
    /// Nothing listens on the port a request was sent to.
    #[error("{0}")]
    ConnectionRefused(String),
    /// The server went away before it answered.
    #[error("{0}")]
    ConnectionReset(String),
    /// A wait ran out of time.
    #[error("{0}")]
    Timeout(String),
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidArg(_) => ErrorCode::InvalidArg,
            Self::Consumed(_) => ErrorCode::Consumed,
            Self::Poisoned(_) => ErrorCode::Poisoned,
            Self::Cancelled(_) => ErrorCode::Cancelled,
            Self::StackOverflow { .. } => ErrorCode::StackOverflow,
            Self::GuestAbort(_) => ErrorCode::GuestAbort,
            Self::Guest(_) => ErrorCode::GuestError,
            Self::HypervisorUnavailable(_) => ErrorCode::HypervisorUnavailable,
            Self::Busy(_) => ErrorCode::Busy,
            Self::Internal(_) => ErrorCode::Internal,
            Self::ConnectionRefused(_) => ErrorCode::ConnectionRefused,
            Self::ConnectionReset(_) => ErrorCode::ConnectionReset,
            Self::Timeout(_) => ErrorCode::Timeout,
        }
    }

    /// The guest's report, when guest code failed.
    pub fn guest_error(&self) -> Option<&GuestError> {
        match self {
            Self::Guest(error) => Some(error),
            _ => None,
        }
    }

    pub(crate) fn invalid_arg(message: impl Into<String>) -> Self {
        Self::InvalidArg(message.into())
    }
}

/// What stopped a call, in words.
fn stopped(by: &str) -> String {
    match by {
        "killed" => "the call was killed".into(),
        "fuel" => "the call ran out of fuel".into(),
        "epoch" => "the call passed its epoch deadline".into(),
        "signal" => "the call was cancelled by its AbortSignal (signal)".into(),
        "exit" => "the call was stopped because the process is exiting".into(),
        "wall-clock" | "cpu-time" => format!("the call was stopped by its {by} limit"),
        monitor => format!("the call was stopped by the {monitor} monitor"),
    }
}

/// `Result` with Polybox's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
