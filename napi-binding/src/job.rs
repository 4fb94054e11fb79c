//! Work that runs on a worker thread and settles a Promise.
//!
//! A `#[napi]` method returns a [`Job`]; turning it into a JavaScript value
//! makes the Promise, queues the work on the addon's workers
//! (`workers.rs`) and returns the Promise, which the JavaScript thread
//! settles when the work is done (`settler.rs`).

use napi::bindgen_prelude::{ToNapiValue, TypeName, ValueType};
use napi::{Env, JsError, sys};

use crate::error::rejection;
use crate::settler::Settler;

/// A closure run off the main thread, and how to turn its output into a
/// JavaScript value once back on it. A failure rejects the Promise with the
/// error's stable `code`.
pub struct Job<T, J> {
    work: Box<dyn FnOnce() -> polybox::Result<T> + Send>,
    finish: fn(T) -> J,
}

impl<T: Send + 'static, J> Job<T, J> {
    pub fn new(
        work: impl FnOnce() -> polybox::Result<T> + Send + 'static,
        finish: fn(T) -> J,
    ) -> Self {
        Self {
            work: Box::new(work),
            finish,
        }
    }
}

/// A Promise's resolving end, sent to a worker and back untouched.
struct Deferred(sys::napi_deferred);

// SAFETY: only its own JavaScript thread uses it (in `settle`); the worker
// merely carries it.
unsafe impl Send for Deferred {}

impl<T: Send + 'static, J: ToNapiValue + 'static> ToNapiValue for Job<T, J> {
    unsafe fn to_napi_value(env: sys::napi_env, job: Self) -> napi::Result<sys::napi_value> {
        let mut deferred = std::ptr::null_mut();
        let mut promise = std::ptr::null_mut();
        // SAFETY: on the JavaScript thread, with its env.
        napi::check_status!(unsafe { sys::napi_create_promise(env, &mut deferred, &mut promise) })?;
        let settler = Settler::expect(&Env::from_raw(env))?;
        let (deferred, Job { work, finish }) = (Deferred(deferred), job);
        crate::workers::submit(Box::new(move || {
            let output = if crate::live::exiting() {
                Err(polybox::Error::Cancelled("exit"))
            } else {
                work()
            };
            settler.send(Box::new(move |env| {
                settle(env, deferred, output.map(finish))
            }));
        }));
        Ok(promise)
    }
}

impl<T, J> TypeName for Job<T, J> {
    fn type_name() -> &'static str {
        "Promise"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

/// Resolves or rejects the Promise, on its JavaScript thread.
fn settle<J: ToNapiValue>(env: Env, deferred: Deferred, output: polybox::Result<J>) {
    let raw = env.raw();
    // SAFETY: on the JavaScript thread that made the Promise, once.
    unsafe {
        let value = output
            .map_err(|error| rejection(env, error))
            .and_then(|value| J::to_napi_value(raw, value));
        match value {
            Ok(value) => sys::napi_resolve_deferred(raw, deferred.0, value),
            Err(error) => {
                sys::napi_reject_deferred(raw, deferred.0, JsError::from(error).into_value(raw))
            }
        };
    }
}
