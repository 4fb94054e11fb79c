//! [`SharedFiles`]: in-memory files that several sandboxes see as one.

use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use super::tree::Tree;
use crate::permissions::{PathPattern, Rule};

/// The in-memory part of a filesystem (seeded files, `/tmp`, what the host
/// wrote), shared by every sandbox built with it: what one program writes,
/// the next sees, whichever sandbox runs it. Without it each sandbox has
/// its own. Mounts are host directories, so they are shared anyway.
///
/// ```
/// # fn main() -> polybox::Result<()> {
/// use polybox::{ExecOptions, Runtime, SandboxBuilder, SharedFiles};
///
/// let files = SharedFiles::new();
/// let sandbox = SandboxBuilder::new().shared_files(files.clone());
/// let mut a = Runtime::builder().sandbox(sandbox.clone()).build()?;
/// let mut b = Runtime::builder().sandbox(sandbox).build()?;
/// a.exec("require('fs').writeFileSync('/tmp/x', 'from a')", ExecOptions::default())?;
/// let out = b.exec("console.log(require('fs').readFileSync('/tmp/x', 'utf8'))", ExecOptions::default())?;
/// assert_eq!(out.stdout, b"from a\n");
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct SharedFiles(pub(super) Arc<FilesState>);

impl SharedFiles {
    /// Files no sandbox has seen yet: the first sandbox built with them
    /// seeds them.
    pub fn new() -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for SharedFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedFiles").finish_non_exhaustive()
    }
}

/// The tree (`None` until the first sandbox seeds it) and the grants for
/// the files the host wrote into it.
#[derive(Default)]
pub(super) struct FilesState {
    tree: Mutex<Option<Tree>>,
    written: RwLock<Vec<Rule<PathPattern>>>,
}

impl FilesState {
    /// The tree, made and seeded by `seed` if no sandbox did yet.
    pub fn tree(&self) -> MutexGuard<'_, Option<Tree>> {
        self.tree.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The grants for the files the host wrote.
    pub fn written(&self) -> RwLockReadGuard<'_, Vec<Rule<PathPattern>>> {
        self.written.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Drops the grants of the files the host wrote.
    pub fn forget_written(&self) {
        self.written
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Grants guests the file at `path`, which the host wrote.
    pub fn grant_written(&self, rule: Rule<PathPattern>) {
        self.written
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(rule);
    }
}
