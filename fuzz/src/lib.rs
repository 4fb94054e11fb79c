//! What every fuzz target checks: an error has a code a caller can act on,
//! never `ERR_INTERNAL` or a trap of the engine's own making, and a
//! poisoned sandbox recovers by `restore`.

use std::time::Duration;

use polybox::{EpochDeadline, ErrorCode, LoadedJSSandbox, Snapshot};

/// How long one fuzzed call or load may run.
pub fn limit() -> EpochDeadline {
    EpochDeadline::new(Duration::from_millis(100)).unwrap()
}

/// Panics (a fuzzer crash) on an error no input should cause.
pub fn check_error(error: &polybox::Error) {
    match error.code() {
        ErrorCode::InvalidArg
        | ErrorCode::GuestError
        | ErrorCode::Cancelled
        | ErrorCode::StackOverflow => {}
        _ => panic!("an input caused {}: {error}", error.code()),
    }
}

/// Checks a call's outcome and brings a poisoned sandbox back.
pub fn settle(loaded: &mut LoadedJSSandbox, snapshot: &Snapshot, result: &polybox::Result<String>) {
    match result {
        Ok(json) => {
            serde_json::from_str::<serde_json::Value>(json)
                .unwrap_or_else(|e| panic!("a result is not JSON ({e}): {json}"));
        }
        Err(error) => check_error(error),
    }
    if loaded.poisoned() {
        loaded.restore(snapshot).expect("restore recovers a poisoned sandbox");
    }
}
