//! Turning QuickJS failures into the `guest-error` the host receives.

use alloc::format;
use alloc::string::{String, ToString};

use rquickjs::{Ctx, Error, Value};

use crate::allocator;
use crate::bindings::polybox::sandbox::types::{ErrorKind, GuestError};

/// Shorthand for a guest error without a JavaScript stack.
pub fn guest_error(kind: ErrorKind, message: impl Into<String>) -> GuestError {
    GuestError {
        kind,
        message: message.into(),
        stack: None,
    }
}

/// What the runtime was doing when a failure happened, which decides how a
/// thrown value is classified.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Parsing or linking source: a `SyntaxError` is a syntax error (linking
    /// reports a missing export as one).
    Compile,
    /// Running code: anything thrown is an exception.
    Run,
}

/// Describes `error`, taking the pending exception from `ctx` if there is one.
pub fn describe(ctx: &Ctx<'_>, error: Error, phase: Phase) -> GuestError {
    match error {
        Error::Exception => thrown(ctx, ctx.catch(), phase),
        Error::WouldBlock => guest_error(
            ErrorKind::Unsettled,
            "the promise can never settle: nothing is left to run that could resolve it",
        ),
        Error::Allocation => guest_error(ErrorKind::OutOfMemory, "out of memory"),
        other => guest_error(ErrorKind::Exception, other.to_string()),
    }
}

/// Whether `thrown` says that QuickJS ran out of memory without saying so:
/// `null` (it could not allocate its error), or the interrupt that ends a
/// script after QuickJS lost an allocation failure.
pub fn ran_out_of_memory(thrown: &Value<'_>) -> bool {
    let interrupted = || {
        thrown.as_object().is_some_and(|error| {
            error
                .get::<_, String>("message")
                .is_ok_and(|m| m == "interrupted")
        })
    };
    (thrown.is_null() || interrupted()) && allocator::take_failure()
}

/// Describes a thrown JavaScript value.
fn thrown<'js>(ctx: &Ctx<'js>, value: Value<'js>, phase: Phase) -> GuestError {
    if ran_out_of_memory(&value) {
        return guest_error(ErrorKind::OutOfMemory, "InternalError: out of memory");
    }
    let Some(object) = value.as_object().filter(|_| value.is_error()) else {
        return guest_error(
            ErrorKind::Exception,
            format!("Uncaught {}", show(ctx, value)),
        );
    };
    let name: String = object.get("name").unwrap_or_else(|_| "Error".into());
    let message: String = object.get("message").unwrap_or_default();
    let stack: Option<String> = object.get("stack").ok().filter(|s: &String| !s.is_empty());
    let kind = match (name.as_str(), message.as_str()) {
        ("InternalError", "out of memory") => ErrorKind::OutOfMemory,
        ("RangeError", "Maximum call stack size exceeded") => ErrorKind::StackOverflow,
        ("SyntaxError", _) if phase == Phase::Compile => ErrorKind::Syntax,
        _ => ErrorKind::Exception,
    };
    let message = if message.is_empty() {
        name
    } else {
        format!("{name}: {message}")
    };
    GuestError {
        kind,
        message,
        stack,
    }
}

/// A short rendering of a thrown non-`Error` value.
fn show<'js>(ctx: &Ctx<'js>, value: Value<'js>) -> String {
    if let Some(text) = value.as_string().and_then(|s| s.to_string().ok()) {
        return text;
    }
    match ctx.json_stringify(value.clone()) {
        Ok(Some(json)) => json.to_string().unwrap_or_default(),
        _ => {
            // Functions, symbols, undefined, BigInts: fall back to String(value).
            ctx.globals()
                .get::<_, rquickjs::Function>("String")
                .and_then(|to_string| to_string.call::<_, String>((value,)))
                .unwrap_or_else(|_| "a value that cannot be shown".to_string())
        }
    }
}
