//! A sandbox's configuration, as set on the [`SandboxBuilder`](crate::SandboxBuilder).

use std::hash::{DefaultHasher, Hash, Hasher};

use crate::backend::Backend;
use crate::log::LogSink;

/// Default guest heap: how far the guest's memory may grow.
pub const DEFAULT_HEAP_SIZE: usize = 32 * 1024 * 1024;
/// Default guest stack on wasmtime: the deepest native stack a call may use
/// (the Hyperlight backend's is fixed at 512 KiB).
pub const DEFAULT_STACK_SIZE: usize = 1024 * 1024;
/// Default cap on an event's JSON text.
pub const DEFAULT_INPUT_BUFFER_SIZE: usize = 1024 * 1024;
/// Default cap on a result's JSON text.
pub const DEFAULT_OUTPUT_BUFFER_SIZE: usize = 1024 * 1024;

/// The validated settings of one sandbox.
#[derive(Clone)]
pub(crate) struct SandboxConfig {
    pub backend: Backend,
    pub heap_size: usize,
    pub stack_size: usize,
    /// Hyperlight's scratch region, when set.
    pub scratch_size: Option<usize>,
    pub input_buffer_size: usize,
    pub output_buffer_size: usize,
    pub fuel_metering: bool,
    pub log_sink: LogSink,
}

impl SandboxConfig {
    /// The stack JavaScript may use before recursion throws a catchable
    /// `RangeError`: a quarter of the native stack. A JS call level uses
    /// about 750 bytes of native stack and 290 of shadow stack (which is
    /// what QuickJS measures), so the `RangeError` comes well before the
    /// engine's stack overflow, which poisons the sandbox.
    pub fn js_stack_limit(&self) -> u32 {
        u32::try_from(self.stack_size / 4).unwrap_or(u32::MAX)
    }

    /// Identifies everything a guest image depends on: the engine settings
    /// and the host modules the guest was told about. Snapshots carry it.
    pub fn fingerprint(
        &self,
        host_modules: &[(String, Vec<String>)],
        host_components: &[(&str, &[u8; 32])],
    ) -> u64 {
        let mut hasher = DefaultHasher::new();
        (
            self.backend,
            self.heap_size,
            self.stack_size,
            self.scratch_size,
            self.fuel_metering,
            host_modules,
            host_components,
        )
            .hash(&mut hasher);
        hasher.finish()
    }
}
