//! [`Tree`]: the part of a sandbox's filesystem that lives in host memory:
//! seeded files, `/tmp`, and the directories leading to mount points. A
//! sandbox's files are host state: they outlive its calls and programs and
//! are never part of a snapshot.
//!
//! What they hold is host memory, so all of it counts against the cap:
//! each entry costs [`ENTRY_COST`] and its name besides its bytes, and there
//! are at most [`MAX_ENTRIES`]. (Counting file bytes alone let a guest make
//! 200,000 directories with long names past a full cap: 71 MB of host
//! memory that outlived its calls.)

use std::collections::BTreeMap;
use std::time::SystemTime;

use super::path::split;
use super::{Entry, EntryKind, Metadata, WriteMode};
use crate::capability::Refusal;

/// What an entry costs besides its name and bytes (the node, the map
/// entry, the name's allocation).
pub const ENTRY_COST: usize = 128;

/// The most entries (files and directories) the tree holds.
pub const MAX_ENTRIES: usize = 100_000;

/// What the entry `name` holding `node` costs, all below it included.
fn weight(name: &str, node: &Node) -> usize {
    ENTRY_COST
        + name.len()
        + match node {
            Node::File { bytes, .. } => bytes.len(),
            Node::Dir { children, .. } => children.iter().map(|(n, c)| weight(n, c)).sum(),
        }
}

/// How many entries `node` is, itself included.
fn count(node: &Node) -> usize {
    match node {
        Node::File { .. } => 1,
        Node::Dir { children, .. } => 1 + children.values().map(count).sum::<usize>(),
    }
}

/// A node of the tree.
#[derive(Debug)]
enum Node {
    File {
        bytes: Vec<u8>,
        modified: SystemTime,
    },
    Dir {
        children: BTreeMap<String, Node>,
        modified: SystemTime,
    },
}

impl Node {
    fn dir() -> Self {
        Self::Dir {
            children: BTreeMap::new(),
            modified: SystemTime::now(),
        }
    }

    fn metadata(&self) -> Metadata {
        match self {
            Self::File { bytes, modified } => Metadata {
                kind: EntryKind::File,
                size: bytes.len() as u64,
                modified: *modified,
            },
            Self::Dir { modified, .. } => Metadata {
                kind: EntryKind::Dir,
                size: 0,
                modified: *modified,
            },
        }
    }
}

/// The in-memory files of one sandbox, with a cap on their total size.
#[derive(Debug)]
pub struct Tree {
    root: Node,
    /// Bytes charged: contents, names and [`ENTRY_COST`] per entry.
    used: usize,
    capacity: usize,
    /// Entries below the root.
    entries: usize,
}

impl Tree {
    /// An empty tree (just `/`) that holds at most `capacity` bytes.
    pub fn new(capacity: usize) -> Self {
        Self {
            root: Node::dir(),
            used: 0,
            capacity,
            entries: 0,
        }
    }

    /// Refuses growing to `used` bytes and `entries` entries past the caps.
    fn fits(&self, used: usize, entries: usize) -> Result<(), Refusal> {
        if used > self.capacity {
            return Err(Refusal::with(
                "ENOSPC",
                format!(
                    "the sandbox's in-memory files are limited to {} bytes (each entry counts {ENTRY_COST} bytes and its name besides its contents)",
                    self.capacity
                ),
            ));
        }
        if entries > MAX_ENTRIES {
            return Err(Refusal::with(
                "ENOSPC",
                format!("the sandbox's in-memory files are limited to {MAX_ENTRIES} entries"),
            ));
        }
        Ok(())
    }

    fn node(&self, path: &str) -> Result<&Node, Refusal> {
        let mut node = &self.root;
        for segment in path.split('/').filter(|s| !s.is_empty()) {
            node = match node {
                Node::Dir { children, .. } => {
                    children.get(segment).ok_or(Refusal::new("ENOENT"))?
                }
                Node::File { .. } => return Err(Refusal::new("ENOTDIR")),
            };
        }
        Ok(node)
    }

