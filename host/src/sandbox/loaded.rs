//! [`LoadedJSSandbox`]: call handlers.

use std::collections::BTreeSet;

use super::JSSandbox;
use crate::backend::GuestInstance;
use crate::config::SandboxConfig;
use crate::error::{Error, Result};

/// A sandbox with its handlers loaded, ready for events.
pub struct LoadedJSSandbox {
    config: SandboxConfig,
    guest: Box<dyn GuestInstance>,
    handlers: BTreeSet<String>,
}

impl LoadedJSSandbox {
    pub(crate) fn new(
        config: SandboxConfig,
        guest: Box<dyn GuestInstance>,
        handlers: BTreeSet<String>,
    ) -> Self {
        Self {
            config,
            guest,
            handlers,
        }
    }

    /// Calls handler `name` with `event` (JSON text) and returns its result as
    /// JSON text. An async handler's promise is awaited. The garbage
    /// collector runs afterwards unless `gc` is `Some(false)`.
    ///
    /// Fails with `ERR_INVALID_ARG` for an unknown handler, invalid JSON, or
    /// an event or result larger than the input or output buffer, and with
    /// `ERR_GUEST_ERROR` when the handler throws or returns something that is
    /// not JSON.
    pub fn handle_event(
        &mut self,
        name: &str,
        event: impl AsRef<str>,
        gc: Option<bool>,
    ) -> Result<String> {
        let event = event.as_ref();
        if !self.handlers.contains(name) {
            return Err(Error::invalid_arg(format!(
                "no handler is registered as {name:?}; loaded handlers: {:?}",
                self.handlers
            )));
        }
        if event.len() > self.config.input_buffer_size {
            return Err(Error::invalid_arg(format!(
                "the event is {} bytes, more than the input buffer's {} bytes; raise it with SandboxBuilder::input_buffer_size",
                event.len(),
                self.config.input_buffer_size
            )));
        }
        let result = self.guest.call_handler(name, event, gc.unwrap_or(true))?;
        if result.len() > self.config.output_buffer_size {
            return Err(Error::invalid_arg(format!(
                "the result is {} bytes, more than the output buffer's {} bytes; raise it with SandboxBuilder::output_buffer_size",
                result.len(),
                self.config.output_buffer_size
            )));
        }
        Ok(result)
    }

    /// The names of the loaded handlers.
    pub fn handlers(&self) -> impl Iterator<Item = &str> {
        self.handlers.iter().map(String::as_str)
    }

    /// Unloads every handler and module and discards all guest state,
    /// returning a fresh [`JSSandbox`] with the same host functions.
    pub fn unload(mut self) -> Result<JSSandbox> {
        self.guest.reset()?;
        Ok(JSSandbox::new(self.config, self.guest))
    }
}

impl std::fmt::Debug for LoadedJSSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedJSSandbox")
            .field("backend", &self.config.backend)
            .field("handlers", &self.handlers)
            .finish_non_exhaustive()
    }
}
