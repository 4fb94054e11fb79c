//! The byte streams of a component's open files (`read-via-stream`,
//! `write-via-stream`, `append-via-stream`): each piece read or written is
//! one operation on the sandbox's [`Filesystem`], decided by its policy like
//! any other.

use std::sync::Arc;

use bytes::Bytes;
use wasmtime_wasi::p2::{InputStream, OutputStream, Pollable, StreamError, StreamResult};

use super::files::{FsFailure, PIECE};
use crate::capability::Refusal;
use crate::capability::fs::{Filesystem, WriteMode};

/// A refused piece, as the stream error whose `filesystem-error-code` the
/// guest asks for.
fn failed(refusal: Refusal) -> StreamError {
    StreamError::LastOperationFailed(wasmtime::Error::new(FsFailure::from(refusal)))
}

/// Reads a file from an offset onwards.
pub(super) struct FileReader {
    pub files: Arc<Filesystem>,
    pub path: String,
    pub offset: u64,
}

#[async_trait::async_trait]
impl Pollable for FileReader {
    async fn ready(&mut self) {}
}

impl InputStream for FileReader {
    fn read(&mut self, size: usize) -> StreamResult<Bytes> {
        let bytes = self
            .files
            .read(&self.path, self.offset, size.min(PIECE))
            .map_err(failed)?;
        if bytes.is_empty() && size > 0 {
            return Err(StreamError::Closed);
        }
        self.offset += bytes.len() as u64;
        Ok(Bytes::from(bytes))
    }
}

/// Writes a file from an offset onwards, or at its end.
pub(super) struct FileWriter {
    pub files: Arc<Filesystem>,
    pub path: String,
    /// Where the next bytes go; `None` appends.
    pub offset: Option<u64>,
}

#[async_trait::async_trait]
impl Pollable for FileWriter {
    async fn ready(&mut self) {}
}

impl OutputStream for FileWriter {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        let mode = self.offset.map_or(WriteMode::Append, WriteMode::At);
        self.files
            .write(&self.path, &bytes, mode, false)
            .map_err(failed)?;
        if let Some(offset) = &mut self.offset {
            *offset += bytes.len() as u64;
        }
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(PIECE)
    }
}
