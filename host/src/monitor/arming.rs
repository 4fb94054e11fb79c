//! What a [`MonitorSet`](super::MonitorSet) arms for one call: watcher
//! futures and engine budgets.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::error::{Error, Result};

/// A watcher: its name and the future that completes to stop the call.
pub(crate) type Watcher = (&'static str, Pin<Box<dyn Future<Output = ()> + Send>>);

/// The watchers armed for a call.
pub(crate) type Watchers = Vec<Watcher>;

/// Engine-enforced limits for one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Budgets {
    /// Instructions the call may execute (fuel units).
    pub fuel: Option<u64>,
    /// Time after which wasm-level interruption stops the call.
    pub epoch: Option<Duration>,
}

/// Collects what a monitor set arms. Its constructor is private to the
/// crate, which is what seals [`MonitorSet`](super::MonitorSet).
pub struct Arming {
    pub(crate) watchers: Watchers,
    pub(crate) budgets: Budgets,
    fuel_available: bool,
}

impl Arming {
    /// An empty arming for a sandbox that does (or does not) meter fuel.
    pub(crate) fn new(fuel_available: bool) -> Self {
        Self {
            watchers: Vec::new(),
            budgets: Budgets::default(),
            fuel_available,
        }
    }

    pub(crate) fn watch(
        &mut self,
        name: &'static str,
        future: impl Future<Output = ()> + Send + 'static,
    ) {
        self.watchers.push((name, Box::pin(future)));
    }

    pub(crate) fn fuel(&mut self, fuel: u64) -> Result<()> {
        if !self.fuel_available {
            return Err(Error::invalid_arg(
                "a fuel budget needs fuel metering; enable it with SandboxBuilder::fuel_metering(true)",
            ));
        }
        // Several budgets of one kind: the tightest wins.
        self.budgets.fuel = Some(self.budgets.fuel.map_or(fuel, |f| f.min(fuel)));
        Ok(())
    }

    pub(crate) fn epoch(&mut self, deadline: Duration) {
        self.budgets.epoch = Some(self.budgets.epoch.map_or(deadline, |d| d.min(deadline)));
    }
}
