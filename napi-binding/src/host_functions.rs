//! JavaScript callbacks as host functions.
//!
//! The guest calls a host function on a thread-pool thread, but V8 is
//! single-threaded: the callback must run on the main thread. Each callback
//! is a threadsafe function wrapping `lib.js`'s `invokeHostFunction`, which
//! spreads the JSON arguments, awaits the callback (sync or async) and always
//! resolves to a [`HostReply`], never rejects. The guest's thread queues the
//! call, receives the Promise, and blocks until it settles. Threadsafe
//! functions are weak, so registered callbacks never keep Node.js alive.

use std::sync::Arc;
use std::sync::mpsc;

use napi::Status;
use napi::bindgen_prelude::Promise;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

/// What `invokeHostFunction` resolves to.
#[napi(object)]
pub struct HostReply {
    /// Whether the callback returned (rather than threw or rejected).
    pub ok: bool,
    /// The JSON result, or the error message.
    pub value: String,
}

/// A callback, wrapped by `lib.js`, callable from any thread.
pub type HostCallback = ThreadsafeFunction<String, Promise<HostReply>, String, Status, false, true>;

/// A raw polybox host function that runs `callback` on the main thread.
pub fn raw(
    callback: HostCallback,
) -> impl Fn(&str) -> Result<String, String> + Send + Sync + 'static {
    let callback = Arc::new(callback);
    move |args: &str| {
        let (sender, receiver) = mpsc::channel();
        let status = callback.call_with_return_value(
            args.to_owned(),
            ThreadsafeFunctionCallMode::NonBlocking,
            move |returned, _env| {
                let _ = sender.send(returned.map_err(|e| e.reason));
                Ok(())
            },
        );
        if status != Status::Ok {
            return Err(
                "the Node.js host function is no longer available (is Node.js exiting?)".into(),
            );
        }
        let promise = receiver
            .recv()
            .map_err(|_| "the Node.js host function never ran".to_owned())??;
        let reply = futures::executor::block_on(promise).map_err(|e| e.reason)?;
        if reply.ok {
            Ok(reply.value)
        } else {
            Err(reply.value)
        }
    }
}
