//! Engine budgets: limits enforced inside the engine, at the exact point the
//! budget runs out, with no watcher thread.

use std::time::Duration;

use super::{Arming, MonitorSet, sealed};
use crate::error::{Error, Result};

/// A budget of fuel: roughly one unit per wasm instruction executed.
/// Deterministic: the same call with the same input stops at the same point.
/// Needs [`SandboxBuilder::fuel_metering`](crate::SandboxBuilder::fuel_metering);
/// without it the call fails with `ERR_INVALID_ARG`. Reported as `"fuel"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FuelBudget(u64);

impl FuelBudget {
    /// A budget of `fuel` units; zero is `ERR_INVALID_ARG`.
    pub fn new(fuel: u64) -> Result<Self> {
        if fuel == 0 {
            return Err(Error::invalid_arg(
                "a fuel budget must be greater than zero",
            ));
        }
        Ok(Self(fuel))
    }

    /// The budget in fuel units.
    pub fn fuel(&self) -> u64 {
        self.0
    }
}

impl sealed::Sealed for FuelBudget {}

impl MonitorSet for FuelBudget {
    fn arm(&self, arming: &mut Arming) -> Result<()> {
        arming.fuel(self.0)
    }
}

/// A deadline enforced by wasm-level epoch interruption: the engine checks
/// it at function entries and loop back-edges and stops the call there,
/// without a watcher. The resolution is one epoch tick (1 ms). Reported as
/// `"epoch"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochDeadline(Duration);

impl EpochDeadline {
    /// A deadline `after` the call starts; zero is `ERR_INVALID_ARG`.
    pub fn new(after: Duration) -> Result<Self> {
        if after.is_zero() {
            return Err(Error::invalid_arg(
                "an epoch deadline must be greater than zero",
            ));
        }
        Ok(Self(after))
    }

    /// The time allowed.
    pub fn duration(&self) -> Duration {
        self.0
    }
}

impl sealed::Sealed for EpochDeadline {}

impl MonitorSet for EpochDeadline {
    fn arm(&self, arming: &mut Arming) -> Result<()> {
        arming.epoch(self.0)
    }
}
