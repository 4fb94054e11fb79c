//! A sandbox's configuration, as set on the [`SandboxBuilder`](crate::SandboxBuilder).
//!
//! Configuration is plain data: it names the engine that will run the guest
//! ([`Backend`]) but knows nothing of engines. What each backend can honour
//! of it is decided in `backend/sizing.rs`.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use crate::capability::LogSink;
use crate::capability::fs::FsConfig;
use crate::capability::hostcalls::HostcallHandler;
use crate::capability::net::NetConfig;
use crate::capability::tools::Tool;
use crate::error::{Error, Result};
use crate::permissions::Permissions;

/// Default guest heap: how far the guest's memory may grow.
pub const DEFAULT_HEAP_SIZE: usize = 32 * 1024 * 1024;
/// Default heap of a Python guest, whose started interpreter takes 19 MiB.
pub const DEFAULT_PYTHON_HEAP_SIZE: usize = 64 * 1024 * 1024;
/// Default guest stack on wasmtime: the deepest native stack a call may use
/// (the Hyperlight backend's is fixed at 512 KiB).
pub const DEFAULT_STACK_SIZE: usize = 1024 * 1024;
/// Default cap on an event's JSON text.
pub const DEFAULT_INPUT_BUFFER_SIZE: usize = 1024 * 1024;
/// Default cap on a result's JSON text.
pub const DEFAULT_OUTPUT_BUFFER_SIZE: usize = 1024 * 1024;

/// Which engine runs a sandbox's guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Backend {
    /// wasmtime, in process. Needs no hypervisor.
    #[default]
    Wasmtime,
    /// The same guest inside a Hyperlight micro-VM (`hyperlight-wasm`), for
    /// hardware isolation around the wasm sandbox.
    Hyperlight,
}

impl Backend {
    /// The backend's name as the CLI and the Node addon spell it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Wasmtime => "wasmtime",
            Self::Hyperlight => "hyperlight",
        }
    }
}

impl std::str::FromStr for Backend {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        match name {
            "wasmtime" => Ok(Self::Wasmtime),
            "hyperlight" => Ok(Self::Hyperlight),
            other => Err(Error::invalid_arg(format!(
                "unknown backend {other:?}; use \"wasmtime\" or \"hyperlight\""
            ))),
        }
    }
}

/// The language of a sandbox's guest: what its handlers, modules and
/// programs are written in. Each language is its own guest component, with
/// the same contract (`wit/`: the `js-runtime` and `python-runtime` worlds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    /// JavaScript, run by QuickJS (`js-guest-component/`).
    #[default]
    JavaScript,
    /// Python, run by CPython 3.14 (`python-guest-component/`, built with
    /// componentize-py). Needs the wasmtime backend.
    Python,
}

impl Language {
    /// The language's name as the CLI and the Node addon spell it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::JavaScript => "javascript",
            Self::Python => "python",
        }
    }

    /// The language of a source file, by its extension: `.py` is Python;
    /// `.js`, `.mjs` and `.cjs` are JavaScript.
    pub fn of_path(path: &std::path::Path) -> Option<Self> {
        match path.extension()?.to_str()? {
            "py" => Some(Self::Python),
            "js" | "mjs" | "cjs" => Some(Self::JavaScript),
            _ => None,
        }
    }
}

impl std::str::FromStr for Language {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        match name {
            "javascript" | "js" => Ok(Self::JavaScript),
            "python" | "py" => Ok(Self::Python),
            other => Err(Error::invalid_arg(format!(
                "unknown language {other:?}; use \"javascript\" or \"python\""
            ))),
        }
    }
}

/// The validated settings of one sandbox.
#[derive(Clone)]
pub(crate) struct SandboxConfig {
    pub backend: Backend,
    pub language: Language,
    pub heap_size: usize,
    pub stack_size: usize,
    /// Hyperlight's scratch region, when set.
    pub scratch_size: Option<usize>,
    pub input_buffer_size: usize,
    pub output_buffer_size: usize,
    pub fuel_metering: bool,
    pub log_sink: LogSink,
    /// Whether the guest runs programs: it then starts from an image with
    /// what programs need already evaluated (see `Runtime`).
    pub programs: bool,
    /// The files guests see: seeded files, mounts, the in-memory cap.
    pub fs: Arc<FsConfig>,
    /// What guests may reach.
    pub permissions: Arc<Permissions>,
    /// How guests' requests are made: a handler, secrets, caps.
    pub net: NetConfig,
    /// The tools guests may call.
    pub tools: Arc<Vec<Tool>>,
    /// The environment user components see, before the policy.
    pub env: Arc<Vec<(String, String)>>,
    /// What answers the guests' hostcalls, if anything does.
    pub hostcalls: Option<HostcallHandler>,
}

impl SandboxConfig {
    /// The stack JavaScript may use before recursion throws a catchable
    /// `RangeError`: a quarter of the native stack. A JS call level uses
    /// about 750 bytes of native stack and 290 of shadow stack (which is
    /// what QuickJS measures), so the `RangeError` comes well before the
    /// engine's stack overflow, which poisons the sandbox.
    pub fn js_stack_limit(&self) -> u32 {
        u32::try_from(self.stack_size / 4).unwrap_or(u32::MAX)
    }

    /// Identifies everything a guest image depends on: the engine settings
    /// and the host modules the guest was told about. Snapshots carry it.
    /// The heap size is not among them: the host enforces it, and an image
    /// larger than a sandbox's heap is refused when it is mapped.
    pub fn fingerprint(
        &self,
        host_modules: &[(String, Vec<String>)],
        host_components: &[(&str, &[u8; 32])],
    ) -> u64 {
        let mut hasher = DefaultHasher::new();
        (
            self.backend,
            self.language,
            self.stack_size,
            self.scratch_size,
            self.fuel_metering,
            self.programs,
            host_modules,
            host_components,
        )
            .hash(&mut hasher);
        hasher.finish()
    }
}
