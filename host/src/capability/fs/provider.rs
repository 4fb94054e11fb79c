//! [`Filesystem`]: one sandbox's filesystem, served to guests as the
//! internal module `polybox:fs`.
//!
//! Each function takes its arguments as a JSON array of guest paths and
//! options, and answers `{"ok": value}` or `{"err": {"code", "detail"}}`:
//! a failure such as `ENOENT` is an answer the guest's `fs` turns into
//! Node's error, not a failed host call. File contents cross as base64.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::mount::{HostDir, LinkText, is_mount_point};
use super::path::{is_within, normalize, split, too_long};
use super::shared::FilesState;
use super::tree::Tree;
use super::{Entry, EntryKind, FsConfig, Metadata, WriteMode};
use crate::capability::Refusal;
use crate::capability::host_functions::CallContext;
use crate::capability::{HostCallError, Provider, answer};
use crate::error::{Error, Result};
use crate::permissions::{Mode, NamePattern, PathPattern, Permissions, Rule, ScopeName};

/// The normalised guest path `path` and everything below it, as a grant.
fn under(path: &str) -> PathPattern {
    PathPattern::literal(path)
}

/// The files an imports-only mount lets the module loader read: module
/// sources and the `package.json` files that say how to load them. Data
/// (`.json`, `.env`, keys) needs a read grant, even for `require`.
const MODULE_FILES: [&str; 5] = ["*.js", "*.mjs", "*.cjs", "*.py", "package.json"];

/// [`MODULE_FILES`] anywhere under the mount point `at`.
fn module_files(at: &str) -> Vec<PathPattern> {
    MODULE_FILES
        .into_iter()
        .map(|name| {
            let tail = PathPattern::parse(&format!("/**/{name}")).expect("a valid pattern");
            under(at).join(&tail)
        })
        .collect()
}

/// Whether the normalised `path` names a module file ([`MODULE_FILES`]) by
/// its last segment. (A path pattern also covers what lies below a match:
/// `/m/**/*.js` covers `/m/a.js/.env`; the name is what a loader loads.)
fn is_module_file(path: &str) -> bool {
    let (_, name) = split(path);
    MODULE_FILES
        .into_iter()
        .any(|pattern| NamePattern::parse(pattern).is_ok_and(|p| p.covers(name)))
}

/// The functions of `polybox:fs`.
const FUNCTIONS: &[&str] = &[
    "stat", "read", "load", "write", "readdir", "mkdir", "rm", "rename", "readlink", "symlink",
    "truncate",
];

/// The most one `read` answers: a guest reads larger files in pieces.
const MAX_PIECE: usize = 4 * 1024 * 1024;

/// Where a guest path leads.
enum Place<'a> {
    /// Into host memory, at this normalised path.
    Memory(&'a str),
    /// Into a mount, at this path relative to its directory (`.` for the
    /// mount point).
    Mount(&'a HostDir, PathBuf),
}

/// What a removal takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Removal {
    /// A file (or link), never a directory.
    File,
    /// An empty directory.
    EmptyDir,
    /// Whatever is there, and everything below it.
    Tree,
}

/// One sandbox's files, mounts and policy.
pub(crate) struct Filesystem {
    /// What it was built from.
    config: Arc<FsConfig>,
    files: Arc<FilesState>,
    /// Mount points (normalised) and their directories, deepest first.
    mounts: Vec<(String, HostDir)>,
    permissions: Arc<Permissions>,
    /// The grants the configuration makes, before the policy's rules.
    implied: Vec<Rule<PathPattern>>,
    /// Those, and the module mounts' grants to read modules.
    load_grants: Vec<Rule<PathPattern>>,
    /// The largest file read at once.
    read_limit: usize,
    sandbox: u64,
}