    fn node_mut(&mut self, path: &str) -> Result<&mut Node, Refusal> {
        let mut node = &mut self.root;
        for segment in path.split('/').filter(|s| !s.is_empty()) {
            node = match node {
                Node::Dir { children, .. } => {
                    children.get_mut(segment).ok_or(Refusal::new("ENOENT"))?
                }
                Node::File { .. } => return Err(Refusal::new("ENOTDIR")),
            };
        }
        Ok(node)
    }

    /// The children of the directory at `path`, created if `create`.
    fn dir_mut(&mut self, path: &str) -> Result<&mut BTreeMap<String, Node>, Refusal> {
        match self.node_mut(path)? {
            Node::Dir { children, .. } => Ok(children),
            Node::File { .. } => Err(Refusal::new("ENOTDIR")),
        }
    }

    /// What `path` is.
    pub fn metadata(&self, path: &str) -> Result<Metadata, Refusal> {
        self.node(path).map(Node::metadata)
    }

    /// The bytes of the file at `path`.
    pub fn read(&self, path: &str) -> Result<Vec<u8>, Refusal> {
        self.read_range(path, 0, usize::MAX)
    }

    /// At most `len` bytes of the file at `path`, from `offset`.
    pub fn read_range(&self, path: &str, offset: usize, len: usize) -> Result<Vec<u8>, Refusal> {
        match self.node(path)? {
            Node::File { bytes, .. } => {
                let start = offset.min(bytes.len());
                let end = start.saturating_add(len).min(bytes.len());
                Ok(bytes[start..end].to_vec())
            }
            Node::Dir { .. } => Err(Refusal::new("EISDIR")),
        }
    }

    /// Writes `bytes` to the file at `path` where `mode` says, creating it
    /// unless `exclusive` and it exists (`EEXIST`). Its directory must
    /// exist.
    pub fn write(
        &mut self,
        path: &str,
        bytes: &[u8],
        mode: WriteMode,
        exclusive: bool,
    ) -> Result<(), Refusal> {
        let (parent, name) = split(path);
        let (old, new_entry) = match self.node(path) {
            Ok(Node::Dir { .. }) => return Err(Refusal::new("EISDIR")),
            Ok(_) if exclusive => return Err(Refusal::new("EEXIST")),
            Ok(Node::File { bytes, .. }) => (bytes.len(), 0),
            Err(e) if e.code == "ENOENT" => (0, ENTRY_COST + name.len()),
            Err(e) => return Err(e),
        };
        if let Node::File { .. } = self.node(parent)? {
            return Err(Refusal::new("ENOTDIR"));
        }
        let start = match mode {
            WriteMode::Replace => 0,
            WriteMode::Append => old,
            WriteMode::At(offset) => usize::try_from(offset).unwrap_or(usize::MAX),
        };
        let end = start.saturating_add(bytes.len());
        let len = match mode {
            WriteMode::Replace => end,
            _ => end.max(old),
        };
        let used = self.used - old + len + new_entry;
        let entries = self.entries + usize::from(new_entry > 0);
        self.fits(used, entries)?;
        let children = self.dir_mut(parent)?;
        let now = SystemTime::now();
        let file = children.entry(name.to_owned()).or_insert(Node::File {
            bytes: Vec::new(),
            modified: now,
        });
        if let Node::File {
            bytes: data,
            modified,
        } = file
        {
            data.resize(len, 0);
            data[start..end].copy_from_slice(bytes);
            *modified = now;
        }
        self.used = used;
        self.entries = entries;
        Ok(())
    }

