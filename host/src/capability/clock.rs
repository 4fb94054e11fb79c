//! The clocks every guest reads (`platform.now-ms`, `platform.monotonic-ns`).

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
    let elapsed = origin().elapsed();
    u64::try_from(elapsed.as_micros() * 1000).unwrap_or(u64::MAX)
}

/// The instant at which [`monotonic_ns`] reads `ns`.
pub(crate) fn monotonic_instant(ns: u64) -> Instant {
    let origin = origin();
    origin
        .checked_add(Duration::from_nanos(ns))
        .unwrap_or(origin + Duration::from_secs(u32::MAX.into()))
}

/// Where the monotonic clock starts: its first reading.
fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_monotonic_clock_counts_whole_microseconds_and_never_goes_back() {
        let (first, second) = (monotonic_ns(), monotonic_ns());
        assert_eq!(first % 1000, 0);
        assert!(second >= first);
    }
}
