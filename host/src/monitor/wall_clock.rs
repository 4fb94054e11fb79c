//! [`WallClockMonitor`]: stop a call after a span of real time.

use std::future::Future;
use std::time::{Duration, Instant};

use super::ExecutionMonitor;
use crate::error::{Error, Result};

/// Stops a call once `timeout` of wall-clock time has passed since it
/// started. Catches guests that hold the host without burning CPU (for
/// example, blocked in a slow host function). Reported as `"wall-clock"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallClockMonitor {
    timeout: Duration,
}

impl WallClockMonitor {
    /// A monitor for `timeout`; zero is `ERR_INVALID_ARG`.
    pub fn new(timeout: Duration) -> Result<Self> {
        if timeout.is_zero() {
            return Err(Error::invalid_arg(
                "a wall-clock timeout must be greater than zero",
            ));
        }
        Ok(Self { timeout })
    }

    /// The time allowed.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// When a call armed now must stop: a timeout too long for the clock
    /// to express (`Duration::MAX`) is a century.
    fn deadline_from_now(&self) -> Instant {
        let now = Instant::now();
        now.checked_add(self.timeout)
            .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
    }
}

impl ExecutionMonitor for WallClockMonitor {
    fn get_monitor(&self) -> Result<impl Future<Output = ()> + Send + 'static> {
        let deadline = self.deadline_from_now();
        Ok(async move { tokio::time::sleep_until(deadline.into()).await })
    }

    fn name(&self) -> &'static str {
        "wall-clock"
    }

    fn deadline(&self) -> Option<Instant> {
        Some(self.deadline_from_now())
    }
}
