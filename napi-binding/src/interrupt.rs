//! The native `InterruptHandle`: `kill()` from the main thread.

use napi_derive::napi;

/// Stops the sandbox's running call; does nothing while it is idle.
#[napi]
pub struct NativeInterruptHandle {
    handle: polybox::InterruptHandle,
}

impl NativeInterruptHandle {
    pub fn new(handle: polybox::InterruptHandle) -> Self {
        Self { handle }
    }
}

#[napi]
impl NativeInterruptHandle {
    #[napi]
    pub fn kill(&self) {
        self.handle.kill();
    }
}
