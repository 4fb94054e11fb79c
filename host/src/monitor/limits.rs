//! [`CallLimits`]: per-call limits given as plain values, as one monitor set.

use std::time::Duration;

use super::{Arming, CpuTimeMonitor, FuelBudget, MonitorSet, WallClockMonitor, sealed};
use crate::error::Result;

/// The limits front ends take as options (the CLI's `--wall-ms`, Node's
/// `wallClockTimeoutMs`), turned into monitors and budgets in one place.
/// Each limit that is set arms its monitor or budget when the call starts;
/// a zero limit is `ERR_INVALID_ARG` then.
///
/// ```
/// # fn main() -> polybox::Result<()> {
/// use std::time::Duration;
///
/// let mut sandbox = polybox::SandboxBuilder::new().build()?.load_runtime()?;
/// sandbox.add_handler("spin", "function handler() { for (;;) {} }")?;
/// let mut loaded = sandbox.get_loaded_sandbox()?;
/// let limits = polybox::CallLimits {
///     cpu_time: Some(Duration::from_millis(20)),
///     ..Default::default()
/// };
/// let error = loaded.handle_event_with_monitor("spin", "{}", &limits, None).unwrap_err();
/// assert_eq!(error.code(), polybox::ErrorCode::Cancelled);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallLimits {
    /// Real time allowed ([`WallClockMonitor`]).
    pub wall_clock: Option<Duration>,
    /// CPU time allowed ([`CpuTimeMonitor`]).
    pub cpu_time: Option<Duration>,
    /// Fuel allowed ([`FuelBudget`]; needs fuel metering).
    pub fuel: Option<u64>,
}

impl sealed::Sealed for CallLimits {}

impl MonitorSet for CallLimits {
    fn arm(&self, arming: &mut Arming) -> Result<()> {
        let monitors = (
            self.wall_clock.map(WallClockMonitor::new).transpose()?,
            self.cpu_time.map(CpuTimeMonitor::new).transpose()?,
            self.fuel.map(FuelBudget::new).transpose()?,
        );
        monitors.arm(arming)
    }
}