impl Filesystem {
    /// Builds the tree (seeded files, `/tmp`, the directories leading to
    /// the mount points) and opens the mounts; `config` was validated
    /// (`FsConfig::validate`, which `SandboxBuilder::build` runs).
    pub fn new(
        config: &Arc<FsConfig>,
        permissions: Arc<Permissions>,
        sandbox: u64,
    ) -> Result<Self> {
        let files = config.shared.clone().unwrap_or_default().0;
        {
            // Seeded by the first sandbox of shared files only; a later one
            // adds the directories leading to its own mount points.
            let mut tree = files.tree();
            match tree.as_mut() {
                None => *tree = Some(seeded_tree(config)?),
                Some(tree) => {
                    for mount in &config.mounts {
                        make_dirs(tree, &normalize(&mount.guest_path).unwrap_or_default());
                    }
                }
            }
        }
        let mut implied = vec![
            Rule::new(
                Mode::Allow,
                &["stat", "readdir", "readlink"],
                vec![under("/")],
            ),
            Rule::new(Mode::Allow, &[], vec![under("/tmp")]),
        ];
        let mut mounts = Vec::new();
        let mut module_grants = Vec::new();
        let mut mount_rules = Vec::new();
        for mount in &config.mounts {
            let at = normalize(&mount.guest_path).unwrap_or_default();
            let dir = HostDir::open(&mount.host_path, mount.read_only).map_err(|e| {
                Error::invalid_arg(format!(
                    "the mount at {at:?}: cannot open {:?}: {e}",
                    mount.host_path
                ))
            })?;
            // What a mount grants replaces what its place would have had
            // (a mount under /tmp is not all of /tmp's to write).
            // An imports-only mount is not listed, and its files are
            // loaded only as modules (`module_files`).
            let operations: &[&str] = match (mount.modules_only, mount.read_only) {
                (true, _) => &["stat"],
                (false, true) => &["read", "stat", "readdir", "readlink"],
                (false, false) => &[],
            };
            mount_rules.push((
                at.clone(),
                [
                    Rule::new(Mode::Deny, &[], vec![under(&at)]),
                    Rule::new(Mode::Allow, operations, vec![under(&at)]),
                ],
            ));
            if mount.modules_only {
                module_grants.push(Rule::new(Mode::Allow, &["read"], module_files(&at)));
            }
            mounts.push((at, dir));
        }
        mounts.sort_by_key(|(at, _)| std::cmp::Reverse(at.len()));
        // A mount inside another decides its own paths: its rules come later.
        mount_rules.sort_by_key(|(at, _)| at.len());
        implied.extend(mount_rules.into_iter().flat_map(|(_, rules)| rules));
        for (file, _) in &config.files {
            let at = normalize(file).unwrap_or_default();
            implied.push(Rule::new(Mode::Allow, &[], vec![under(&at)]));
        }
        let load_grants = implied.iter().chain(&module_grants).cloned().collect();
        Ok(Self {
            config: config.clone(),
            files,
            mounts,
            permissions,
            implied,
            load_grants,
            read_limit: config.memory_limit,
            sandbox,
        })
    }

    /// Forgets what was written to the in-memory files since they were
    /// seeded (for every sandbox sharing them): `/tmp` is empty again,
    /// seeded files hold what they were seeded with, and the host's
    /// writes are gone. Mounts are host directories: they keep what was
    /// written.
    pub fn reset(&self) -> Result<()> {
        let fresh = seeded_tree(&self.config)?;
        *self.files.tree() = Some(fresh);
        self.files.forget_written();
        Ok(())
    }

    fn place<'a>(&'a self, path: &'a str) -> Place<'a> {
        for (at, dir) in &self.mounts {
            if is_within(path, at) {
                let rel = path[at.len()..].trim_start_matches('/');
                let rel = if rel.is_empty() { "." } else { rel };
                return Place::Mount(dir, PathBuf::from(rel));
            }
        }
        Place::Memory(path)
    }

    /// Calls `f` with every path below the directory `path` (none if it is
    /// not one), without following links.
    fn each_below(
        &self,
        path: &str,
        f: &mut dyn FnMut(&str) -> Result<(), Refusal>,
    ) -> Result<(), Refusal> {
        let entries = match self.place(path) {
            Place::Memory(at) => self.tree(|t| t.read_dir(at)),
            Place::Mount(dir, rel) => dir.read_dir(&rel),
        };
        let Ok(entries) = entries else {
            return Ok(());
        };
        for entry in entries {
            let below = format!("{}/{}", path.trim_end_matches('/'), entry.name);
            f(&below)?;
            if entry.kind == EntryKind::Dir {
                self.each_below(&below, f)?;
            }
        }
        Ok(())
    }

    /// Whether the in-memory directory `path` holds a mount point.
    fn holds_mount(&self, path: &str) -> bool {
        matches!(self.place(path), Place::Memory(_))
            && self.mounts.iter().any(|(at, _)| is_within(at, path))
    }

    /// Runs `f` on the in-memory tree.
    fn tree<R>(&self, f: impl FnOnce(&mut Tree) -> R) -> R {
        let mut tree = self.files.tree();
        f(tree.as_mut().expect("the tree is made with the filesystem"))
    }

