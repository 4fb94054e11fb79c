//! [`Snapshot`]: a point-in-time copy of a sandbox's guest state.
//!
//! A snapshot holds the guest's whole state (every JavaScript object, module
//! and handler) and the names of the loaded handlers. Host functions are not
//! in it: they live in the host, so restoring never touches them. A snapshot
//! can be restored into the sandbox that took it or into any sandbox with
//! the same configuration (backend, sizes, fuel metering, host function
//! names); restoring clears poison.

use std::collections::BTreeSet;
use std::fmt;

use crate::backend::GuestImage;

/// A captured guest state; cheap to clone.
///
/// It holds the guest's whole state (every JavaScript object, module and
/// handler) and the names of the loaded handlers, but not host functions,
/// which live in the host. It restores into the sandbox that took it or
/// into any sandbox with the same configuration (backend, sizes, fuel
/// metering, host function names); restoring clears poison.
#[derive(Clone)]
pub struct Snapshot {
    pub(crate) fingerprint: u64,
    pub(crate) handlers: BTreeSet<String>,
    pub(crate) image: GuestImage,
}

impl Snapshot {
    /// The handlers loaded when the snapshot was taken.
    pub fn handlers(&self) -> impl Iterator<Item = &str> {
        self.handlers.iter().map(String::as_str)
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("handlers", &self.handlers)
            .finish_non_exhaustive()
    }
}
