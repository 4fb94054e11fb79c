//! How `polybox` fails: one line (plus a guest's stack) on stderr, and an
//! exit code per kind of failure, so scripts can tell them apart.

use std::fmt;

use polybox::ErrorCode;

/// The exit codes, as `--help` lists them.
pub const EXIT_CODES: &str = "\
Exit codes:
  0    success
  1    the guest failed: it threw, overflowed its stack or trapped
  2    invalid arguments (a bad flag, event, name or size)
  3    a file cannot be read, or is neither source code nor a component
  4    the sandbox is poisoned
  69   the backend cannot run here (no usable hypervisor)
  70   an internal error
  124  a limit (--wall-ms, --cpu-ms, --fuel) stopped the call";

/// Why a command failed.
#[derive(Debug)]
pub enum Failure {
    /// A file cannot be read, or is not what it must be.
    File(String),
    /// What the sandbox reported.
    Sandbox(polybox::Error),
}

/// The crate's hints name its Rust methods; on the command line the same
/// settings are these flags.
const FLAGS: &[(&str, &str)] = &[
    ("SandboxBuilder::fuel_metering(true)", "--fuel"),
    ("SandboxBuilder::input_buffer_size", "--input-buffer"),
    ("SandboxBuilder::output_buffer_size", "--output-buffer"),
    ("SandboxBuilder::stack_size", "--stack"),
    (
        "WallClockMonitor or CpuTimeMonitor",
        "--wall-ms or --cpu-ms",
    ),
];

impl Failure {
    /// The process's exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::File(_) => 3,
            Self::Sandbox(error) => match error.code() {
                ErrorCode::GuestError | ErrorCode::StackOverflow | ErrorCode::GuestAbort => 1,
                ErrorCode::Poisoned => 4,
                ErrorCode::Cancelled => 124,
                ErrorCode::HypervisorUnavailable => 69,
                ErrorCode::Internal => 70,
                _ => 2,
            },
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(message) => write!(f, "ERR_FILE: {message}"),
            Self::Sandbox(error) => {
                let message = FLAGS
                    .iter()
                    .fold(error.to_string(), |message, (rust, flag)| {
                        message.replace(rust, flag)
                    });
                write!(f, "{}: {message}", error.code())
            }
        }
    }
}

impl From<polybox::Error> for Failure {
    fn from(error: polybox::Error) -> Self {
        Self::Sandbox(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_failure_has_its_exit_code() {
        let sandbox = |error| Failure::Sandbox(error).exit_code();
        assert_eq!(Failure::File("x".into()).exit_code(), 3);
        assert_eq!(sandbox(polybox::Error::Cancelled("wall-clock")), 124);
        assert_eq!(sandbox(polybox::Error::Poisoned("x".into())), 4);
        assert_eq!(sandbox(polybox::Error::InvalidArg("x".into())), 2);
        assert_eq!(sandbox(polybox::Error::Internal("x".into())), 70);
        assert_eq!(
            sandbox(polybox::Error::HypervisorUnavailable("x".into())),
            69
        );
    }

    #[test]
    fn hints_name_the_flags() {
        let error = polybox::Error::InvalidArg(
            "the event is 9 bytes; raise it with SandboxBuilder::input_buffer_size".into(),
        );
        assert_eq!(
            Failure::Sandbox(error).to_string(),
            "ERR_INVALID_ARG: the event is 9 bytes; raise it with --input-buffer"
        );
    }
}
