//! The guest's only window on the world: the `platform` import.
//!
//! `libc_shims.c` calls the `polybox_*` functions here in place of the WASI
//! calls wasi-libc would make, and a Rust panic is logged before it traps.

use alloc::string::String;

use crate::bindings::polybox::sandbox::platform::{self, LogLevel};

/// Sends diagnostic text printed by QuickJS (`printf`, `fprintf`) to the log.
///
/// # Safety
///
/// `ptr` must point to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn polybox_debug_write(ptr: *const u8, len: usize) {
    // SAFETY: the caller passes a valid buffer of `len` bytes.
    let bytes = unsafe { core::slice::from_raw_parts(ptr, len) };
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end_matches('\n');
    if !text.is_empty() {
        platform::log(LogLevel::Debug, text);
    }
}

/// Wall-clock time for `gettimeofday` (and so `Date`).
#[unsafe(no_mangle)]
pub extern "C" fn polybox_now_ms() -> f64 {
    platform::now_ms()
}

/// Monotonic time for `clock_gettime` (and so `performance.now()`).
#[unsafe(no_mangle)]
pub extern "C" fn polybox_monotonic_ns() -> u64 {
    platform::monotonic_ns()
}

/// A panic in the guest is a bug: say what happened, then trap so the host
/// reports a guest abort and poisons the sandbox.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let message = alloc::format!("guest panic: {info}");
    platform::log(LogLevel::Error, &message);
    core::arch::wasm32::unreachable()
}