    /// Cuts or zero-extends the file at `path` to `len` bytes.
    pub fn truncate(&mut self, path: &str, len: usize) -> Result<(), Refusal> {
        let old = match self.node(path)? {
            Node::File { bytes, .. } => bytes.len(),
            Node::Dir { .. } => return Err(Refusal::new("EISDIR")),
        };
        let used = self.used - old + len;
        self.fits(used, self.entries)?;
        if let Node::File { bytes, modified } = self.node_mut(path)? {
            bytes.resize(len, 0);
            *modified = SystemTime::now();
        }
        self.used = used;
        Ok(())
    }

    /// The entries of the directory at `path`.
    pub fn read_dir(&self, path: &str) -> Result<Vec<Entry>, Refusal> {
        match self.node(path)? {
            Node::Dir { children, .. } => Ok(children
                .iter()
                .map(|(name, node)| Entry {
                    name: name.clone(),
                    kind: node.metadata().kind,
                })
                .collect()),
            Node::File { .. } => Err(Refusal::new("ENOTDIR")),
        }
    }

    /// Creates the directory `path`; its parent must exist.
    pub fn create_dir(&mut self, path: &str) -> Result<(), Refusal> {
        if self.node(path).is_ok() {
            return Err(Refusal::new("EEXIST"));
        }
        let (parent, name) = split(path);
        let used = self.used + ENTRY_COST + name.len();
        self.fits(used, self.entries + 1)?;
        self.dir_mut(parent)?.insert(name.to_owned(), Node::dir());
        self.used = used;
        self.entries += 1;
        Ok(())
    }

    /// Removes the file (`dir` false) or empty directory (`dir` true) at
    /// `path`, or, if `recursive`, whatever is there.
    pub fn remove(&mut self, path: &str, dir: bool, recursive: bool) -> Result<(), Refusal> {
        if path == "/" {
            return Err(Refusal::new("EBUSY"));
        }
        match (self.node(path)?, dir, recursive) {
            (_, _, true) | (Node::File { .. }, false, _) | (Node::Dir { .. }, true, _) => {}
            (Node::File { .. }, true, _) => return Err(Refusal::new("ENOTDIR")),
            (Node::Dir { .. }, false, _) => return Err(Refusal::new("EISDIR")),
        }
        if let (Node::Dir { children, .. }, false) = (self.node(path)?, recursive)
            && !children.is_empty()
        {
            return Err(Refusal::new("ENOTEMPTY"));
        }
        let (parent, name) = split(path);
        if let Some(node) = self.dir_mut(parent)?.remove(name) {
            self.used -= weight(name, &node);
            self.entries -= count(&node);
        }
        Ok(())
    }