    /// Normalises `path` and checks `operation` on it against the policy.
    fn allowed(&self, operation: &str, path: &str) -> Result<String, Refusal> {
        self.check(operation, path, &self.implied)
    }

    fn check(
        &self,
        operation: &str,
        path: &str,
        implied: &[Rule<PathPattern>],
    ) -> Result<String, Refusal> {
        let Some(path) = normalize(path) else {
            return Err(Refusal::with("EINVAL", "a guest path must be absolute"));
        };
        if too_long(&path) {
            return Err(Refusal::new("ENAMETOOLONG"));
        }
        let written = self.files.written();
        let with_written: Vec<Rule<PathPattern>>;
        let implied = if written.is_empty() {
            implied
        } else {
            with_written = implied.iter().chain(written.iter()).cloned().collect();
            &with_written
        };
        // In a mount, host links may make one file reachable by several
        // paths: the path the links lead to must be granted too.
        let resolved = match self.place(&path) {
            Place::Mount(dir, rel) => dir
                .resolve(&rel)
                .map(|real| self.guest_path_in(&path, &real)),
            Place::Memory(_) => None,
        };
        let decide = |target: &str| self.permissions.decide_path(operation, target, implied);
        let verdict = match (decide(&path), &resolved) {
            (Mode::Allow, Some(real)) if *real != path => decide(real),
            (verdict, _) => verdict,
        };
        match verdict {
            Mode::Allow => Ok(path),
            Mode::Deny => {
                crate::metrics::denial(self.sandbox, ScopeName::Fs, operation, &path);
                Err(Refusal::with(
                    "EACCES",
                    "denied by the sandbox's permissions",
                ))
            }
        }
    }

    /// The guest path of `real` (resolved, relative to the mount `path`
    /// lies in).
    fn guest_path_in(&self, path: &str, real: &std::path::Path) -> String {
        let at = self
            .mounts
            .iter()
            .find(|(at, _)| is_within(path, at))
            .map_or("/", |(at, _)| at.as_str());
        let real = real.to_string_lossy();
        normalize(&format!("{at}/{real}")).unwrap_or_else(|| at.to_owned())
    }

    /// [`allowed`](Self::allowed) for reading a module's source, which
    /// module mounts grant too.
    fn loadable(&self, path: &str) -> Result<String, Refusal> {
        let grants = match normalize(path) {
            Some(normal) if is_module_file(&normal) => &self.load_grants,
            _ => &self.implied,
        };
        self.check("read", path, grants)
    }

    fn metadata(&self, path: &str, follow: bool) -> Result<Metadata, Refusal> {
        match self.place(path) {
            Place::Memory(path) => self.tree(|t| t.metadata(path)),
            Place::Mount(dir, rel) => dir.metadata(&rel, follow),
        }
    }

    /// Makes the directory `path` (and, if `recursive`, those leading to
    /// it); the first directory made, when `recursive`.
    pub fn mkdir(&self, path: &str, recursive: bool) -> Result<Option<String>, Refusal> {
        let path = self.allowed("mkdir", path)?;
        if !recursive {
            self.create_dir(&path)?;
            return Ok(None);
        }
        // Each directory made on the way is checked on its own.
        let mut first = None;
        let mut at = String::new();
        for segment in path.split('/').filter(|s| !s.is_empty()) {
            at.push('/');
            at.push_str(segment);
            match self.metadata(&at, true) {
                Ok(m) if m.kind == EntryKind::Dir => continue,
                Ok(_) => return Err(Refusal::new("ENOTDIR")),
                Err(e) if e.code != "ENOENT" => return Err(e),
                Err(_) => {}
            }
            self.allowed("mkdir", &at)?;
            self.create_dir(&at)?;
            first.get_or_insert_with(|| at.clone());
        }
        Ok(first)
    }

    fn create_dir(&self, path: &str) -> Result<(), Refusal> {
        match self.place(path) {
            Place::Memory(path) => self.tree(|t| t.create_dir(path)),
            Place::Mount(_, rel) if is_mount_point(&rel) => Err(Refusal::new("EEXIST")),
            Place::Mount(dir, rel) => dir.create_dir(&rel),
        }
    }

