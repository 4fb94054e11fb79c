//! Errors as they cross into JavaScript: `"ERR_CODE: message"`, which
//! `lib.js` turns into an `Error` with a `code` property.

use napi::Status;

/// A Polybox error for JavaScript.
pub fn to_js(error: polybox::Error) -> napi::Error {
    coded(error.code().as_str(), &error.to_string())
}

/// An error with an explicit code.
pub fn coded(code: &str, message: &str) -> napi::Error {
    napi::Error::new(Status::GenericFailure, format!("{code}: {message}"))
}

/// The error for an object used after a state transition consumed it.
pub fn consumed(what: &str) -> napi::Error {
    coded(
        "ERR_CONSUMED",
        &format!(
            "this {what} was already consumed by an earlier call; use the object that call returned"
        ),
    )
}

/// `ERR_INVALID_ARG` with `message`.
pub fn invalid_arg(message: &str) -> napi::Error {
    coded("ERR_INVALID_ARG", message)
}
