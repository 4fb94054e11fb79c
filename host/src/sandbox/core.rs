//! What every state from `load_runtime` on carries: the guest, its
//! interrupt state, and the configuration it was built with.

use std::sync::Arc;

use crate::backend::GuestInstance;
use crate::capability::Dispatcher;
use crate::capability::fs::Filesystem;
use crate::config::SandboxConfig;
use crate::error::Result;
use crate::monitor::{self, Arming, Budgets, InterruptState, MonitorSet};

/// The guest and its surroundings, handed from state to state.
pub(crate) struct SandboxCore {
    pub config: SandboxConfig,
    pub guest: Box<dyn GuestInstance>,
    /// The sandbox's capabilities, which serve the guest's imports.
    pub dispatcher: Arc<Dispatcher>,
    pub interrupt: Arc<InterruptState>,
    /// The configuration's fingerprint; snapshots must match it.
    pub fingerprint: u64,
    /// The sandbox's files, which the host may read and write too.
    pub files: Arc<Filesystem>,
}

impl SandboxCore {
    /// An arming with nothing armed: a call bounded only by kills.
    pub fn unarmed(&self) -> Arming {
        Arming::new(self.guest.budget_support())
    }

    /// An arming with `monitor` armed, or its error (a monitor that failed
    /// to start, a budget this backend cannot enforce).
    pub fn armed<M: MonitorSet + ?Sized>(&self, monitor: &M) -> Result<Arming> {
        let mut arming = self.unarmed();
        monitor.arm(&mut arming)?;
        Ok(arming)
    }

    /// Runs `f` on the guest as one call: stoppable through the interrupt
    /// handle, and bounded by `arming`'s deadline and watchers, which kill
    /// it when they fire, and budgets, which `f` hands to the backend with the call's id.
    pub fn bounded<R>(
        &mut self,
        arming: Arming,
        f: impl FnOnce(&mut dyn GuestInstance, u64, Budgets) -> Result<R>,
    ) -> Result<R> {
        let call = self.interrupt.begin_call();
        let (interrupt, id) = (self.interrupt.clone(), call.id());
        let deadline = arming.deadline.map(|(at, reason)| {
            let interrupt = interrupt.clone();
            monitor::arm_deadline(at, move || interrupt.kill_call(id, reason))
        });
        let rechecks: Vec<_> = (arming.rechecks.into_iter())
            .map(|(recheck, reason)| {
                let interrupt = interrupt.clone();
                monitor::arm_recheck(recheck.at, recheck.check, move || {
                    interrupt.kill_call(id, reason)
                })
            })
            .collect();
        let watching = monitor::watch(arming.watchers, move |reason| {
            interrupt.kill_call(id, reason)
        })?;
        let result = f(self.guest.as_mut(), id, arming.budgets);
        drop(watching);
        drop(deadline);
        drop(rechecks);
        drop(call);
        result
    }
}