    /// Moves `from` to `to`, both in memory or both in one mount.
    pub fn rename(&self, from: &str, to: &str) -> Result<(), Refusal> {
        let from = self.allowed("rename", from)?;
        let to = self.allowed("rename", to)?;
        // What lies below moves too: each of its paths, old and new, must
        // be the guest's to rename (a rule may deny a path inside).
        self.each_below(&from, &mut |path| {
            self.allowed("rename", path)?;
            self.allowed("rename", &format!("{to}{}", &path[from.len()..]))
                .map(drop)
        })?;
        match (self.place(&from), self.place(&to)) {
            (Place::Memory(from), Place::Memory(to)) => {
                if self.holds_mount(from) {
                    return Err(Refusal::with(
                        "EBUSY",
                        "a directory holding a mount point cannot move",
                    ));
                }
                self.tree(|t| t.rename(from, to))
            }
            (Place::Mount(a, from), Place::Mount(b, to)) if std::ptr::eq(a, b) => {
                a.rename(&from, &to)
            }
            _ => Err(Refusal::with("EXDEV", "a rename cannot cross a mount")),
        }
    }

    /// Removes what `path` is, as `removal` says.
    pub fn remove(&self, path: &str, removal: Removal) -> Result<(), Refusal> {
        let path = self.allowed("rm", path)?;
        let (dir, recursive) = match removal {
            Removal::File => (false, false),
            Removal::EmptyDir => (true, false),
            Removal::Tree => (true, true),
        };
        if self.holds_mount(&path) {
            return Err(Refusal::with(
                "EBUSY",
                "a directory holding a mount point cannot be removed",
            ));
        }
        if recursive {
            // Everything below goes too: each path must be the guest's to
            // remove (a rule may deny a path inside).
            self.each_below(&path, &mut |below| self.allowed("rm", below).map(drop))?;
        }
        match self.place(&path) {
            Place::Memory(path) => self.tree(|t| t.remove(path, dir, recursive)),
            Place::Mount(host, rel) => host.remove(&rel, dir, recursive),
        }
    }

    /// The bytes of the file at guest `path`, for the host: the policy does
    /// not apply (the host is not the guest), the layout does.
    pub fn host_read(&self, path: &str) -> Result<Vec<u8>> {
        let at = host_path(path)?;
        match self.place(&at) {
            Place::Memory(at) => self.tree(|t| t.read(at)),
            Place::Mount(dir, rel) => dir.read(&rel, self.read_limit),
        }
        .map_err(|e| host_error(e, "read", &at))
    }

    /// Writes `bytes` to the file at guest `path` for the host, making its
    /// directories in memory as needed, and grants guests the file as if
    /// it were seeded. A read-only mount refuses it.
    pub fn host_write(&self, path: &str, bytes: &[u8]) -> Result<()> {
        let at = host_path(path)?;
        let (parent, _) = split(&at);
        let mut dir = String::new();
        for segment in parent.split('/').filter(|s| !s.is_empty()) {
            dir.push('/');
            dir.push_str(segment);
            match self.metadata(&dir, true) {
                Ok(m) if m.kind == EntryKind::Dir => {}
                Ok(_) => return Err(host_error(Refusal::new("ENOTDIR"), "write", &dir)),
                Err(_) => self
                    .create_dir(&dir)
                    .map_err(|e| host_error(e, "write", &dir))?,
            }
        }
        match self.place(&at) {
            Place::Memory(at) => self.tree(|t| t.write(at, bytes, WriteMode::Replace, false)),
            Place::Mount(_, rel) if is_mount_point(&rel) => Err(Refusal::new("EISDIR")),
            Place::Mount(dir, rel) => dir.write(&rel, bytes, WriteMode::Replace, false),
        }
        .map_err(|e| host_error(e, "write", &at))?;
        self.files
            .grant_written(Rule::new(Mode::Allow, &[], vec![under(&at)]));
        Ok(())
    }

    /// Checks that the policy lets the guest `operation` on `path`, as
    /// opening a file does before any byte moves (a denial is counted and
    /// logged like any other).
    pub fn permit(&self, operation: &str, path: &str) -> Result<(), Refusal> {
        self.allowed(operation, path).map(drop)
    }

    /// What `path` is (its link itself unless `follow`).
    pub fn stat(&self, path: &str, follow: bool) -> Result<Metadata, Refusal> {
        let path = self.allowed("stat", path)?;
        self.metadata(&path, follow)
    }

