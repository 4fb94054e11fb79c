//! [`CallStats`]: what the most recent call cost, and what stopped it.

use std::time::Duration;

/// Statistics of one `handle_event` call, from
/// [`LoadedJSSandbox::last_call_stats`](crate::LoadedJSSandbox::last_call_stats).
/// Replaced on every call, and present when the call failed.
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
