//! The flags that grant a program what it may reach, as Deno's do: files
//! (`--allow-read`, `--allow-write`, `--mount`, `--node-modules`), the
//! network (`--allow-net`), the environment (`--allow-env`) and a whole
//! permissions policy (`--permissions`). Without them a program reaches
//! nothing.

use std::path::{Path, PathBuf};

use clap::Args;
use polybox::permissions::{Mode, NetPattern, Permissions, Rule, Scope};
use polybox::{Error, Mount, SandboxBuilder};

use crate::failure::Failure;

/// Grants.
#[derive(Args)]
pub struct CapabilityArgs {
    /// Let the program read the host directory DIR, which appears at the
    /// same path in the sandbox. Repeatable.
    #[arg(long, value_name = "DIR")]
    allow_read: Vec<PathBuf>,
    /// Let the program read and write the host directory DIR, which appears
    /// at the same path in the sandbox. Repeatable.
    #[arg(long, value_name = "DIR")]
    allow_write: Vec<PathBuf>,
    /// Mount a host directory at a guest path, read-only unless `:rw`
    /// follows. Repeatable.
    #[arg(long, value_name = "HOST:GUEST[:ro|rw]")]
    mount: Vec<String>,
    /// A host node_modules directory, mounted read-only at /node_modules,
    /// where every program's package lookup ends.
    #[arg(long, value_name = "DIR")]
    node_modules: Option<PathBuf>,
    /// Let the program fetch from HOST (any port unless one is given), over
    /// http and https. HOST is a name (`api.example.com`), `*.NAME` (names
    /// under NAME), an address (`10.0.0.7`, `[::1]`) or a network
    /// (`10.0.0.0/8`). `localhost` means loopback; any other name that
    /// resolves to a private or loopback address needs that address
    /// allowed too. Repeatable.
    #[arg(long, value_name = "HOST[:PORT]")]
    allow_net: Vec<String>,
    /// Pass the host's variable NAME (if it is set) to `process.env`.
    /// Repeatable.
    #[arg(long, value_name = "NAME")]
    allow_env: Vec<String>,
    /// A permissions policy as JSON (`{"fs": {...}, "env": "deny"}`), or
    /// `@FILE` to read it from FILE; its rules come after what the flags
    /// grant, so they can narrow it (a scope given as a mode replaces it).
    #[arg(long, value_name = "JSON|@FILE")]
    permissions: Option<String>,
}

impl CapabilityArgs {
    /// `builder` with these grants, and the directory of the program file
    /// `program` (if any) mounted for its imports only.
    pub fn apply(
        &self,
        builder: SandboxBuilder,
        program: Option<&Path>,
    ) -> Result<SandboxBuilder, Failure> {
        self.apply_over(builder, program, Permissions::default())
    }

    /// [`apply`](Self::apply) over `base`: the flags' grants come before
    /// `base`'s rules and `--permissions`' after them
    /// (`Permissions::layered`), so neither a grant nor a denial is
    /// dropped, and a later rule narrows an earlier one.
    pub fn apply_over(
        &self,
        mut builder: SandboxBuilder,
        program: Option<&Path>,
        base: Permissions,
    ) -> Result<SandboxBuilder, Failure> {
        let mut mounts = Vec::new();
        for dir in &self.allow_read {
            let dir = host_dir(dir, "--allow-read")?;
            mounts.push(Mount::read_only(guest(&dir), dir));
        }
        for dir in &self.allow_write {
            let dir = host_dir(dir, "--allow-write")?;
            mounts.push(Mount::read_write(guest(&dir), dir));
        }
        for spec in &self.mount {
            mounts.push(mount(spec)?);
        }
        if let Some(dir) = &self.node_modules {
            mounts.push(Mount::read_only(
                "/node_modules",
                host_dir(dir, "--node-modules")?,
            ));
        }
        // A program may import its own modules, as Deno loads local ones;
        // reading them with `fs` still needs a grant.
        if let Some(dir) = program.and_then(Path::parent) {
            let covered = mounts.iter().any(|m| dir.starts_with(&m.host_path));
            if !covered && dir != Path::new("/") {
                mounts.push(Mount::modules(guest(dir), dir));
            }
        }
        for mount in mounts {
            builder = builder.mount(mount);
        }
        let mut policy = base;
        if !self.allow_net.is_empty() {
            let hosts = self
                .allow_net
                .iter()
                .map(|host| {
                    NetPattern::parse_host_port(host).map_err(|why| {
                        Failure::Sandbox(Error::InvalidArg(format!("--allow-net: {why}")))
                    })
                })
                .collect::<Result<_, _>>()?;
            // The flags grant first; the base's own rules (its denials
            // among them) and default still decide after them.
            let grants = Permissions {
                network: Some(Scope::rules(
                    Mode::Deny,
                    vec![Rule::new(Mode::Allow, &[], hosts)],
                )),
                ..Permissions::default()
            };
            policy = grants.layered(&policy);
        }
        if let Some(given) = &self.permissions {
            let json = match given.strip_prefix('@') {
                Some(file) => std::fs::read_to_string(file)
                    .map_err(|e| Failure::File(format!("cannot read {file}: {e}")))?,
                None => given.clone(),
            };
            policy = policy.layered(&Permissions::from_json(&json)?);
        }
        Ok(builder.permissions(policy))
    }

    /// The host variables `--allow-env` passes, those that are set.
    pub fn env(&self) -> Vec<(String, String)> {
        self.allow_env
            .iter()
            .filter_map(|name| Some((name.clone(), std::env::var(name).ok()?)))
            .collect()
    }
}

/// A host directory given to `flag`, made absolute and resolved.
fn host_dir(dir: &Path, flag: &str) -> Result<PathBuf, Failure> {
    let resolved = dir.canonicalize().map_err(|e| {
        Failure::Sandbox(Error::InvalidArg(format!("{flag} {}: {e}", dir.display())))
    })?;
    if !resolved.is_dir() {
        return Err(Failure::Sandbox(Error::InvalidArg(format!(
            "{flag} {}: not a directory",
            dir.display()
        ))));
    }
    Ok(resolved)
}

/// The guest path a host directory appears at: the same path.
fn guest(dir: &Path) -> String {
    dir.to_string_lossy().into_owned()
}

/// `HOST:GUEST[:ro|rw]`.
fn mount(spec: &str) -> Result<Mount, Failure> {
    let invalid = || {
        Failure::Sandbox(Error::InvalidArg(format!(
            "--mount {spec:?} must look like HOST:GUEST, HOST:GUEST:ro or HOST:GUEST:rw"
        )))
    };
    let mut parts = spec.split(':');
    let (Some(host), Some(guest_path)) = (parts.next(), parts.next()) else {
        return Err(invalid());
    };
    let read_only = match parts.next() {
        None | Some("ro") => true,
        Some("rw") => false,
        Some(_) => return Err(invalid()),
    };
    if parts.next().is_some() || host.is_empty() || guest_path.is_empty() {
        return Err(invalid());
    }
    let host = host_dir(Path::new(host), "--mount")?;
    Ok(if read_only {
        Mount::read_only(guest_path, host)
    } else {
        Mount::read_write(guest_path, host)
    })
}
