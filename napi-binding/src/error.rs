//! Errors as JavaScript sees them: an `Error` whose `code` is the stable
//! code (`ERR_INVALID_ARG`, `ERR_CONSUMED`, ...), set natively.
//!
//! napi-rs makes an error's status the JavaScript error's `code`, so every
//! error the addon throws carries a [`Code`] as its status. Promises are
//! settled on the main thread, where [`rejection`] builds the same coded
//! error object for them.

use napi::Env;
use napi::bindgen_prelude::JsError;

/// A stable error code, as the status of a napi-rs error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code(pub &'static str);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0
    }
}

/// An error with its stable code.
pub type Error = napi::Error<Code>;

/// What the addon's methods return: thrown errors carry their code.
pub type Result<T> = std::result::Result<T, Error>;

/// A Polybox error for JavaScript.
pub fn to_js(error: polybox::Error) -> Error {
    Error::new(Code(error.code().as_str()), error.to_string())
}

/// `ERR_INVALID_ARG` with `message`.
pub fn invalid_arg(message: impl Into<String>) -> Error {
    Error::new(Code("ERR_INVALID_ARG"), message.into())
}

/// The error for an object used after a state transition consumed it.
pub fn consumed(what: &'static str) -> Error {
    to_js(polybox::Error::Consumed(what))
}

/// `error` as a promise rejection: the coded JavaScript error object, built
/// on the main thread.
pub fn rejection(env: Env, error: Error) -> napi::Error {
    napi::Error::from(JsError::from(error).into_unknown(env))
}
