//! One host module's functions, as the [`Provider`] of `host:<module>`.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use super::{CallContext, RawHostFunctionWithContext};
use crate::capability::{HostCallError, Provider};
use crate::monitor::host_time;

/// The functions of one host module.
pub(super) struct FunctionModule {
    pub name: String,
    pub functions: BTreeMap<String, Arc<RawHostFunctionWithContext>>,
}

impl Provider for FunctionModule {
    fn functions(&self) -> Vec<String> {
        self.functions.keys().cloned().collect()
    }

    /// A missing function, an error, a panic or a result that is not JSON
    /// becomes an error message for the guest, which sees it as a catchable
    /// exception.
    fn call(
        &self,
        function: &str,
        args: &str,
        context: &CallContext<'_>,
    ) -> Result<String, HostCallError> {
        let module = &self.name;
        let failed = HostCallError::Failed;
        let f = self.functions.get(function).ok_or_else(|| {
            failed(format!(
                "host function {module}.{function} is not registered"
            ))
        })?;
        let result = host_time::timed(|| catch_unwind(AssertUnwindSafe(|| f(args, context))))
            .map_err(|panic| {
                let detail = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "no message".to_owned());
                failed(format!(
                    "host function {module}.{function} panicked: {detail}"
                ))
            })?
            .map_err(failed)?;
        if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&result) {
            return Err(failed(format!(
                "host function {module}.{function} returned invalid JSON: {e}"
            )));
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::InterruptState;

    fn module(
        f: impl Fn(&str) -> Result<String, String> + Send + Sync + 'static,
    ) -> FunctionModule {
        let f = move |args: &str, _: &CallContext<'_>| f(args);
        FunctionModule {
            name: "m".into(),
            functions: BTreeMap::from([(
                "f".to_owned(),
                Arc::new(f) as Arc<RawHostFunctionWithContext>,
            )]),
        }
    }

    fn call(module: &FunctionModule, function: &str, args: &str) -> Result<String, HostCallError> {
        let interrupt = Arc::new(InterruptState::default());
        module.call(function, args, &CallContext::new(&interrupt))
    }

    #[test]
    fn a_call_returns_the_functions_json() {
        let echo = module(|args| Ok(args.to_owned()));
        assert_eq!(call(&echo, "f", "[1,2]"), Ok("[1,2]".into()));
    }

    #[test]
    fn errors_panics_and_invalid_json_become_messages_for_the_guest() {
        let failed = |m: &str| Err(HostCallError::Failed(m.into()));
        assert_eq!(call(&module(|_| Err("no".into())), "f", "[]"), failed("no"));
        assert_eq!(
            call(&module(|_| panic!("boom")), "f", "[]"),
            failed("host function m.f panicked: boom")
        );
        let invalid = call(&module(|_| Ok("{".into())), "f", "[]");
        assert!(
            matches!(&invalid, Err(HostCallError::Failed(m)) if m.contains("invalid JSON")),
            "{invalid:?}"
        );
        assert_eq!(
            call(&module(|_| Ok("1".into())), "g", "[]"),
            failed("host function m.g is not registered")
        );
    }
}
