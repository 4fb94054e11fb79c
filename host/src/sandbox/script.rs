//! [`Script`]: JavaScript source for a handler.

use std::path::Path;

use crate::error::{Error, Result};

/// JavaScript source for a handler: an ES module that defines a function
/// named `handler`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    source: String,
}

impl Script {
    /// A script from source text.
    pub fn from_content(source: impl Into<String>) -> Self {
        Self {
            source: source.into(),
        }
    }

    /// A script read from a file. Fails with `ERR_INVALID_ARG` when it cannot
    /// be read.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        std::fs::read_to_string(path)
            .map(Self::from_content)
            .map_err(|e| Error::invalid_arg(format!("cannot read script {}: {e}", path.display())))
    }

    /// The source text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The source text, owned.
    pub fn into_source(self) -> String {
        self.source
    }
}

impl From<&str> for Script {
    fn from(source: &str) -> Self {
        Self::from_content(source)
    }
}

impl From<String> for Script {
    fn from(source: String) -> Self {
        Self::from_content(source)
    }
}
