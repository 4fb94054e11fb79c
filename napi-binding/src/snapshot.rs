//! The native `Snapshot`: an opaque handle on captured guest state.

use napi_derive::napi;

/// A point-in-time copy of a sandbox's guest state.
#[napi]
pub struct NativeSnapshot {
    pub(crate) snapshot: polybox::Snapshot,
}

impl NativeSnapshot {
    pub fn new(snapshot: polybox::Snapshot) -> Self {
        Self { snapshot }
    }
}