    /// At most `len` bytes (and never more than 4 MiB) of the file `path`,
    /// from `offset`.
    pub fn read(&self, path: &str, offset: u64, len: usize) -> Result<Vec<u8>, Refusal> {
        let path = self.allowed("read", path)?;
        let len = len.min(MAX_PIECE);
        match self.place(&path) {
            Place::Memory(path) => self
                .tree(|t| t.read_range(path, usize::try_from(offset).unwrap_or(usize::MAX), len)),
            Place::Mount(dir, rel) => dir.read_range(&rel, offset, len),
        }
    }

    /// The whole source of the module at `path`.
    fn load(&self, path: &str) -> Result<Vec<u8>, Refusal> {
        let path = self.loadable(path)?;
        match self.place(&path) {
            Place::Memory(path) => self.tree(|t| t.read(path)),
            Place::Mount(dir, rel) => dir.read(&rel, self.read_limit),
        }
    }

    /// Writes `bytes` to the file `path` where `mode` says, creating it
    /// unless `exclusive` and it exists.
    pub fn write(
        &self,
        path: &str,
        bytes: &[u8],
        mode: WriteMode,
        exclusive: bool,
    ) -> Result<(), Refusal> {
        let path = self.allowed("write", path)?;
        let end = match mode {
            WriteMode::At(offset) => offset.saturating_add(bytes.len() as u64),
            // An append ends past what the file holds already.
            WriteMode::Append => self
                .metadata(&path, true)
                .map_or(0, |m| m.size)
                .saturating_add(bytes.len() as u64),
            WriteMode::Replace => bytes.len() as u64,
        };
        if end > self.read_limit as u64 {
            return Err(Refusal::with(
                "ENOSPC",
                format!("a file is limited to {} bytes", self.read_limit),
            ));
        }
        match self.place(&path) {
            Place::Memory(path) => self.tree(|t| t.write(path, bytes, mode, exclusive)),
            Place::Mount(_, rel) if is_mount_point(&rel) => Err(Refusal::new("EISDIR")),
            Place::Mount(dir, rel) => dir.write(&rel, bytes, mode, exclusive),
        }
    }

    /// Cuts or zero-extends the file `path` to `len` bytes.
    pub fn truncate(&self, path: &str, len: u64) -> Result<(), Refusal> {
        let path = self.allowed("truncate", path)?;
        if len > self.read_limit as u64 {
            return Err(Refusal::new("ENOSPC"));
        }
        match self.place(&path) {
            Place::Memory(path) => self.tree(|t| t.truncate(path, len as usize)),
            Place::Mount(dir, rel) => dir.truncate(&rel, len),
        }
    }

    /// The entries of the directory `path`.
    pub fn read_dir(&self, path: &str) -> Result<Vec<Entry>, Refusal> {
        let path = self.allowed("readdir", path)?;
        match self.place(&path) {
            Place::Memory(path) => self.tree(|t| t.read_dir(path)),
            Place::Mount(dir, rel) => dir.read_dir(&rel),
        }
    }

    /// Where the symbolic link `path` points: relative text as written,
    /// an absolute target as the guest path it has inside the mount. A
    /// target outside the mount is the host's layout, not the guest's to
    /// read (`EACCES`).
    pub fn read_link(&self, path: &str) -> Result<String, Refusal> {
        let path = self.allowed("readlink", path)?;
        match self.place(&path) {
            Place::Memory(_) => {
                self.tree(|t| t.metadata(&path))?;
                Err(Refusal::with("EINVAL", "not a symbolic link"))
            }
            Place::Mount(dir, rel) => match dir.read_link(&rel)? {
                LinkText::Relative(text) => Ok(text.to_string_lossy().into_owned()),
                LinkText::Inside(real) => Ok(self.guest_path_in(&path, &real)),
                LinkText::Outside => Err(Refusal::with(
                    "EACCES",
                    "the link points outside the sandbox's files",
                )),
            },
        }
    }

    /// Making a symbolic link at `path`: always refused (after the policy
    /// has had its say), since a link could lead where the policy does not.
    pub fn symlink(&self, path: &str) -> Refusal {
        match self.allowed("symlink", path) {
            Ok(_) => Refusal::with(
                "EPERM",
                "symbolic links cannot be created in a Polybox sandbox",
            ),
            Err(denied) => denied,
        }
    }

