//! [`Meter`]: one sandbox's call budgets inside wasmtime (the epoch deadline
//! and the fuel), shared by every store a call enters.
//!
//! A call may run code in several stores: the JS guest's or a handler
//! component's, and the stores of the component modules and host components
//! it calls. So the budgets cannot live in any one store. Every entry into a
//! store (a load, a handler call, a nested component call, a declaration)
//! goes through [`Meter::enter`], which gives the store its fuel, arms its
//! epoch check, refuses a call that was already told to stop, and accounts
//! what the store spent; every store's epoch callback is [`Meter::on_epoch`].
//!
//! Fuel: the outermost entries of a call (one for a handler call, one per
//! module and handler for a load) share the call's budget; the entries
//! nested inside them (component calls the guest makes) share a second
//! budget of the same size, and running it out stops the whole call. The
//! call's `fuel_consumed` counts both.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use wasmtime::{Store, Trap, UpdateDeadline};

use super::ticker;
use crate::error::{Error, Result};
use crate::monitor::{Budgets, InterruptState};

/// Why the epoch callback stopped a call: a monitor's name, `"killed"` or
/// `"epoch"`.
#[derive(Debug)]
pub(super) struct Stopped(pub &'static str);

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stopped by {}", self.0)
    }
}

impl std::error::Error for Stopped {}

/// One sandbox's budgets, shared by all its stores.
pub(super) struct Meter {
    interrupt: Arc<InterruptState>,
    /// Whether the engine's stores count fuel.
    metering: bool,
    budget: Mutex<CallBudget>,
}

/// The budgets of the call armed now, and what it has spent.
struct CallBudget {
    /// The call's id; 0 while no call is armed.
    call: u64,
    /// When the call's epoch deadline passes.
    deadline: Option<Instant>,
    /// Fuel the outermost entries may still spend (`u64::MAX`: no budget).
    outer_left: u64,
    /// Fuel the nested entries may still spend, together.
    nested_left: u64,
    /// Fuel spent by all entries.
    spent: u64,
    /// Entries in progress.
    depth: u32,
}

impl Default for CallBudget {
    fn default() -> Self {
        Self {
            call: 0,
            deadline: None,
            outer_left: u64::MAX,
            nested_left: u64::MAX,
            spent: 0,
            depth: 0,
        }
    }
}

impl Meter {
    /// A meter for a sandbox whose engine counts fuel if `metering`.
    pub fn new(interrupt: Arc<InterruptState>, metering: bool) -> Self {
        Self {
            interrupt,
            metering,
            budget: Mutex::default(),
        }
    }

    /// The sandbox's interrupt state, which tells whose call runs and
    /// whether it was stopped.
    pub fn interrupt(&self) -> &Arc<InterruptState> {
        &self.interrupt
    }

    fn budget(&self) -> MutexGuard<'_, CallBudget> {
        self.budget.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Arms `budgets` for call `id` until the returned guard drops; while it
    /// lives the epoch ticker runs if the call has a deadline.
    pub fn arm(self: &Arc<Self>, id: u64, budgets: Budgets) -> Armed {
        let fuel = budgets.fuel.unwrap_or(u64::MAX);
        *self.budget() = CallBudget {
            call: id,
            deadline: budgets.epoch.map(|after| Instant::now() + after),
            outer_left: fuel,
            nested_left: fuel,
            spent: 0,
            depth: 0,
        };
        Armed {
            meter: self.clone(),
            _ticking: budgets.epoch.map(|_| ticker::Deadline::hold()),
        }
    }

    /// When the armed call's epoch deadline passes, if it has one.
    pub fn deadline(&self) -> Option<Instant> {
        self.budget().deadline
    }

    /// Enters `store` to run `f` as part of the armed call (or outside any
    /// call): gives the store its fuel, arms its epoch check, and refuses
    /// with `ERR_CANCELLED` if the call was already told to stop. Returns
    /// `f`'s result, whose `Err` is a trap.
    pub fn enter<T, R>(
        &self,
        store: &mut Store<T>,
        f: impl FnOnce(&mut Store<T>) -> wasmtime::Result<R>,
    ) -> Result<wasmtime::Result<R>> {
        let (call, fuel, nested) = {
            let mut budget = self.budget();
            budget.depth += 1;
            let nested = budget.depth > 1;
            let fuel = if nested {
                budget.nested_left
            } else {
                budget.outer_left
            };
            (budget.call, fuel, nested)
        };
        let _entered = Entered(self);
        if self.metering {
            store.set_fuel(fuel).map_err(internal)?;
        }
        // Arm the epoch check before looking for a stop that came early: a
        // stop after this point advances the epoch past it.
        store.set_epoch_deadline(1);
        self.interrupt.check(call)?;
        let result = f(store);
        if self.metering {
            let spent = fuel.saturating_sub(store.get_fuel().unwrap_or(0));
            // Outside calls, fuel is unlimited.
            store.set_fuel(u64::MAX).map_err(internal)?;
            let mut budget = self.budget();
            budget.spent = budget.spent.saturating_add(spent);
            let left = if nested {
                &mut budget.nested_left
            } else {
                &mut budget.outer_left
            };
            *left = left.saturating_sub(spent);
        }
        if nested
            && let Err(trap) = &result
            && trap.downcast_ref::<Trap>() == Some(&Trap::OutOfFuel)
        {
            // The nested budget is the whole call's: stop the caller too.
            self.interrupt.kill_call(call, "fuel");
        }
        Ok(result)
    }

    /// The epoch callback of every store of the sandbox, called whenever the
    /// engine's epoch advances (a kill, or the ticker while deadlines are
    /// pending): stops the running call if it was told to or is past its
    /// deadline.
    pub fn on_epoch(&self) -> wasmtime::Result<UpdateDeadline> {
        if let Some(reason) = self.interrupt.stop_requested() {
            return Err(Stopped(reason).into());
        }
        let deadline = self.budget().deadline;
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return Err(Stopped("epoch").into());
        }
        Ok(UpdateDeadline::Continue(1))
    }
}

/// A call's armed budgets; disarmed when dropped.
pub(super) struct Armed {
    meter: Arc<Meter>,
    _ticking: Option<ticker::Deadline>,
}

impl Armed {
    /// Fuel the call has consumed in all its stores, when fuel is metered.
    pub fn consumed(&self) -> Option<u64> {
        self.meter.metering.then(|| self.meter.budget().spent)
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        *self.meter.budget() = CallBudget::default();
    }
}

/// An entry in progress; leaves when dropped.
struct Entered<'a>(&'a Meter);

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        let mut budget = self.0.budget();
        budget.depth = budget.depth.saturating_sub(1);
    }
}

fn internal(error: wasmtime::Error) -> Error {
    Error::Internal(format!("{error:#}"))
}
