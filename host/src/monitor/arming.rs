//! What a [`MonitorSet`](super::MonitorSet) arms for one call: watcher
//! futures and engine budgets.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use super::Recheck;
use crate::error::{Error, Result};

/// A watcher: a future that completes, with the watcher's name, to stop
/// the call.
pub(crate) type Watcher = Pin<Box<dyn Future<Output = &'static str> + Send>>;

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

/// Which engine budgets a sandbox can enforce: `Err` says why not.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BudgetSupport {
    pub fuel: Result<(), &'static str>,
    pub epoch: Result<(), &'static str>,
}

/// Collects what a monitor set arms. Its constructor is private to the
/// crate, which is what seals [`MonitorSet`](super::MonitorSet).
pub struct Arming {
    pub(crate) watchers: Watchers,
    /// The earliest deadline armed, and the name of its monitor.
    pub(crate) deadline: Option<(Instant, &'static str)>,
    /// Deadlines a clock can move, with their monitors' names.
    pub(crate) rechecks: Vec<(Recheck, &'static str)>,
    pub(crate) budgets: Budgets,
    support: BudgetSupport,
}

impl Arming {
    /// An empty arming for a sandbox that supports the given budgets.
    pub(crate) fn new(support: BudgetSupport) -> Self {
        Self {
            watchers: Vec::new(),
            deadline: None,
            rechecks: Vec::new(),
            budgets: Budgets::default(),
            support,
        }
    }

    pub(crate) fn watch(
        &mut self,
        name: &'static str,
        future: impl Future<Output = ()> + Send + 'static,
    ) {
        self.watchers.push(Box::pin(async move {
            future.await;
            name
        }));
    }

    pub(crate) fn deadline(&mut self, name: &'static str, at: Instant) {
        // Several deadlines: the earliest wins.
        if self.deadline.is_none_or(|(earliest, _)| at < earliest) {
            self.deadline = Some((at, name));
        }
    }

    pub(crate) fn recheck(&mut self, name: &'static str, recheck: Recheck) {
        self.rechecks.push((recheck, name));
    }

    pub(crate) fn fuel(&mut self, fuel: u64) -> Result<()> {
        self.support.fuel.map_err(Error::invalid_arg)?;
        // Several budgets of one kind: the tightest wins.
        self.budgets.fuel = Some(self.budgets.fuel.map_or(fuel, |f| f.min(fuel)));
        Ok(())
    }

    pub(crate) fn epoch(&mut self, deadline: Duration) -> Result<()> {
        self.support.epoch.map_err(Error::invalid_arg)?;
        self.budgets.epoch = Some(self.budgets.epoch.map_or(deadline, |d| d.min(deadline)));
        Ok(())
    }
}
