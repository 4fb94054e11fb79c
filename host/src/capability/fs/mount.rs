//! [`HostDir`]: a host directory mounted into a sandbox's filesystem.
//!
//! Every access goes through `cap-std`, which resolves paths *beneath* the
//! opened directory (with `openat2(RESOLVE_BENEATH)` where Linux has it): a
//! `..` or a symbolic link (made by the guest or already on the host) that
//! leads out of the mount fails with `EACCES` instead of reaching the host's
//! wider filesystem. Only regular files and directories are read or written:
//! a device, socket or FIFO that happens to lie in the mount is refused.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions};

use super::{Entry, EntryKind, Metadata, WriteMode};
use crate::capability::Refusal;

/// Whether `rel`, a path in a mount, is the mount point itself.
pub fn is_mount_point(rel: &Path) -> bool {
    rel == Path::new(".")
}

/// An opened host directory and whether the guest may write to it.
#[derive(Debug)]
pub struct HostDir {
    dir: Dir,
    /// Where it is on the host, resolved: what an absolute link inside it
    /// that stays inside names.
    root: PathBuf,
    read_only: bool,
}

/// What a link's text says, as a guest may see it.
pub enum LinkText {
    /// A relative target, as written.
    Relative(PathBuf),
    /// An absolute host path inside the mount, relative to its root.
    Inside(PathBuf),
    /// An absolute host path outside the mount: not the guest's to know.
    Outside,
}

/// How many links a resolution follows before it gives up (Linux's limit).
const MAX_LINKS: usize = 40;

impl HostDir {
    /// Opens the host directory `path`.
    pub fn open(path: &Path, read_only: bool) -> std::io::Result<Self> {
        Ok(Self {
            dir: Dir::open_ambient_dir(path, ambient_authority())?,
            root: path.canonicalize()?,
            read_only,
        })
    }

    fn writable(&self) -> Result<(), Refusal> {
        if self.read_only {
            Err(Refusal::with("EROFS", "the mount is read-only"))
        } else {
            Ok(())
        }
    }

    /// What `rel` is; its link itself when `follow` is false.
    pub fn metadata(&self, rel: &Path, follow: bool) -> Result<Metadata, Refusal> {
        let metadata = if follow {
            self.dir.metadata(rel)?
        } else {
            self.dir.symlink_metadata(rel)?
        };
        let kind = if metadata.is_dir() {
            EntryKind::Dir
        } else if metadata.is_symlink() {
            EntryKind::Symlink
        } else if metadata.is_file() {
            EntryKind::File
        } else {
            EntryKind::Other
        };
        Ok(Metadata {
            kind,
            size: metadata.len(),
            modified: metadata
                .modified()
                .map(|t| t.into_std())
                .unwrap_or(std::time::UNIX_EPOCH),
        })
    }

    fn regular_file(&self, rel: &Path) -> Result<(), Refusal> {
        match self.metadata(rel, true)?.kind {
            EntryKind::File => Ok(()),
            EntryKind::Dir => Err(Refusal::new("EISDIR")),
            _ => Err(Refusal::with("EACCES", "not a regular file")),
        }
    }

    /// The bytes of the file `rel`, refused past `max` bytes.
    pub fn read(&self, rel: &Path, max: usize) -> Result<Vec<u8>, Refusal> {
        self.regular_file(rel)?;
        let size = self.metadata(rel, true)?.size;
        if size > max as u64 {
            return Err(Refusal::with(
                "EFBIG",
                format!("the file has {size} bytes; a read is limited to {max}"),
            ));
        }
        Ok(self.dir.read(rel)?)
    }

