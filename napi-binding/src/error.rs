//! Errors as JavaScript sees them: an `Error` whose `code` is the stable
//! code (`ERR_INVALID_ARG`, `ERR_CONSUMED`, ...), set natively.
//!
//! napi-rs makes an error's status the JavaScript error's `code`, so every
//! error the addon throws carries a [`Code`] as its status. Promises are
//! settled on the main thread, where [`rejection`] builds the same coded
//! error object for them.

use napi::Env;
use napi::bindgen_prelude::{JsError, JsObjectValue, JsValue};
use napi_derive::napi;

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

/// The crate's hints name its Rust methods; in Node the same settings have
/// these names.
const NODE_NAMES: &[(&str, &str)] = &[
    (
        "SandboxBuilder::fuel_metering(true)",
        "new SandboxBuilder().setFuelMetering(true)",
    ),
    (
        "SandboxBuilder::input_buffer_size",
        "SandboxBuilder.setInputBufferSize()",
    ),
    (
        "SandboxBuilder::output_buffer_size",
        "SandboxBuilder.setOutputBufferSize()",
    ),
    (
        "SandboxBuilder::stack_size",
        "SandboxBuilder.setStackSize()",
    ),
    ("ProtoJSSandbox::host_module", "proto.hostModule()"),
    (
        "WallClockMonitor or CpuTimeMonitor",
        "wallClockTimeoutMs or cpuTimeoutMs",
    ),
];

/// A Polybox error's message, with its hints in Node's names.
pub fn message(error: &polybox::Error) -> String {
    NODE_NAMES
        .iter()
        .fold(error.to_string(), |message, (rust, node)| {
            message.replace(rust, node)
        })
}

/// A Polybox error for JavaScript.
pub fn to_js(error: polybox::Error) -> Error {
    to_js_ref(&error)
}

/// `ERR_INVALID_ARG` with `message`.
pub fn invalid_arg(message: impl Into<String>) -> Error {
    Error::new(Code("ERR_INVALID_ARG"), message.into())
}

/// The error for an object used after a state transition consumed it.
pub fn consumed(what: &'static str) -> Error {
    to_js(polybox::Error::Consumed(what))
}

/// What guest code reported, as a rejection's `guestError`.
#[napi(object)]
pub struct GuestErrorJs {
    /// `"exception"`, `"syntax"`, `"module-not-found"`, ...
    pub kind: String,
    pub message: String,
    pub stack: Option<String>,
}

/// `error` as a promise rejection, built on the main thread: the coded
/// JavaScript error, with `guestError` when guest code failed and
/// `terminatedBy` when something stopped the call.
pub fn rejection(env: Env, error: polybox::Error) -> napi::Error {
    let js = JsError::from(to_js_ref(&error)).into_unknown(env);
    if let Ok(mut object) = js.coerce_to_object() {
        if let Some(guest) = error.guest_error() {
            let _ = object.set_named_property(
                "guestError",
                GuestErrorJs {
                    kind: guest.kind.name().to_owned(),
                    message: guest.message.clone(),
                    stack: guest.stack.clone(),
                },
            );
        }
        if let polybox::Error::Cancelled(by) = &error {
            let _ = object.set_named_property("terminatedBy", *by);
        }
    }
    napi::Error::from(js)
}

/// An argument error of this crate, as a synchronous method throws it
/// (from a method that also throws [`rejection`]s, whose error type this is).
pub fn thrown(env: Env, error: Error) -> napi::Error {
    napi::Error::from(JsError::from(error).into_unknown(env))
}

fn to_js_ref(error: &polybox::Error) -> Error {
    Error::new(Code(error.code().as_str()), message(error))
}
