//! [`CallStats`]: what the most recent call cost, and what stopped it.

use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::metrics;
use crate::monitor::thread_cpu_time;

/// Statistics of one call: a `handle_event` call, from
/// [`LoadedJSSandbox::last_call_stats`](crate::LoadedJSSandbox::last_call_stats)
/// (replaced on every call, and present when the call failed), or a
/// program's run, in its [`ExecOutput`](crate::ExecOutput).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallStats {
    /// Wall-clock time of the call.
    pub wall_clock: Duration,
    /// CPU time the calling thread used during the call.
    pub cpu_time: Option<Duration>,
    /// Fuel the call consumed, when the sandbox meters fuel.
    pub fuel_consumed: Option<u64>,
    /// What stopped the call: `"wall-clock"`, `"cpu-time"`, `"fuel"`,
    /// `"epoch"`, `"killed"` or a custom monitor's name; `None` when it ran
    /// to completion (successfully or not).
    pub terminated_by: Option<&'static str>,
}

/// Runs the call `f` (which returns its result and the fuel it consumed),
/// measuring it and counting it in the metrics.
pub(crate) fn measure<R>(f: impl FnOnce() -> (Result<R>, Option<u64>)) -> (Result<R>, CallStats) {
    let start = Instant::now();
    let cpu_start = thread_cpu_time();
    let (result, fuel_consumed) = f();
    let wall_clock = start.elapsed();
    let terminated_by = match &result {
        Err(Error::Cancelled(reason)) => Some(*reason),
        _ => None,
    };
    if let Some(reason) = terminated_by {
        metrics::termination(reason);
    }
    metrics::call_duration(wall_clock);
    let stats = CallStats {
        wall_clock,
        cpu_time: cpu_start
            .zip(thread_cpu_time())
            .map(|(start, end)| end.saturating_sub(start)),
        fuel_consumed,
        terminated_by,
    };
    (result, stats)
}
