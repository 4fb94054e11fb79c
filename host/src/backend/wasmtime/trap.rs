//! Turning wasmtime failures and guest error reports into API errors.

use wasmtime::Trap;

use super::bindings::GuestReport;
use super::meter::Stopped;
use crate::error::Error;

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
pub(super) fn reported(report: GuestReport) -> Error {
    crate::backend::report::guest_report!(report, super::bindings::ErrorKind)
}
