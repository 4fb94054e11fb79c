//! Programs: code run as a fresh process, as `node file.js` runs it, with
//! standard streams, `process`, timers and an exit code. This is the model
//! of secure-exec's `NodeRuntime` and of `polybox exec`; handlers
//! ([`sandbox`](crate::sandbox)) are the other.
//!
//! A [`Runtime`] is one sandbox kept for programs. When it is created it
//! captures its guest right after the JavaScript runtime started; every
//! program starts from that capture (restoring it copies back only the
//! pages the last program wrote), so no state passes from one program to
//! the next, and a fresh process costs microseconds rather than a cold
//! start.
//!
//! ```
//! # fn main() -> polybox::Result<()> {
//! use polybox::{ExecOptions, Runtime};
//!
//! let mut runtime = Runtime::builder().env("GREETING", "hi").build()?;
//! let output = runtime.exec(
//!     "console.log(process.env.GREETING); process.exitCode = 3",
//!     ExecOptions::default(),
//! )?;
//! assert_eq!(output.stdout, b"hi\n");
//! assert_eq!(output.exit_code, 3);
//! # Ok(()) }
//! ```

mod builder;
mod kind;
mod options;
mod output;
mod process;
mod runtime;

pub use crate::capability::process::OutputCallback;
pub use builder::RuntimeBuilder;
pub use kind::ProgramKind;
pub use options::ExecOptions;
pub use output::{EXIT_CRASHED, EXIT_KILLED, EXIT_TIMEOUT, ExecOutput, RunOutput};
pub use process::{DEFAULT_FETCH_TIMEOUT, Process, ProcessHandle};
pub use runtime::Runtime;
