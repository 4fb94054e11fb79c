//! Metrics, through the `metrics` facade: install any recorder (for example
//! `metrics-exporter-prometheus`) to collect them.
//!
//! - `monitor_terminations_total{monitor_type}`: calls stopped, by what
//!   stopped them (`wall-clock`, `cpu-time`, `fuel`, `epoch`, `killed`, or a
//!   custom monitor's name);
//! - `handler_call_duration_seconds`: wall-clock time of every call;
//! - `sandboxes_active{state}`: live sandboxes by state (`runtime` for
//!   `JSSandbox`, `loaded` for `LoadedJSSandbox`);
//! - `capability_denials_total{scope, operation}`: accesses the
//!   permissions policy refused (each also logged with its sandbox and
//!   target).

use std::time::Duration;

use crate::permissions::ScopeName;

/// Counts a call stopped by `reason`.
pub(crate) fn termination(reason: &'static str) {
    tracing::warn!(triggered_by = reason, "a handler call was terminated");
    metrics::counter!("monitor_terminations_total", "monitor_type" => reason).increment(1);
}

/// Counts and logs an access the permissions policy refused.
pub(crate) fn denial(sandbox: u64, scope: ScopeName, operation: &str, target: &str) {
    tracing::warn!(
        sandbox,
        scope = scope.as_str(),
        operation,
        target,
        "the sandbox's permissions denied an access"
    );
    metrics::counter!(
        "capability_denials_total",
        "scope" => scope.as_str(),
        "operation" => operation.to_owned()
    )
    .increment(1);
}

/// Records the duration of a call.
pub(crate) fn call_duration(duration: Duration) {
    metrics::histogram!("handler_call_duration_seconds").record(duration.as_secs_f64());
}

/// Counts a live sandbox in `state` until dropped.
#[derive(Debug)]
pub(crate) struct ActiveSandbox(&'static str);

impl ActiveSandbox {
    pub fn new(state: &'static str) -> Self {
        metrics::gauge!("sandboxes_active", "state" => state).increment(1.0);
        Self(state)
    }
}

impl Drop for ActiveSandbox {
    fn drop(&mut self) {
        metrics::gauge!("sandboxes_active", "state" => self.0).decrement(1.0);
    }
}
