//! The log: where guest output goes (`console.*` and `print` in JavaScript,
//! anything a component writes to stdout or stderr).
//!
//! Output never reaches the process's stdout unless a sink sends it there.
//! The default sink emits `tracing` events with target `polybox::guest`.

use std::fmt;
use std::sync::Arc;

/// Severity of a guest log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// `console.debug`, and diagnostics QuickJS prints.
    Debug,
    /// `console.log`, `console.info`, `print`.
    Info,
    /// `console.warn`.
    Warn,
    /// `console.error`.
    Error,
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        })
    }
}

/// Receives guest log lines. Called on the thread running the guest.
pub type LogSink = Arc<dyn Fn(LogLevel, &str) + Send + Sync>;

/// The default sink: a `tracing` event per line.
pub(crate) fn tracing_sink() -> LogSink {
    Arc::new(|level, message| match level {
        LogLevel::Debug => tracing::debug!(target: "polybox::guest", "{message}"),
        LogLevel::Info => tracing::info!(target: "polybox::guest", "{message}"),
        LogLevel::Warn => tracing::warn!(target: "polybox::guest", "{message}"),
        LogLevel::Error => tracing::error!(target: "polybox::guest", "{message}"),
    })
}
