//! Metrics, through the `metrics` facade: install any recorder (for example
//! `metrics-exporter-prometheus`) to collect them.
//!
//! - `monitor_terminations_total{monitor_type}`: calls stopped, by what
//!   stopped them (`wall-clock`, `cpu-time`, `fuel`, `epoch`, `killed`, or a
//!   custom monitor's name);
//! - `handler_call_duration_seconds`: wall-clock time of every call;
//! - `sandboxes_active{state}`: live sandboxes by state (`runtime` for
//!   `JSSandbox`, `loaded` for `LoadedJSSandbox`).

use std::time::Duration;

/// Counts a call stopped by `reason`.
pub(crate) fn termination(reason: &'static str) {
    tracing::warn!(triggered_by = reason, "a handler call was terminated");
    metrics::counter!("monitor_terminations_total", "monitor_type" => reason).increment(1);
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
