//! The guest's own error reports (the `guest-error` record of `wit/`), as
//! API errors. Each backend's bindings generate their own copy of the
//! record; [`guest_report!`] converts any of them the same way.

use crate::error::{Error, GuestError, GuestErrorKind};

/// A report of a guest failure of `kind`.
pub(crate) fn guest(kind: GuestErrorKind, message: String, stack: Option<String>) -> Error {
    Error::Guest(GuestError {
        kind,
        message,
        stack,
    })
}

/// Converts a `guest-error` record, given the path of its bindings'
/// `error-kind` enum: bad input is `ERR_INVALID_ARG`, an uncaught
/// `RangeError` from recursion `ERR_STACK_OVERFLOW` (not poisoned), and the
/// rest `ERR_GUEST_ERROR`.
macro_rules! guest_report {
    ($error:expr, $kind:path) => {{
        use $crate::backend::report::guest;
        use $crate::error::{Error, GuestErrorKind as K};
        use $kind as Kind;
        let error = $error;
        let (message, stack) = (error.message, error.stack);
        match error.kind {
            Kind::MissingHandler
            | Kind::UnknownHandler
            | Kind::InvalidArgument
            | Kind::InvalidEvent => Error::InvalidArg(message),
            Kind::StackOverflow => Error::StackOverflow { poisoned: false },
            Kind::Exception => guest(K::Exception, message, stack),
            Kind::Syntax => guest(K::Syntax, message, stack),
            Kind::ModuleNotFound => guest(K::ModuleNotFound, message, stack),
            Kind::UnserializableResult => guest(K::UnserializableResult, message, stack),
            Kind::OutOfMemory => guest(K::OutOfMemory, message, stack),
            Kind::Unsettled => guest(K::Unsettled, message, stack),
        }
    }};
}

pub(crate) use guest_report;
