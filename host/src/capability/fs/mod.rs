//! The filesystem capability: what a sandbox's guests see as files.
//!
//! # Why a virtual filesystem
//!
//! A guest must never reach the host's files by accident. So a sandbox has
//! its own tree, made only of what its builder put there:
//!
//! - **seeded files** ([`SandboxBuilder::file`](crate::SandboxBuilder::file)),
//!   **`/tmp`** and the directories leading to mount points, in host memory
//!   (`tree.rs`), with a cap on their total size;
//! - **mounts** ([`Mount`]): host directories at guest paths, read-only or
//!   writable, reached only through `cap-std` so that nothing leads out of
//!   them (`mount.rs`).
//!
//! Every operation is decided by the sandbox's
//! [`Permissions`](crate::permissions::Permissions) (the `fs`
//! scope) on the host side, after the guest path is normalised (`path.rs`).
//! What the builder configured grants itself first (a read-only mount grants
//! reading it, `/tmp` and seeded files everything, and anything may be
//! listed or examined); the caller's rules come after and can narrow it. A
//! denial is `EACCES` for the guest, a `capability_denials_total` metric and
//! a log line naming the sandbox, the operation and the path.
//!
//! Guests reach it through the internal module `polybox:fs`
//! (`provider.rs`), which the JavaScript guest's `node:fs` calls.

mod mount;
mod path;
mod provider;
mod shared;
mod tree;

pub(crate) use provider::{Filesystem, Removal};
pub use shared::SharedFiles;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use super::{Capability, Installer};
use crate::error::{Error, Result};

/// The largest total of a sandbox's in-memory files by default: 64 MiB.
pub const DEFAULT_FS_MEMORY_LIMIT: usize = 64 * 1024 * 1024;

/// The specifier guests call the filesystem through.
pub(crate) const SPECIFIER: &str = "polybox:fs";

/// A host directory that appears in the sandbox at a guest path.
///
/// ```no_run
/// # fn main() -> polybox::Result<()> {
/// use polybox::{Mount, SandboxBuilder};
///
/// let builder = SandboxBuilder::new()
///     .mount(Mount::read_only("/input", "/srv/job/input"))
///     .mount(Mount::read_write("/output", "/srv/job/output"));
/// # let _ = builder; Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Where the guest sees it: an absolute guest path.
    pub guest_path: String,
    /// The host directory.
    pub host_path: PathBuf,
    /// Whether guests may only read it.
    pub read_only: bool,
    /// Whether programs may only import modules from it: `fs` cannot read
    /// it (as `polybox exec FILE` mounts FILE's directory).
    pub modules_only: bool,
}

impl Mount {
    /// `host_path` at `guest_path`, readable only.
    pub fn read_only(guest_path: impl Into<String>, host_path: impl Into<PathBuf>) -> Self {
        Self {
            guest_path: guest_path.into(),
            host_path: host_path.into(),
            read_only: true,
            modules_only: false,
        }
    }

    /// `host_path` at `guest_path`, for programs to import modules from:
    /// read-only, and not readable through `fs` unless the permissions
    /// grant it.
    pub fn modules(guest_path: impl Into<String>, host_path: impl Into<PathBuf>) -> Self {
        Self {
            modules_only: true,
            ..Self::read_only(guest_path, host_path)
        }
    }

    /// `host_path` at `guest_path`, readable and writable.
    pub fn read_write(guest_path: impl Into<String>, host_path: impl Into<PathBuf>) -> Self {
        Self {
            read_only: false,
            ..Self::read_only(guest_path, host_path)
        }
    }
}

/// What a sandbox's filesystem is made of, as the builder collects it.
#[derive(Debug, Clone)]
pub(crate) struct FsConfig {
    pub files: Vec<(String, Vec<u8>)>,
    pub mounts: Vec<Mount>,
    pub memory_limit: usize,
    /// In-memory files shared with other sandboxes, if any.
    pub shared: Option<SharedFiles>,
}

impl Default for FsConfig {
    fn default() -> Self {
        Self {
            files: Vec::new(),
            mounts: Vec::new(),
            memory_limit: DEFAULT_FS_MEMORY_LIMIT,
            shared: None,
        }
    }
}

impl FsConfig {
    /// Checks the guest paths and that every mount's host directory exists
    /// (`ERR_INVALID_ARG` naming what is wrong).
    pub fn validate(&self) -> Result<()> {
        let guest_path = |what: &str, p: &str| {
            path::normalize(p).ok_or_else(|| {
                Error::invalid_arg(format!("{what} {p:?} is not an absolute guest path"))
            })
        };
        let mut seen = Vec::new();
        for mount in &self.mounts {
            let at = guest_path("the mount point", &mount.guest_path)?;
            if at == "/" || at == "/tmp" {
                return Err(Error::invalid_arg(format!(
                    "nothing can be mounted at {at:?}"
                )));
            }
            if seen.contains(&at) {
                return Err(Error::invalid_arg(format!("two mounts at {at:?}")));
            }
            if !mount.host_path.is_dir() {
                return Err(Error::invalid_arg(format!(
                    "the mount at {at:?}: {:?} is not a host directory",
                    mount.host_path
                )));
            }
            seen.push(at);
        }
        for (file, _) in &self.files {
            let at = guest_path("the file", file)?;
            if seen.iter().any(|m| path::is_within(&at, m)) {
                return Err(Error::invalid_arg(format!(
                    "the file {at:?} lies in a mount; write it to the host directory instead"
                )));
            }
        }
        Ok(())
    }
}

/// What a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryKind {
    File,
    Dir,
    Symlink,
    /// A device, socket or FIFO on a mount: listed, never opened.
    Other,
}

impl EntryKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Dir => "dir",
            Self::Symlink => "symlink",
            Self::Other => "other",
        }
    }
}

/// Where a write puts its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteMode {
    /// In place of what the file held.
    Replace,
    /// After what it holds.
    Append,
    /// At this offset, over what is there (zero-filling a gap).
    At(u64),
}

/// What `stat` tells.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Metadata {
    pub kind: EntryKind,
    pub size: u64,
    pub modified: SystemTime,
}

/// One entry of a directory.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub name: String,
    pub kind: EntryKind,
}

/// Serves a sandbox's filesystem to its guests as `polybox:fs`.
pub(crate) struct FsCapability(pub Arc<Filesystem>);

impl Capability for FsCapability {
    fn install(&self, sandbox: &mut Installer<'_>) -> Result<()> {
        sandbox
            .components
            .grant(super::ComponentGrant::Files(self.0.clone()));
        sandbox.dispatcher.serve_internal(SPECIFIER, self.0.clone())
    }
}
