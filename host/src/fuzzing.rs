//! Entry points for the fuzz targets in `fuzz/`, built only by cargo-fuzz
//! (`--cfg fuzzing`): what a target needs to reach below the public API
//! millions of times a minute.

use std::sync::Arc;

use crate::capability::fs::{Filesystem, FsConfig, Mount};
use crate::capability::host_functions::CallContext;
use crate::capability::{HostCallError, Provider};
use crate::error::Result;
use crate::monitor::InterruptState;
use crate::permissions::Permissions;

/// A sandbox's filesystem alone: guest calls to `polybox:fs`, decided by
/// the policy, as a program's `fs` makes them.
pub struct FsHarness {
    files: Filesystem,
    interrupt: Arc<InterruptState>,
}

impl FsHarness {
    /// A filesystem with `mounts` and seeded `files`, under `permissions`.
    pub fn new(
        mounts: Vec<Mount>,
        files: Vec<(String, Vec<u8>)>,
        permissions: Permissions,
    ) -> Result<Self> {
        let config = FsConfig {
            files,
            mounts,
            ..FsConfig::default()
        };
        config.validate()?;
        Ok(Self {
            files: Filesystem::new(&Arc::new(config), Arc::new(permissions), 0)?,
            interrupt: Arc::default(),
        })
    }

    /// Calls `function` of `polybox:fs` with `args` (a JSON array); returns
    /// the JSON answer, or the failed call's message.
    pub fn call(&self, function: &str, args: &str) -> String {
        match self
            .files
            .call(function, args, &CallContext::new(&self.interrupt))
        {
            Ok(answer) => answer,
            Err(HostCallError::Failed(message) | HostCallError::TypeMismatch(message)) => message,
        }
    }
}
