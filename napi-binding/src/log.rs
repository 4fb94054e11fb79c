//! Guest output (`console.*`, `print`, a component's stdout and stderr) for
//! a JavaScript log sink.
//!
//! Guest code runs on a worker thread; the sink is JavaScript and runs on the
//! main thread. Lines are kept here, in order, and `lib.js` hands them to
//! the sink when the load or call that wrote them settles, before the
//! caller sees the result. So the sink has seen every line of a call by the
//! time its promise resolves. A guest that writes without end cannot use up
//! memory: each line is charged [`LINE_COST`] besides its text (so empty
//! lines count too: uncharged, a million of them once took 754 MB), and past
//! [`MAX_BYTES`] lines are dropped, and counted.

use std::sync::{Arc, Mutex};

use napi_derive::napi;
use polybox::LogLevel;

/// The most text kept between two drains, line costs included.
pub const MAX_BYTES: usize = 1024 * 1024;

/// What one kept line costs besides its text (its entry here, its object
/// and strings in JavaScript).
pub const LINE_COST: usize = 64;

/// One line of guest output.
#[napi(object)]
pub struct LogLine {
    /// `"debug"`, `"info"`, `"warn"` or `"error"`.
    pub level: String,
    pub message: String,
}

#[derive(Default)]
struct Lines {
    lines: Vec<(LogLevel, String)>,
    bytes: usize,
    dropped: usize,
}

/// The lines a sandbox's guest wrote since they were last taken.
#[napi]
#[derive(Default)]
pub struct NativeLogBuffer {
    lines: Arc<Mutex<Lines>>,
}

#[napi]
impl NativeLogBuffer {
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    /// The lines written since the last call, oldest first; a last warning
    /// line says how many were dropped, if any were.
    #[napi]
    pub fn take(&self) -> Vec<LogLine> {
        let taken = std::mem::take(&mut *self.lines.lock().unwrap_or_else(|p| p.into_inner()));
        let mut lines: Vec<LogLine> = taken
            .lines
            .into_iter()
            .map(|(level, message)| LogLine {
                level: level.to_string(),
                message,
            })
            .collect();
        if taken.dropped > 0 {
            lines.push(LogLine {
                level: LogLevel::Warn.to_string(),
                message: format!(
                    "[polybox: {} lines of guest output dropped: more than {MAX_BYTES} bytes between deliveries]",
                    taken.dropped
                ),
            });
        }
        lines
    }
}

impl NativeLogBuffer {
    /// A log sink that keeps lines here.
    pub fn sink(&self) -> impl Fn(LogLevel, &str) + Send + Sync + 'static {
        let lines = self.lines.clone();
        move |level, message| {
            let mut lines = lines.lock().unwrap_or_else(|p| p.into_inner());
            let cost = message.len() + LINE_COST;
            if lines.bytes + cost > MAX_BYTES {
                lines.dropped += 1;
                return;
            }
            lines.bytes += cost;
            lines.lines.push((level, message.to_owned()));
        }
    }
}
