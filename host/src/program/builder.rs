//! [`RuntimeBuilder`]: the sandbox, environment and limits of a new
//! [`Runtime`].

use super::Runtime;
use crate::error::{Error, Result};
use crate::monitor::CallLimits;
use crate::sandbox::SandboxBuilder;

/// The default cap on each output stream a run keeps: 1 MiB.
pub const DEFAULT_OUTPUT_LIMIT: usize = 1024 * 1024;

/// Configures and builds a [`Runtime`].
///
/// ```
/// # fn main() -> polybox::Result<()> {
/// use std::time::Duration;
///
/// let runtime = polybox::Runtime::builder()
///     .sandbox(polybox::SandboxBuilder::new().heap_size(64 << 20))
///     .env("MODE", "test")
///     .cwd("/app")
///     .limits(polybox::CallLimits { wall_clock: Some(Duration::from_secs(10)), ..Default::default() })
///     .build()?;
/// # let _ = runtime; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RuntimeBuilder {
    pub(super) sandbox: SandboxBuilder,
    pub(super) env: Vec<(String, String)>,
    pub(super) args: Vec<String>,
    pub(super) cwd: String,
    pub(super) limits: CallLimits,
    pub(super) output_limit: usize,
}

impl Default for RuntimeBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl RuntimeBuilder {
    /// A runtime on a default sandbox, with an empty environment, working
    /// directory `/`, no limits and a 1 MiB output cap.
    pub fn new() -> Self {
        Self {
            sandbox: SandboxBuilder::new(),
            env: Vec::new(),
            args: Vec::new(),
            cwd: "/".to_owned(),
            limits: CallLimits::default(),
            output_limit: DEFAULT_OUTPUT_LIMIT,
        }
    }

    /// The sandbox programs run in: backend, heap and stack sizes, buffer
    /// sizes (the input buffer bounds a program's source and stdin), fuel
    /// metering.
    pub fn sandbox(mut self, sandbox: SandboxBuilder) -> Self {
        self.sandbox = sandbox;
        self
    }

    /// Adds `name=value` to every program's `process.env`. Nothing else of
    /// the host's environment reaches a program.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Appends `arg` to every program's `process.argv` (after the runtime
    /// and the file name).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Every program's `process.cwd()` (default `/`): a name only, since a
    /// program reaches no files.
    pub fn cwd(mut self, cwd: impl Into<String>) -> Self {
        self.cwd = cwd.into();
        self
    }

    /// The limits of every run, unless a run sets its own.
    pub fn limits(mut self, limits: CallLimits) -> Self {
        self.limits = limits;
        self
    }

    /// How much of each output stream a run keeps (default 1 MiB).
    pub fn output_limit(mut self, bytes: usize) -> Self {
        self.output_limit = bytes;
        self
    }

    /// The recipe of the runtime's sandbox: its settings, ready for
    /// programs.
    pub(crate) fn proto(&self) -> Result<crate::ProtoJSSandbox> {
        self.sandbox.clone().for_programs().build()
    }

    /// Creates the runtime. Fails with `ERR_INVALID_ARG` for a bad sandbox
    /// setting, a bad variable name or a working directory that is not an
    /// absolute path.
    pub fn build(self) -> Result<Runtime> {
        for (name, _) in &self.env {
            check_env_name(name)?;
        }
        check_cwd(&self.cwd)?;
        Runtime::new(self)
    }
}

/// Checks the name of an environment variable: not empty, without `=` or
/// NUL.
pub(super) fn check_env_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains(['=', '\0']) {
        return Err(Error::invalid_arg(format!(
            "{name:?} is not an environment variable name: it must be non-empty, without '=' or NUL"
        )));
    }
    Ok(())
}

/// Checks a working directory: an absolute path.
pub(super) fn check_cwd(cwd: &str) -> Result<()> {
    if !cwd.starts_with('/') || cwd.contains('\0') {
        return Err(Error::invalid_arg(format!(
            "the working directory {cwd:?} must be an absolute path"
        )));
    }
    Ok(())
}
