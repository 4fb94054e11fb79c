//! `build(options)`: a validated configuration becomes a proto sandbox.

use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;

use crate::error::invalid_arg;
use crate::job::Job;
use crate::proto::NativeProtoSandbox;

/// The builder's settings, as `lib.js`'s `SandboxBuilder` collects them.
#[napi(object)]
pub struct BuildOptions {
    pub heap_size: Option<f64>,
    pub stack_size: Option<f64>,
    pub scratch_size: Option<f64>,
    pub input_buffer_size: Option<f64>,
    pub output_buffer_size: Option<f64>,
    pub fuel_metering: Option<bool>,
    pub backend: Option<String>,
}

/// A byte count from JavaScript: a positive safe integer.
pub fn bytes(what: &str, value: f64) -> napi::Result<usize> {
    if value.is_finite() && value.fract() == 0.0 && value > 0.0 && value <= 9_007_199_254_740_991.0
    {
        Ok(value as usize)
    } else {
        Err(invalid_arg(&format!(
            "the {what} must be a positive integer, not {value}"
        )))
    }
}

/// Builds a proto sandbox off the main thread.
#[napi]
pub fn build_sandbox(
    options: BuildOptions,
) -> napi::Result<AsyncTask<Job<polybox::ProtoJSSandbox, NativeProtoSandbox>>> {
    let backend: polybox::Backend = match &options.backend {
        Some(name) => name.parse().map_err(crate::error::to_js)?,
        None => polybox::Backend::default(),
    };
    let mut builder = polybox::SandboxBuilder::new().backend(backend);
    if let Some(size) = options.heap_size {
        builder = builder.heap_size(bytes("heap size", size)?);
    }
    if let Some(size) = options.stack_size {
        builder = builder.stack_size(bytes("stack size", size)?);
    }
    // Hyperlight has a scratch region; on wasmtime the nearest thing, and
    // what hyperlight-js code sizing it for deep recursion means, is the stack.
    if let Some(size) = options.scratch_size {
        let size = bytes("scratch size", size)?;
        builder = match backend {
            polybox::Backend::Hyperlight => builder.scratch_size(size),
            polybox::Backend::Wasmtime => builder.stack_size(size),
        };
    }
    if let Some(size) = options.input_buffer_size {
        builder = builder.input_buffer_size(bytes("input buffer size", size)?);
    }
    if let Some(size) = options.output_buffer_size {
        builder = builder.output_buffer_size(bytes("output buffer size", size)?);
    }
    if let Some(enabled) = options.fuel_metering {
        builder = builder.fuel_metering(enabled);
    }
    Ok(AsyncTask::new(Job::new(
        move || builder.build(),
        NativeProtoSandbox::new,
    )))
}
