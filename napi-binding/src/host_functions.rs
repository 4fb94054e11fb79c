//! JavaScript callbacks as host functions.
//!
//! The guest calls a host function on a thread-pool thread, but V8 is
//! single-threaded: the callback must run on the main thread. Each callback
//! is a threadsafe function wrapping `lib.js`'s invoker, which spreads the
//! JSON arguments, awaits the callback (sync or async) and always resolves
//! to a [`HostReply`], never rejects. The guest's thread queues the call and
//! waits for the reply, or for the call to be stopped (a monitor, `kill()`,
//! an `AbortSignal`), whichever comes first: a stopped call never waits for
//! a callback. The callback's own `AbortSignal` is then aborted, through a
//! second threadsafe function, and its late reply is dropped. Threadsafe
//! functions are weak, so registered callbacks never keep Node.js alive.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use futures::channel::oneshot;
use futures::future::{Either, select};
use napi::Status;
use napi::bindgen_prelude::{FnArgs, Promise};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use polybox::CallContext;

/// What the invoker resolves to.
#[napi(object)]
pub struct HostReply {
    /// Whether the callback returned (rather than threw or rejected).
    pub ok: bool,
    /// The JSON result, or the error message.
    pub value: String,
}

/// The invoker: `(argsJson, invocation) => Promise<HostReply>`, callable
/// from any thread.
pub type Invoker = ThreadsafeFunction<
    FnArgs<(String, u32)>,
    Promise<HostReply>,
    FnArgs<(String, u32)>,
    Status,
    false,
    true,
>;

/// The aborter: `(invocation) => void`, which aborts that invocation's
/// `AbortSignal`.
pub type Aborter = ThreadsafeFunction<u32, (), u32, Status, false, true>;

/// A raw polybox host function that runs the callback behind `invoke` on the
/// main thread and gives up when the call is stopped.
pub fn raw(
    invoke: Invoker,
    abort: Aborter,
) -> impl Fn(&str, &CallContext<'_>) -> Result<String, String> + Send + Sync + 'static {
    static INVOCATIONS: AtomicU32 = AtomicU32::new(0);
    let (invoke, abort) = (Arc::new(invoke), Arc::new(abort));
    move |args: &str, call: &CallContext<'_>| {
        let invocation = INVOCATIONS.fetch_add(1, Ordering::Relaxed);
        let (stopped, on_stopped) = oneshot::channel::<()>();
        let aborter = abort.clone();
        let _stop = call.on_stop(move || {
            let _ = stopped.send(());
            aborter.call(invocation, ThreadsafeFunctionCallMode::NonBlocking);
        });
        let (promised, promise) = oneshot::channel();
        let status = invoke.call_with_return_value(
            FnArgs::from((args.to_owned(), invocation)),
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
        let reply = match futures::executor::block_on(select(Box::pin(reply), on_stopped)) {
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
