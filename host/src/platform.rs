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

/// The methods of a backend's `platform` import trait, for bindings whose
/// `LogLevel` enum is `$level`; the implementing type has a `log: LogSink`.
/// Each backend's bindings generate their own types, so the methods are
/// written once here and expanded into each trait impl.
macro_rules! platform_methods {
    ($level:ident) => {
        fn log(&mut self, level: $level, message: String) {
            let level = match level {
                $level::Debug => $crate::log::LogLevel::Debug,
                $level::Info => $crate::log::LogLevel::Info,
                $level::Warn => $crate::log::LogLevel::Warn,
                $level::Error => $crate::log::LogLevel::Error,
            };
            (self.log)(level, &message);
        }

        fn now_ms(&mut self) -> f64 {
            $crate::platform::now_ms()
        }

        fn monotonic_ns(&mut self) -> u64 {
            $crate::platform::monotonic_ns()
        }

        fn random_bytes(&mut self, len: u32) -> Vec<u8> {
            $crate::platform::random_bytes(len)
        }
    };
}
pub(crate) use platform_methods;
