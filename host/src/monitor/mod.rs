//! Monitors: what can stop a call, and how they compose.
//!
//! # Why two traits?
//!
//! Users write monitors; the library composes them. [`ExecutionMonitor`] is
//! the part users implement: a name, and a future that completes when the
//! call should die. [`MonitorSet`] is what
//! [`handle_event_with_monitor`](crate::LoadedJSSandbox::handle_event_with_monitor)
//! accepts: any single monitor, an engine budget, or a tuple of up to five of
//! them racing with OR semantics. It is sealed because composing means
//! arming engine state (fuel, epoch deadlines) that only this crate knows how
//! to set; a blanket impl makes every `ExecutionMonitor` a `MonitorSet`.
//!
//! # Two kinds of limit, one report
//!
//! - *Watchers* run beside the call on a shared runtime and kill it when their
//!   future completes: any [`ExecutionMonitor`]. A monitor that is only a
//!   point in time ([`WallClockMonitor`]) says so
//!   ([`ExecutionMonitor::deadline`]), and one that can tell from a clock
//!   when to look again ([`CpuTimeMonitor`]) says that
//!   ([`ExecutionMonitor::recheck`]): both are armed on one timer thread
//!   instead (`deadlines.rs`), which costs a call no thread wake-up. Their
//!   `get_monitor()` (or `recheck()`) runs on the calling thread first, so
//!   it can capture thread-local state (the CPU clock of the thread that
//!   will run the guest). If any fails, the handler never runs.
//! - *Budgets* are enforced by the engine, at the exact point they run out:
//!   [`FuelBudget`] (instructions) and [`EpochDeadline`] (wasm-level
//!   interruption, no watcher).
//!
//! Whatever stops a call is named in
//! [`CallStats::terminated_by`](crate::CallStats::terminated_by) and counted
//! in the `monitor_terminations_total{monitor_type}` metric.

mod arming;
mod budget;
mod cpu_time;
mod deadlines;
pub(crate) mod host_time;
mod interrupt;
mod limits;
mod runtime;
mod wall_clock;

use std::future::Future;
use std::time::Instant;

pub(crate) use arming::{Arming, BudgetSupport, Budgets, Watchers};
pub use budget::{EpochDeadline, FuelBudget};
pub use cpu_time::CpuTimeMonitor;
pub(crate) use cpu_time::thread_cpu_time;
pub(crate) use deadlines::{arm as arm_deadline, arm_checked as arm_recheck};
pub use interrupt::InterruptHandle;
pub(crate) use interrupt::InterruptState;
pub use limits::CallLimits;
pub use runtime::sleep;
pub(crate) use runtime::watch;
pub use wall_clock::WallClockMonitor;

use crate::error::Result;

/// A user-defined monitor: a future that completes when the call must stop.
///
/// ```
/// use std::future::Future;
/// use std::time::Duration;
///
/// /// Stops a call after a fixed time, checking every 10 ms.
/// struct Patience(Duration);
///
/// impl polybox::ExecutionMonitor for Patience {
///     fn get_monitor(&self) -> polybox::Result<impl Future<Output = ()> + Send + 'static> {
///         let limit = self.0;
///         Ok(async move {
///             let mut waited = Duration::ZERO;
///             while waited < limit {
///                 polybox::monitor::sleep(Duration::from_millis(10)).await;
///                 waited += Duration::from_millis(10);
///             }
///         })
///     }
///
///     fn name(&self) -> &'static str {
///         "patience"
///     }
/// }
/// ```
pub trait ExecutionMonitor {
    /// Runs on the thread that will run the guest, just before it does, and
    /// returns a future for the shared monitor runtime. The future stays
    /// pending while all is well and completes to stop the call; it is dropped
    /// when the call ends first. An `Err` means the handler never runs.
    fn get_monitor(&self) -> Result<impl Future<Output = ()> + Send + 'static>;

    /// The name reported in `CallStats::terminated_by` and metrics.
    fn name(&self) -> &'static str;

    /// For a monitor that does nothing but stop the call at a point in
    /// time: that point, computed as the call is armed. The call is then
    /// bounded by the process's deadline timer instead of a watcher task
    /// (no thread is woken per call), and `get_monitor` is not called.
    fn deadline(&self) -> Option<Instant> {
        None
    }

    /// For a monitor that can tell from a clock when to look again (a CPU
    /// budget: it cannot run out before the wall-clock time it has left):
    /// when to look first, and the look. The look runs on the process's
    /// deadline timer, not on the guest's thread, and returns when to look
    /// next, or `None` to stop the call. Like [`deadline`](Self::deadline),
    /// this costs a call no thread wake-up, and `get_monitor` is not called.
    /// Runs on the thread that will run the guest, as `get_monitor` would.
    fn recheck(&self) -> Result<Option<Recheck>> {
        Ok(None)
    }
}

/// What [`ExecutionMonitor::recheck`] arms.
pub struct Recheck {
    /// When to look first.
    pub at: Instant,
    /// The look: when to look next, or `None` to stop the call now.
    pub check: Box<dyn FnMut() -> Option<Instant> + Send>,
}

mod sealed {
    pub trait Sealed {}
}

/// Anything `handle_event_with_monitor` accepts: one monitor or budget, or a
/// tuple of up to five racing with OR semantics. Sealed; implement
/// [`ExecutionMonitor`] instead.
pub trait MonitorSet: sealed::Sealed {
    /// Adds this set's watchers and budgets to `arming`.
    #[doc(hidden)]
    fn arm(&self, arming: &mut Arming) -> Result<()>;
}

impl<M: ExecutionMonitor> sealed::Sealed for M {}

impl<M: ExecutionMonitor> MonitorSet for M {
    fn arm(&self, arming: &mut Arming) -> Result<()> {
        if let Some(at) = self.deadline() {
            arming.deadline(self.name(), at);
        } else if let Some(recheck) = self.recheck()? {
            arming.recheck(self.name(), recheck);
        } else {
            arming.watch(self.name(), self.get_monitor()?);
        }
        Ok(())
    }
}

/// An optional monitor: `None` arms nothing. Handy for limits that are
/// configured at run time, e.g. `(Some(wall), None::<CpuTimeMonitor>)`.
impl<M: MonitorSet> sealed::Sealed for Option<M> {}

impl<M: MonitorSet> MonitorSet for Option<M> {
    fn arm(&self, arming: &mut Arming) -> Result<()> {
        match self {
            Some(monitor) => monitor.arm(arming),
            None => Ok(()),
        }
    }
}

macro_rules! tuple_monitor_sets {
    ($($name:ident)+) => {
        impl<$($name: MonitorSet),+> sealed::Sealed for ($($name,)+) {}

        impl<$($name: MonitorSet),+> MonitorSet for ($($name,)+) {
            #[allow(non_snake_case)]
            fn arm(&self, arming: &mut Arming) -> Result<()> {
                let ($($name,)+) = self;
                $($name.arm(arming)?;)+
                Ok(())
            }
        }
    };
}

tuple_monitor_sets!(A);
tuple_monitor_sets!(A B);
tuple_monitor_sets!(A B C);
tuple_monitor_sets!(A B C D);
tuple_monitor_sets!(A B C D E);
