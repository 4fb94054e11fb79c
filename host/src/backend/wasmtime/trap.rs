//! Turning wasmtime failures and guest error reports into API errors.

use std::fmt;

use wasmtime::{Trap, UpdateDeadline};

use super::bindings::GuestError;
use crate::error::Error;
use crate::monitor::InterruptState;

/// Why the epoch callback stopped a call: a monitor's name, `"killed"` or
/// `"epoch"`.
#[derive(Debug)]
pub(super) struct Stopped(pub &'static str);

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stopped by {}", self.0)
    }
}

impl std::error::Error for Stopped {}

/// The epoch callback of every store a sandbox runs code in: called whenever
/// the engine's epoch advances (a kill, or the ticker while deadlines are
/// pending), it stops the running call if it must.
pub(super) fn on_epoch(interrupt: &InterruptState) -> wasmtime::Result<UpdateDeadline> {
    match interrupt.stop_requested() {
        Some(reason) => Err(Stopped(reason).into()),
        None => Ok(UpdateDeadline::Continue(1)),
    }
}

/// Classifies a failed call into the guest. Any such failure means the
/// instance trapped, after which wasmtime refuses to enter it again.
pub(super) fn trapped(error: wasmtime::Error) -> Error {
    if let Some(Stopped(reason)) = error.downcast_ref::<Stopped>() {
        return Error::Cancelled(reason);
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => Error::Cancelled("fuel"),
        Some(Trap::StackOverflow) => Error::StackOverflow { poisoned: true },
        Some(Trap::UnreachableCodeReached) => Error::GuestAbort(
            "the guest hit unreachable code (a panic or a failed assertion; see its log)".into(),
        ),
        Some(trap) => Error::GuestAbort(trap.to_string()),
        None => Error::GuestAbort(format!("{error:#}")),
    }
}

/// Converts the guest's own error report.
pub(super) fn reported(error: GuestError) -> Error {
    crate::backend::report::guest_report!(error, super::bindings::ErrorKind)
}