    /// Moves `from` to `to`, replacing a file there; `to`'s directory must
    /// exist, and a directory cannot move into itself.
    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), Refusal> {
        self.node(from)?;
        if super::path::is_within(to, from) && to != from {
            return Err(Refusal::new("EINVAL"));
        }
        if from == to {
            return Ok(());
        }
        let (to_parent, to_name) = split(to);
        match (self.node(from)?, self.node(to)) {
            (_, Ok(Node::Dir { children, .. })) if !children.is_empty() => {
                return Err(Refusal::new("ENOTEMPTY"));
            }
            (Node::File { .. }, Ok(Node::Dir { .. })) => return Err(Refusal::new("EISDIR")),
            (Node::Dir { .. }, Ok(Node::File { .. })) => return Err(Refusal::new("ENOTDIR")),
            _ => {}
        }
        self.dir_mut(to_parent)?;
        let (from_parent, from_name) = split(from);
        // The entry's name changes; what it replaces is freed.
        let (replaced, replaced_entries) = self
            .node(to)
            .map_or((0, 0), |node| (weight(to_name, node), count(node)));
        let used = (self.used + to_name.len() - from_name.len()).saturating_sub(replaced);
        self.fits(used, self.entries - replaced_entries)?;
        let node = self
            .dir_mut(from_parent)?
            .remove(from_name)
            .ok_or(Refusal::new("ENOENT"))?;
        self.dir_mut(to_parent)?.insert(to_name.to_owned(), node);
        self.used = used;
        self.entries -= replaced_entries;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_files_and_directories_within_its_capacity() {
        // Room for two entries (with one-letter names) and ten bytes.
        let mut tree = Tree::new(2 * (ENTRY_COST + 1) + 10);
        tree.create_dir("/a").unwrap();
        tree.write("/a/f", b"hello", WriteMode::Replace, false)
            .unwrap();
        assert_eq!(tree.read("/a/f").unwrap(), b"hello");
        tree.write("/a/f", b"!!", WriteMode::Append, false).unwrap();
        assert_eq!(tree.read("/a/f").unwrap(), b"hello!!");
        assert_eq!(
            tree.write("/a/g", b"1234", WriteMode::Replace, false)
                .unwrap_err()
                .code,
            "ENOSPC"
        );
        tree.write("/a/f", b"1234567890", WriteMode::Replace, false)
            .unwrap();
        assert_eq!(
            tree.write("/a/f", b"x", WriteMode::Replace, true)
                .unwrap_err()
                .code,
            "EEXIST"
        );
        assert_eq!(
            tree.write("/b/f", b"x", WriteMode::Replace, false)
                .unwrap_err()
                .code,
            "ENOENT"
        );
        assert_eq!(
            tree.write("/a/f/x", b"x", WriteMode::Replace, false)
                .unwrap_err()
                .code,
            "ENOTDIR"
        );
        assert_eq!(
            tree.remove("/a", true, false).unwrap_err().code,
            "ENOTEMPTY"
        );
        tree.write("/a/f", b"AB", WriteMode::At(3), false).unwrap();
        assert_eq!(tree.read("/a/f").unwrap(), b"123AB67890");
        assert_eq!(
            tree.write("/a/f", b"x", WriteMode::At(10), false)
                .unwrap_err()
                .code,
            "ENOSPC"
        );
        tree.remove("/a", true, true).unwrap();
        assert_eq!((tree.used, tree.entries), (0, 0));
        tree.write("/f", b"12", WriteMode::At(3), false).unwrap();
        assert_eq!(tree.read("/f").unwrap(), [0, 0, 0, b'1', b'2']);
    }

    #[test]
    fn names_and_entries_count_against_the_cap() {
        let mut tree = Tree::new(64 * 1024);
        let name = "n".repeat(240);
        let mut made = 0;
        while tree.create_dir(&format!("/{made}{name}")).is_ok() {
            made += 1;
        }
        // 64 KiB at 128 bytes and a 241-odd-byte name each.
        assert!((170..=180).contains(&made), "{made}");
        let next = format!("/{made}{name}");
        assert_eq!(tree.create_dir(&next).unwrap_err().code, "ENOSPC");
        tree.remove(&format!("/0{name}"), true, false).unwrap();
        tree.create_dir(&next).unwrap();

        let mut tree = Tree::new(usize::MAX);
        tree.create_dir("/d").unwrap();
        for i in 1..MAX_ENTRIES {
            tree.write(&format!("/d/{i}"), b"", WriteMode::Replace, false)
                .unwrap();
        }
        let full = tree.write("/d/one-more", b"", WriteMode::Replace, false);
        assert_eq!(full.unwrap_err().code, "ENOSPC");
        tree.rename("/d/1", "/d/2").unwrap();
        tree.write("/d/one-more", b"", WriteMode::Replace, false)
            .unwrap();
    }

    #[test]
    fn renames_within_the_tree() {
        let mut tree = Tree::new(1000);
        tree.create_dir("/a").unwrap();
        tree.write("/a/f", b"x", WriteMode::Replace, false).unwrap();
        tree.rename("/a", "/b").unwrap();
        assert_eq!(tree.read("/b/f").unwrap(), b"x");
        assert_eq!(tree.rename("/b", "/b/c").unwrap_err().code, "EINVAL");
        let names: Vec<_> = tree
            .read_dir("/")
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["b"]);
    }
}
