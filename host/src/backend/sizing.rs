//! What each backend can honour of a sandbox's sizes, and how they map onto
//! Hyperlight's memory regions.
//!
//! On wasmtime the heap size caps memory growth and the stack size is the
//! wasm stack limit, up to [`MAX_STACK_SIZE`]. Inside a Hyperlight
//! micro-VM the guest engine is hyperlight-wasm's own wasmtime, with its
//! default 512 KiB wasm stack and no memory limiter: the JS guest's linear
//! memory lives in the VM's scratch region, which must hold the heap, the
//! stack and the guest's own start-up memory. Values Hyperlight would
//! silently ignore or could not honour are refused.

use crate::config::{Backend, DEFAULT_STACK_SIZE, Language, SandboxConfig};
use crate::error::{Error, Result};

/// The largest guest stack accepted on wasmtime.
pub const MAX_STACK_SIZE: usize = 8 * 1024 * 1024;

/// The wasm stack of Hyperlight's guest engine, fixed by hyperlight-wasm.
pub(crate) const HYPERLIGHT_STACK_SIZE: usize = 512 * 1024;

/// The smallest scratch region hyperlight-wasm accepts (it ignores less).
pub(crate) const HYPERLIGHT_MIN_SCRATCH: usize = 2 * 1024 * 1024;

/// Scratch beyond heap and stack: the JS guest's initial memory (2.2 MiB)
/// and the guest engine's own pages.
const SCRATCH_OVERHEAD: usize = 8 * 1024 * 1024;

impl Backend {
    /// The stack size a sandbox gets when none is set.
    pub(crate) const fn default_stack_size(self) -> usize {
        match self {
            Self::Wasmtime => DEFAULT_STACK_SIZE,
            Self::Hyperlight => HYPERLIGHT_STACK_SIZE,
        }
    }

    /// Refuses settings this backend cannot honour.
    pub(crate) fn check(self, config: &SandboxConfig) -> Result<()> {
        match self {
            Self::Wasmtime => {
                if config.stack_size > MAX_STACK_SIZE {
                    return Err(Error::invalid_arg(format!(
                        "the stack size is {} bytes; the limit is {MAX_STACK_SIZE}",
                        config.stack_size
                    )));
                }
                if config.scratch_size.is_some() {
                    return Err(Error::invalid_arg(
                        "a scratch size applies to the Hyperlight backend only; on wasmtime the heap and stack sizes bound memory",
                    ));
                }
            }
            Self::Hyperlight => {
                if config.language == Language::Python {
                    return Err(Error::invalid_arg(
                        "Python guests need the wasmtime backend: the Hyperlight backend carries the JS guest's ahead-of-time build only",
                    ));
                }
                if config.stack_size > HYPERLIGHT_STACK_SIZE {
                    return Err(Error::invalid_arg(format!(
                        "the stack size is {} bytes, but Hyperlight's guest engine has a fixed {HYPERLIGHT_STACK_SIZE}-byte wasm stack",
                        config.stack_size
                    )));
                }
                if config.fuel_metering {
                    return Err(Error::invalid_arg(
                        "fuel metering is not available on the Hyperlight backend: its guest engine counts no fuel; bound calls with WallClockMonitor or CpuTimeMonitor",
                    ));
                }
                let needed = config.heap_size + config.stack_size + SCRATCH_OVERHEAD;
                if let Some(scratch) = config.scratch_size
                    && scratch < needed.max(HYPERLIGHT_MIN_SCRATCH)
                {
                    return Err(Error::invalid_arg(format!(
                        "the scratch size is {scratch} bytes, but the guest needs {needed}: the heap size, the stack size and {SCRATCH_OVERHEAD} bytes for the runtime"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The scratch region of a Hyperlight sandbox: as configured, or room for
/// the heap, the stack and the runtime.
#[cfg(feature = "hyperlight")]
pub(crate) fn hyperlight_scratch(config: &SandboxConfig) -> usize {
    config
        .scratch_size
        .unwrap_or(config.heap_size + config.stack_size + SCRATCH_OVERHEAD)
}
