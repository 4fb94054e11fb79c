//! JavaScript callbacks as host functions.
//!
//! The guest calls a host function on a worker thread, but V8 is
//! single-threaded: the callback must run on the main thread. Each callback
//! is a threadsafe function wrapping `lib.js`'s invoker, which spreads the
//! JSON arguments, awaits the callback (sync or async) and always resolves
//! to a [`HostReply`], never rejects. The guest's thread queues the call and
//! waits for the reply, or for the call to be stopped (a monitor, `kill()`,
//! an `AbortSignal`), whichever comes first: a stopped call never waits for
//! a callback. Its late reply is dropped; `lib.js` aborts the callback's own
//! `AbortSignal` when the call settles. Threadsafe functions are weak, so
//! registered callbacks never keep Node.js alive.

use std::cell::Cell;
use std::sync::Arc;

use futures::channel::oneshot;
use futures::future::{Either, select};
use napi::Status;
use napi::bindgen_prelude::{Function, Promise};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use polybox::CallContext;

thread_local! {
    /// Whether this thread is in `callHandlerSync`, blocked in a call.
    static IN_SYNC_CALL: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as blocked in a synchronous call until dropped: a
/// JavaScript callback cannot run then (it would wait for this very
/// thread), and is refused at once instead of deadlocking.
pub struct SyncCall(());

impl SyncCall {
    pub fn enter() -> Self {
        IN_SYNC_CALL.with(|flag| flag.set(true));
        Self(())
    }
}

impl Drop for SyncCall {
    fn drop(&mut self) {
        IN_SYNC_CALL.with(|flag| flag.set(false));
    }
}

/// What the invoker resolves to.
#[napi(object)]
pub struct HostReply {
    /// Whether the callback returned (rather than threw or rejected).
    pub ok: bool,
    /// The JSON result, or the error message.
    pub value: String,
}

/// The invoker, `(argsJson) => Promise<HostReply>`, callable from any thread.
pub type Invoker = ThreadsafeFunction<String, Promise<HostReply>, String, Status, false, true>;

/// `invoke` (an invoker, `(argsJson) => Promise<HostReply>`) made callable
/// from any thread; weak, so that it never keeps Node.js alive.
pub fn invoker(invoke: Function<'_, String, Promise<HostReply>>) -> crate::error::Result<Invoker> {
    invoke
        .build_threadsafe_function()
        .callee_handled::<false>()
        .weak::<true>()
        .build()
        .map_err(|e| crate::error::invalid_arg(e.reason))
}

/// A raw polybox host function that runs the callback behind `invoke` on the
/// main thread and gives up when the call is stopped.
pub fn raw(
    invoke: Invoker,
) -> impl Fn(&str, &CallContext<'_>) -> Result<String, String> + Send + Sync + 'static {
    let invoke = Arc::new(invoke);
    move |args: &str, call: &CallContext<'_>| {
        if IN_SYNC_CALL.with(Cell::get) {
            return Err(
                "a JavaScript callback (host function, tool or http handler) cannot run during \
                        callHandlerSync, which blocks the thread it runs on; use callHandler"
                    .into(),
            );
        }
        let (stopped, on_stopped) = oneshot::channel::<()>();
        let _stop = call.on_stop(move || {
            let _ = stopped.send(());
        });
        let (promised, promise) = oneshot::channel();
        let status = invoke.call_with_return_value(
            args.to_owned(),
            ThreadsafeFunctionCallMode::NonBlocking,
            move |returned, _env| {
                let _ = promised.send(returned.map_err(|e| e.reason));
                Ok(())
            },
        );
        if status != Status::Ok {
            return Err(
                "the Node.js host function is no longer available (is Node.js exiting?)".into(),
            );
        }
        let reply = async move {
            let promise = promise
                .await
                .map_err(|_| "the Node.js host function never ran".to_owned())??;
            promise.await.map_err(|e| e.reason)
        };
        let reply = match crate::workers::wait(select(Box::pin(reply), on_stopped)) {
            Either::Left((reply, _)) => reply?,
            Either::Right(_) => {
                return Err(format!(
                    "the call was stopped by {} while this host function ran",
                    call.stop_reason().unwrap_or("killed")
                ));
            }
        };
        if reply.ok {
            Ok(reply.value)
        } else {
            Err(reply.value)
        }
    }
}
