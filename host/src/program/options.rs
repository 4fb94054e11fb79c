//! [`ExecOptions`]: what one program run is given beyond its source.

use super::{OutputCallback, ProgramKind};
use crate::monitor::CallLimits;

/// Per-run options of [`Runtime::exec`](crate::Runtime::exec) and
/// [`Runtime::run`](crate::Runtime::run). Each is added to, or overrides,
/// what the runtime was built with.
///
/// ```
/// # fn main() -> polybox::Result<()> {
/// use std::time::Duration;
/// use polybox::{CallLimits, ExecOptions, Runtime};
///
/// let mut runtime = Runtime::builder().build()?;
/// let options = ExecOptions {
///     stdin: b"abc".to_vec(),
///     limits: CallLimits { wall_clock: Some(Duration::from_secs(5)), ..Default::default() },
///     on_stdout: Some(Box::new(|chunk| print!("{}", String::from_utf8_lossy(chunk)))),
///     ..Default::default()
/// };
/// let output = runtime.exec(
///     "let s = ''; for await (const c of process.stdin) s += c; console.log(s.toUpperCase())",
///     options,
/// )?;
/// assert_eq!(output.stdout, b"ABC\n");
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct ExecOptions {
    /// Standard input: what `process.stdin` reads (at most the sandbox's
    /// input buffer size).
    pub stdin: Vec<u8>,
    /// Variables added to (or replacing) the runtime's `process.env`.
    pub env: Vec<(String, String)>,
    /// `process.argv` after the runtime and the file name; the runtime's
    /// when empty.
    pub args: Vec<String>,
    /// `process.cwd()`; the runtime's when `None`.
    pub cwd: Option<String>,
    /// The path the program runs as (`__filename`, `process.argv[1]`, stack
    /// traces); `[eval]` in the working directory when `None`.
    pub filename: Option<String>,
    /// Module, CommonJS, decided by the syntax (the default), or a global
    /// script.
    pub kind: ProgramKind,
    /// Runs in the process the previous run of this runtime left (its
    /// globals, and a [`ProgramKind::Script`]'s top-level declarations),
    /// instead of a fresh one: the next line of a REPL. When the previous
    /// run did not end by itself (a limit, `kill()`, a crash), there is no
    /// process to continue and the run starts fresh. Files persist either
    /// way: they belong to the runtime.
    pub continue_process: bool,
    /// Limits for this run; each one set replaces the runtime's.
    pub limits: CallLimits,
    /// How much of each output stream is kept; the runtime's when `None`.
    pub output_limit: Option<usize>,
    /// Hears standard output as the program writes it.
    pub on_stdout: Option<OutputCallback>,
    /// Hears standard error as the program writes it.
    pub on_stderr: Option<OutputCallback>,
}

impl std::fmt::Debug for ExecOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecOptions")
            .field("stdin", &format_args!("{} bytes", self.stdin.len()))
            .field("env", &self.env)
            .field("args", &self.args)
            .field("cwd", &self.cwd)
            .field("filename", &self.filename)
            .field("kind", &self.kind)
            .field("continue_process", &self.continue_process)
            .field("limits", &self.limits)
            .field("output_limit", &self.output_limit)
            .finish_non_exhaustive()
    }
}
