//! What every state from `load_runtime` on carries: the guest, its
//! interrupt state, and the configuration it was built with.

use std::sync::Arc;

use crate::backend::GuestInstance;
use crate::config::SandboxConfig;
use crate::monitor::InterruptState;

/// The guest and its surroundings, handed from state to state.
pub(crate) struct SandboxCore {
    pub config: SandboxConfig,
    pub guest: Box<dyn GuestInstance>,
    pub interrupt: Arc<InterruptState>,
    /// The configuration's fingerprint; snapshots must match it.
    pub fingerprint: u64,
}
