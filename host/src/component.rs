//! [`WasmComponent`]: a WebAssembly component a user supplies, as a handler,
//! a module for JavaScript, or a host-import provider.

use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A WebAssembly component's bytes, from a file or from memory. It is
/// compiled (once per content) and checked when the sandbox loads it.
#[derive(Clone)]
pub struct WasmComponent {
    bytes: Arc<[u8]>,
    digest: [u8; 32],
    name: String,
}

impl WasmComponent {
    /// A component read from `path`. Fails with `ERR_INVALID_ARG` when it
    /// cannot be read.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| {
            Error::invalid_arg(format!("cannot read component {}: {e}", path.display()))
        })?;
        Ok(Self::new(bytes, path.display().to_string()))
    }

    /// A component from its bytes.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        let bytes: Vec<u8> = bytes.into();
        let name = format!("a component of {} bytes", bytes.len());
        Self::new(bytes, name)
    }

    fn new(bytes: Vec<u8>, name: String) -> Self {
        let digest = Sha256::digest(&bytes).into();
        Self {
            bytes: bytes.into(),
            digest,
            name,
        }
    }

    /// The same component, named `name` in messages (a path, say).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The component's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The SHA-256 of its bytes.
    pub(crate) fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// Where it came from, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Debug for WasmComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmComponent")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}
