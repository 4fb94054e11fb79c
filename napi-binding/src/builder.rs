//! The native `SandboxBuilder`: settings checked as they are set, then
//! `build()`, which consumes it.

use napi_derive::napi;

use crate::args::{Number, Text, bytes, string};
use crate::error::{Result, consumed, to_js};
use crate::job::Job;
use crate::log::NativeLogBuffer;
use crate::proto::NativeProtoSandbox;

/// The deepest guest stack a call can have in Node.js on wasmtime: guest
/// code runs on the calling thread's stack, the addon's workers have
/// [`STACK`](crate::workers::STACK), and the host keeps 128 KiB of it plus
/// what its own frames use.
const MAX_STACK: usize = crate::workers::STACK - 512 * 1024;

/// The builder's settings until `build()`.
#[derive(Default)]
struct Settings {
    builder: polybox::SandboxBuilder,
    backend: polybox::Backend,
    /// The guest stack, checked at `build()` against what Node.js's worker
    /// threads can give on wasmtime.
    stack_size: Option<usize>,
    /// Hyperlight's scratch region or, on wasmtime, the stack (applied at
    /// `build()`, once the backend is known).
    scratch_size: Option<usize>,
}

/// Configures a sandbox; `build()` consumes it.
#[napi]
pub struct NativeSandboxBuilder {
    settings: Option<Settings>,
}

impl NativeSandboxBuilder {
    /// Applies `f` to the builder, unless `build()` consumed it.
    fn set(&mut self, f: impl FnOnce(&mut Settings)) -> Result<()> {
        let settings = self
            .settings
            .as_mut()
            .ok_or_else(|| consumed("SandboxBuilder"))?;
        f(settings);
        Ok(())
    }

    fn size(
        &mut self,
        what: &str,
        value: Number<'_>,
        apply: fn(polybox::SandboxBuilder, usize) -> polybox::SandboxBuilder,
    ) -> Result<()> {
        let size = bytes(what, value)?;
        self.set(|s| s.builder = apply(std::mem::take(&mut s.builder), size))
    }
}

#[napi]
impl NativeSandboxBuilder {
    #[napi(constructor)]
    pub fn new() -> Self {
        Self {
            settings: Some(Settings::default()),
        }
    }

    #[napi(ts_args_type = "bytes: number")]
    pub fn set_heap_size(&mut self, bytes: Number<'_>) -> Result<()> {
        self.size("heap size", bytes, polybox::SandboxBuilder::heap_size)
    }

    #[napi(ts_args_type = "bytes: number")]
    pub fn set_stack_size(&mut self, value: Number<'_>) -> Result<()> {
        let size = bytes("stack size", value)?;
        self.set(|s| s.stack_size = Some(size))
    }

    /// The VM's scratch region on Hyperlight; on wasmtime the nearest thing,
    /// and what code sizing it for deep recursion means: the stack, which
    /// gets as much of the scratch size as a worker thread can give
    /// (`MAX_STACK`).
    #[napi(ts_args_type = "bytes: number")]
    pub fn set_scratch_size(&mut self, value: Number<'_>) -> Result<()> {
        let size = bytes("scratch size", value)?;
        self.set(|s| s.scratch_size = Some(size))
    }

    #[napi(ts_args_type = "bytes: number")]
    pub fn set_input_buffer_size(&mut self, bytes: Number<'_>) -> Result<()> {
        self.size(
            "input buffer size",
            bytes,
            polybox::SandboxBuilder::input_buffer_size,
        )
    }

    #[napi(ts_args_type = "bytes: number")]
    pub fn set_output_buffer_size(&mut self, bytes: Number<'_>) -> Result<()> {
        self.size(
            "output buffer size",
            bytes,
            polybox::SandboxBuilder::output_buffer_size,
        )
    }

    #[napi]
    pub fn set_fuel_metering(&mut self, enabled: bool) -> Result<()> {
        self.set(|s| s.builder = std::mem::take(&mut s.builder).fuel_metering(enabled))
    }

    /// Keeps guest output in `buffer` (which `lib.js` hands to the user's
    /// log sink) instead of sending it to `tracing`.
    #[napi]
    pub fn set_log_buffer(&mut self, buffer: &NativeLogBuffer) -> Result<()> {
        let sink = buffer.sink();
        self.set(|s| s.builder = std::mem::take(&mut s.builder).log_sink(sink))
    }

    #[napi(ts_args_type = "backend: 'wasmtime' | 'hyperlight'")]
    pub fn set_backend(&mut self, backend: Text<'_>) -> Result<()> {
        let backend: polybox::Backend = string("backend", backend)?.parse().map_err(to_js)?;
        self.set(|s| s.backend = backend)
    }

    /// The language of the sandbox's handlers, modules and programs.
    #[napi(ts_args_type = "language: 'javascript' | 'python'")]
    pub fn set_language(&mut self, language: Text<'_>) -> Result<()> {
        let language: polybox::Language = string("language", language)?.parse().map_err(to_js)?;
        self.set(|s| s.builder = std::mem::take(&mut s.builder).language(language))
    }

    /// Builds a proto sandbox off the main thread; consumes this builder.
    #[napi(ts_return_type = "Promise<NativeProtoSandbox>")]
    pub fn build(&mut self) -> Result<Job<polybox::ProtoJSSandbox, NativeProtoSandbox>> {
        let builder = self.take()?;
        let build = move || builder?.build();
        Ok(Job::new(build, NativeProtoSandbox::new))
    }
}

impl NativeSandboxBuilder {
    /// The settings as a crate builder, consuming this one; the error (a
    /// stack too deep for Node.js's threads) is reported when building.
    pub fn take(&mut self) -> Result<polybox::Result<polybox::SandboxBuilder>> {
        let Settings {
            builder,
            backend,
            stack_size,
            scratch_size,
        } = self
            .settings
            .take()
            .ok_or_else(|| consumed("SandboxBuilder"))?;
        let mut builder = builder.backend(backend);
        if let Some(size) = stack_size {
            builder = builder.stack_size(size);
        }
        builder = match (scratch_size, backend) {
            (None, _) => builder,
            (Some(size), polybox::Backend::Hyperlight) => builder.scratch_size(size),
            (Some(size), polybox::Backend::Wasmtime) => builder.stack_size(size.min(MAX_STACK)),
        };
        let too_deep = stack_size.filter(|&size| {
            backend == polybox::Backend::Wasmtime
                && scratch_size.is_none()
                && (MAX_STACK + 1..=polybox::MAX_STACK_SIZE).contains(&size)
        });
        Ok(match too_deep {
            Some(size) => Err(polybox::Error::InvalidArg(format!(
                "the stack size is {size} bytes; in Node.js it can be at most {MAX_STACK} (7.5 MiB): guest code runs on the addon's 8 MiB worker threads, which keep room for the host"
            ))),
            None => Ok(builder),
        })
    }
}

impl Default for NativeSandboxBuilder {
    fn default() -> Self {
        Self::new()
    }
}
