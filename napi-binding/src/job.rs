//! Work that runs on the libuv thread pool and settles a Promise.

use napi::bindgen_prelude::{ToNapiValue, TypeName};
use napi::{Env, Task};

use crate::error::rejection;

/// A closure run off the main thread, and how to turn its output into a
/// JavaScript value once back on it. A failure rejects the Promise with the
/// error's stable `code`.
pub struct Job<T, J> {
    work: Option<Box<dyn FnOnce() -> polybox::Result<T> + Send>>,
    finish: fn(T) -> J,
}

impl<T: Send + 'static, J> Job<T, J> {
    pub fn new(
        work: impl FnOnce() -> polybox::Result<T> + Send + 'static,
        finish: fn(T) -> J,
    ) -> Self {
        Self {
            work: Some(Box::new(work)),
            finish,
        }
    }
}

impl<T: Send + 'static, J: ToNapiValue + TypeName> Task for Job<T, J> {
    type Output = polybox::Result<T>;
    type JsValue = J;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let work = self.work.take().expect("a job runs once");
        if crate::live::exiting() {
            return Ok(Err(polybox::Error::Cancelled("exit")));
        }
        Ok(work())
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<J> {
        output
            .map(self.finish)
            .map_err(|error| rejection(env, error))
    }
}