    /// At most `len` bytes of the file `rel`, from `offset`.
    pub fn read_range(&self, rel: &Path, offset: u64, len: usize) -> Result<Vec<u8>, Refusal> {
        self.regular_file(rel)?;
        let mut file = self.dir.open(rel)?;
        file.seek(SeekFrom::Start(offset))?;
        let mut bytes = Vec::new();
        file.take(len as u64).read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// Writes `bytes` to the file `rel` where `mode` says (refusing an
    /// existing file if `exclusive`).
    pub fn write(
        &self,
        rel: &Path,
        bytes: &[u8],
        mode: WriteMode,
        exclusive: bool,
    ) -> Result<(), Refusal> {
        self.writable()?;
        if let Ok(metadata) = self.metadata(rel, true) {
            if exclusive {
                return Err(Refusal::new("EEXIST"));
            }
            if metadata.kind != EntryKind::File {
                return self.regular_file(rel);
            }
        }
        let mut options = OpenOptions::new();
        options.write(true).create(true);
        match mode {
            WriteMode::Replace => options.truncate(true),
            WriteMode::Append => options.append(true),
            WriteMode::At(_) => &mut options,
        };
        let mut file = self.dir.open_with(rel, &options)?;
        if let WriteMode::At(offset) = mode {
            file.seek(SeekFrom::Start(offset))?;
        }
        file.write_all(bytes)?;
        Ok(())
    }

    /// Cuts or zero-extends the file `rel` to `len` bytes.
    pub fn truncate(&self, rel: &Path, len: u64) -> Result<(), Refusal> {
        self.writable()?;
        self.regular_file(rel)?;
        let file = self.dir.open_with(rel, OpenOptions::new().write(true))?;
        file.set_len(len)?;
        Ok(())
    }

    /// The entries of the directory `rel`.
    pub fn read_dir(&self, rel: &Path) -> Result<Vec<Entry>, Refusal> {
        let mut entries = Vec::new();
        for entry in self.dir.read_dir(rel)? {
            let entry = entry?;
            let file_type = entry.file_type()?;
            let kind = if file_type.is_dir() {
                EntryKind::Dir
            } else if file_type.is_symlink() {
                EntryKind::Symlink
            } else if file_type.is_file() {
                EntryKind::File
            } else {
                EntryKind::Other
            };
            entries.push(Entry {
                name: entry.file_name().to_string_lossy().into_owned(),
                kind,
            });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    /// Creates the directory `rel`.
    pub fn create_dir(&self, rel: &Path) -> Result<(), Refusal> {
        self.writable()?;
        Ok(self.dir.create_dir(rel)?)
    }

    /// Removes the file or empty directory `rel`, or all of it if
    /// `recursive`.
    pub fn remove(&self, rel: &Path, dir: bool, recursive: bool) -> Result<(), Refusal> {
        self.writable()?;
        if is_mount_point(rel) {
            return Err(Refusal::with("EBUSY", "a mount point cannot be removed"));
        }
        let kind = self.metadata(rel, false)?.kind;
        match (kind, dir, recursive) {
            (EntryKind::Dir, _, true) => Ok(self.dir.remove_dir_all(rel)?),
            (_, _, true) | (EntryKind::File | EntryKind::Symlink | EntryKind::Other, false, _) => {
                Ok(self.dir.remove_file(rel)?)
            }
            (EntryKind::Dir, false, _) => Err(Refusal::new("EISDIR")),
            (EntryKind::Dir, true, _) => Ok(self.dir.remove_dir(rel)?),
            (_, true, _) => Err(Refusal::new("ENOTDIR")),
        }
    }

    /// Moves `from` to `to`, both in this mount.
    pub fn rename(&self, from: &Path, to: &Path) -> Result<(), Refusal> {
        self.writable()?;
        if is_mount_point(from) || is_mount_point(to) {
            return Err(Refusal::with("EBUSY", "a mount point cannot be moved"));
        }
        Ok(self.dir.rename(from, &self.dir, to)?)
    }

    /// `rel` with every symbolic link in it resolved, relative to the mount
    /// (`.` for its root); for a path that does not exist yet, its parent
    /// resolved and its name kept. `None` when it cannot be resolved inside
    /// the mount (a link leading out, a loop, a missing parent).
    ///
    /// A dangling link is followed to the file that writing through it
    /// would create: deciding on the link's own name let a guest create a
    /// file in a directory the policy denies.
    pub fn resolve(&self, rel: &Path) -> Option<PathBuf> {
        let mut rel = rel.to_path_buf();
        for _ in 0..MAX_LINKS {
            if let Ok(path) = self.dir.canonicalize(&rel) {
                return Some(path);
            }
            let name = rel.file_name()?.to_owned();
            let parent = rel
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf();
            if self
                .dir
                .symlink_metadata(&rel)
                .is_ok_and(|m| m.is_symlink())
            {
                let target = self.dir.read_link_contents(&rel).ok()?;
                if target.is_absolute() {
                    // cap-std refuses to follow it: it leads out.
                    return None;
                }
                rel = parent.join(target);
                continue;
            }
            return Some(self.dir.canonicalize(&parent).ok()?.join(name));
        }
        None
    }

    /// Where the link `rel` points: relative text as written, an absolute
    /// host path only when it stays inside the mount (then relative to
    /// the mount's root, for the caller to show as a guest path).
    pub fn read_link(&self, rel: &Path) -> Result<LinkText, Refusal> {
        let target = self.dir.read_link_contents(rel)?;
        if target.is_relative() {
            return Ok(LinkText::Relative(target));
        }
        Ok(match target.strip_prefix(&self.root) {
            Ok(inside) => LinkText::Inside(inside.to_path_buf()),
            Err(_) => LinkText::Outside,
        })
    }
}
