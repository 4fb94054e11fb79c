//! [`McpConfig`]: what `polybox mcp` runs code with, from its config file
//! (JSON) and its flags, which win. Every limit has a safe default, so that
//! `while (true) {}` is stopped out of the box.
//!
//! ```json
//! {
//!   "limits": { "wallMs": 5000, "cpuMs": 2000, "heapMiB": 64, "outputBytes": 1048576, "sessionMs": 300000 },
//!   "stateful": false,
//!   "idleTimeoutMs": 600000,
//!   "mounts": [{ "host": "/srv/data", "guest": "/data", "readOnly": true }],
//!   "output": "/srv/out",
//!   "env": { "MODE": "agent" },
//!   "permissions": { "network": { "rules": [{ "mode": "allow", "patterns": ["https://api.example.com:443/*"] }] } },
//!   "secrets": [{ "placeholder": "{{API_KEY}}", "env": "API_KEY", "hosts": ["api.example.com"] }],
//!   "tools": { "lookup": { "description": "...", "inputSchema": { "type": "object" }, "command": ["./lookup.sh"] } }
//! }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use polybox::Error;
use polybox::permissions::{HostPattern, Permissions};
use serde::Deserialize;
use serde_json::Value;

use crate::failure::Failure;

/// The default wall-clock limit of one run: 5 s.
pub const DEFAULT_WALL_MS: u64 = 5_000;
/// The default guest heap: 64 MiB.
pub const DEFAULT_HEAP_MIB: usize = 64;
/// The default cap on each of a run's output streams: 1 MiB.
pub const DEFAULT_OUTPUT_BYTES: usize = 1024 * 1024;
/// How long a stateful session may sit idle by default: 10 minutes.
pub const DEFAULT_IDLE_MS: u64 = 600_000;
/// The run time a stateful session may use by default: 5 minutes.
pub const DEFAULT_SESSION_MS: u64 = 300_000;

/// The config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct McpConfig {
    #[serde(default)]
    pub limits: Limits,
    /// One sandbox per session, keeping variables and files between calls.
    #[serde(default)]
    pub stateful: bool,
    /// How long a stateful session's sandbox is kept without a call.
    pub idle_timeout_ms: Option<u64>,
    /// Host directories in the sandbox.
    #[serde(default)]
    pub mounts: Vec<MountConfig>,
    /// A host directory mounted writable at `/output`.
    pub output: Option<PathBuf>,
    /// `process.env` of every run.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The permissions policy (`polybox::permissions` JSON), narrowing
    /// what the rest grants; checked when the file is read.
    pub permissions: Option<Permissions>,
    /// Secrets the host fills into requests for some hosts.
    #[serde(default)]
    pub secrets: Vec<SecretConfig>,
    /// Host tools guest code may call as `await tools.<name>(input)`.
    #[serde(default)]
    pub tools: BTreeMap<String, ToolConfig>,
}

/// The limits of one run.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Limits {
    pub wall_ms: Option<u64>,
    pub cpu_ms: Option<u64>,
    #[serde(rename = "heapMiB")]
    pub heap_mib: Option<usize>,
    pub output_bytes: Option<usize>,
    /// The run time one stateful session may use in all.
    pub session_ms: Option<u64>,
}

/// A host directory at a guest path.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MountConfig {
    pub host: PathBuf,
    pub guest: String,
    #[serde(default = "yes")]
    pub read_only: bool,
}

fn yes() -> bool {
    true
}

/// A secret: the value of the host's variable `env`, filled in for
/// `placeholder` in requests to `hosts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretConfig {
    pub placeholder: String,
    pub env: String,
    pub hosts: Vec<HostPattern>,
}

/// A host tool run as a command: the input's JSON on its stdin, its result
/// the JSON it prints.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ToolConfig {
    #[serde(default)]
    pub description: String,
    pub input_schema: Option<Value>,
    pub command: Vec<String>,
}

impl McpConfig {
    /// The config file at `path`; relative host paths in it are taken
    /// from its directory.
    pub fn load(path: &Path) -> Result<Self, Failure> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::File(format!("cannot read {}: {e}", path.display())))?;
        let mut config: Self = serde_json::from_str(&text).map_err(|e| {
            Failure::Sandbox(Error::InvalidArg(format!(
                "the config file {}: {e}",
                path.display()
            )))
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for mount in &mut config.mounts {
            mount.host = base.join(&mount.host);
        }
        if let Some(output) = &mut config.output {
            *output = base.join(&*output);
        }
        Ok(config)
    }

    /// The wall-clock limit of a run.
    pub fn wall(&self) -> Duration {
        Duration::from_millis(self.limits.wall_ms.unwrap_or(DEFAULT_WALL_MS))
    }

    /// How long an idle stateful session is kept.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms.unwrap_or(DEFAULT_IDLE_MS))
    }

    /// The run time one stateful session may use in all.
    pub fn session_budget(&self) -> Duration {
        Duration::from_millis(self.limits.session_ms.unwrap_or(DEFAULT_SESSION_MS))
    }

    /// The guest heap, in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.limits.heap_mib.unwrap_or(DEFAULT_HEAP_MIB) * 1024 * 1024
    }

    /// The cap on each output stream, in bytes.
    pub fn output_bytes(&self) -> usize {
        self.limits.output_bytes.unwrap_or(DEFAULT_OUTPUT_BYTES)
    }
}