    /// Runs `function` with its JSON `args`.
    fn run(&self, function: &str, args: &[Value]) -> Result<Value, Refusal> {
        let text = |i: usize| -> Result<&str, Refusal> {
            args.get(i)
                .and_then(Value::as_str)
                .ok_or_else(|| Refusal::with("EINVAL", format!("argument {i} must be a string")))
        };
        let flag = |i: usize| args.get(i).and_then(Value::as_bool).unwrap_or(false);
        let number = |i: usize| args.get(i).and_then(Value::as_u64);
        match function {
            "stat" => {
                let metadata = self.stat(text(0)?, flag(1))?;
                let modified = metadata
                    .modified
                    .duration_since(UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
                Ok(json!({
                    "type": metadata.kind.as_str(),
                    "size": metadata.size,
                    "mtimeMs": modified,
                }))
            }
            "read" => {
                let len = number(2).map_or(MAX_PIECE, |len| len as usize);
                let bytes = self.read(text(0)?, number(1).unwrap_or(0), len)?;
                Ok(Value::String(BASE64.encode(bytes)))
            }
            "load" => {
                let bytes = self.load(text(0)?)?;
                Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
            }
            "write" => {
                let path = text(0)?;
                let bytes = BASE64
                    .decode(text(1)?)
                    .map_err(|_| Refusal::with("EINVAL", "the data is not base64"))?;
                let mode = if flag(2) {
                    WriteMode::Append
                } else {
                    WriteMode::Replace
                };
                self.write(path, &bytes, mode, flag(3))?;
                Ok(Value::Null)
            }
            "truncate" => {
                self.truncate(text(0)?, number(1).unwrap_or(0))?;
                Ok(Value::Null)
            }
            "readdir" => Ok(Value::Array(
                self.read_dir(text(0)?)?
                    .into_iter()
                    .map(|e| json!([e.name, e.kind.as_str()]))
                    .collect(),
            )),
            "mkdir" => Ok(self
                .mkdir(text(0)?, flag(1))?
                .map_or(Value::Null, Value::String)),
            "rm" => {
                let removal = match text(1)? {
                    "file" => Removal::File,
                    "dir" => Removal::EmptyDir,
                    _ => Removal::Tree,
                };
                self.remove(text(0)?, removal).map(|()| Value::Null)
            }
            "rename" => self.rename(text(0)?, text(1)?).map(|()| Value::Null),
            "readlink" => self.read_link(text(0)?).map(Value::String),
            "symlink" => Err(self.symlink(text(1)?)),
            _ => Err(Refusal::with(
                "ENOSYS",
                format!("no operation {function:?}"),
            )),
        }
    }
}

impl Provider for Filesystem {
    fn functions(&self) -> Vec<String> {
        FUNCTIONS.iter().map(|&f| f.to_owned()).collect()
    }

    fn call(
        &self,
        function: &str,
        args: &str,
        _: &CallContext<'_>,
    ) -> Result<String, HostCallError> {
        let args: Vec<Value> = serde_json::from_str(args)
            .map_err(|e| HostCallError::TypeMismatch(format!("polybox:fs arguments: {e}")))?;
        Ok(answer(self.run(function, &args)))
    }
}

/// A new in-memory tree: `/tmp`, the directories leading to the mount
/// points, and the seeded files.
fn seeded_tree(config: &FsConfig) -> Result<Tree> {
    let mut tree = Tree::new(config.memory_limit);
    make_dirs(&mut tree, "/tmp");
    for mount in &config.mounts {
        make_dirs(&mut tree, &normalize(&mount.guest_path).unwrap_or_default());
    }
    for (file, bytes) in &config.files {
        let at = normalize(file).unwrap_or_default();
        make_dirs(&mut tree, split(&at).0);
        tree.write(&at, bytes, WriteMode::Replace, false)
            .map_err(|e| Error::invalid_arg(format!("cannot seed the file {at:?}: {}", e.code)))?;
    }
    Ok(tree)
}

/// Makes the directory `dir` and those leading to it, where missing.
fn make_dirs(tree: &mut Tree, dir: &str) {
    let mut at = String::new();
    for segment in dir.split('/').filter(|s| !s.is_empty()) {
        at.push('/');
        at.push_str(segment);
        let _ = tree.create_dir(&at);
    }
}

/// A guest path the host names, normalised.
fn host_path(path: &str) -> Result<String> {
    normalize(path)
        .ok_or_else(|| Error::invalid_arg(format!("{path:?} is not an absolute guest path")))
}

/// A failed host access, as the crate's error.
fn host_error(error: Refusal, operation: &str, path: &str) -> Error {
    let detail = error.detail.map(|d| format!(" ({d})")).unwrap_or_default();
    Error::invalid_arg(format!(
        "{}: cannot {operation} {path:?}{detail}",
        error.code
    ))
}
