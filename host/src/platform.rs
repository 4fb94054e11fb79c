//! The platform services every guest imports (`polybox:sandbox/platform`),
//! the same on every backend.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The most random bytes handed out per request (as in WebCrypto).
const MAX_RANDOM_BYTES: u32 = 65_536;

/// Wall-clock time in milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// Monotonic time in nanoseconds since the first call, in whole
/// microseconds: a coarser clock is a poorer tool for timing side channels,
/// and scripts have no way to sharpen it (no threads, no `Atomics`).
pub(crate) fn monotonic_ns() -> u64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    let elapsed = ORIGIN.get_or_init(Instant::now).elapsed();
    u64::try_from(elapsed.as_micros() * 1000).unwrap_or(u64::MAX)
}

/// `len` random bytes from the operating system (at most 64 KiB).
pub(crate) fn random_bytes(len: u32) -> Vec<u8> {
    let mut bytes = vec![0; len.min(MAX_RANDOM_BYTES) as usize];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes
}
