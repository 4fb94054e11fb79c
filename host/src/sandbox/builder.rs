//! [`SandboxBuilder`]: sizes, backend and log sink of a new sandbox.

use std::sync::Arc;

use super::ProtoJSSandbox;
use crate::capability::fs::{Mount, SharedFiles};
use crate::capability::host_functions::CallContext;
use crate::capability::log::tracing_sink;
use crate::capability::net::{HttpHandler, HttpRequest, HttpResponse, NetConfig, Secret};
use crate::capability::tools::Tool;
use crate::capability::{LogLevel, LogSink};
use crate::config::{
    Backend, DEFAULT_HEAP_SIZE, DEFAULT_INPUT_BUFFER_SIZE, DEFAULT_OUTPUT_BUFFER_SIZE,
    DEFAULT_PYTHON_HEAP_SIZE, Language, SandboxConfig,
};
use crate::error::{Error, Result};
use crate::permissions::Permissions;

/// Configures and builds a sandbox.
///
/// ```
/// # fn main() -> polybox::Result<()> {
/// let proto = polybox::SandboxBuilder::new()
///     .heap_size(16 * 1024 * 1024)
///     .input_buffer_size(64 * 1024)
///     .build()?;
/// # let _ = proto; Ok(()) }
/// ```
#[derive(Clone)]
pub struct SandboxBuilder {
    config: SandboxConfig,
    /// The stack size, when set (the default depends on the backend).
    stack_size: Option<usize>,
    /// The heap size, when set (the default depends on the language).
    heap_size: Option<usize>,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl SandboxBuilder {
    /// A builder with the default sizes on the wasmtime backend.
    pub fn new() -> Self {
        Self {
            config: SandboxConfig {
                backend: Backend::default(),
                language: Language::default(),
                // Both decided by `build`, from the language and backend.
                heap_size: 0,
                stack_size: 0,
                scratch_size: None,
                input_buffer_size: DEFAULT_INPUT_BUFFER_SIZE,
                output_buffer_size: DEFAULT_OUTPUT_BUFFER_SIZE,
                fuel_metering: false,
                log_sink: tracing_sink(),
                programs: false,
                fs: Arc::default(),
                permissions: Arc::default(),
                net: NetConfig::default(),
                tools: Arc::default(),
                env: Arc::default(),
                hostcalls: None,
            },
            stack_size: None,
            heap_size: None,
        }
    }

    /// How far guest memory may grow, in bytes (default 32 MiB for
    /// JavaScript; 64 MiB for Python, whose started interpreter takes 19 MiB
    /// of it). Allocating beyond it is a catchable `out of memory` error in
    /// JavaScript, a `MemoryError` in Python.
    pub fn heap_size(mut self, bytes: usize) -> Self {
        self.heap_size = Some(bytes);
        self
    }

    /// The deepest native stack a call may use, in bytes: about 900 levels of
    /// JavaScript recursion per MiB. On wasmtime the default is 1 MiB and
    /// the limit 8 MiB; on Hyperlight both are 512 KiB.
    /// Deeper recursion throws a catchable `RangeError`; uncaught, the call
    /// fails with [`ERR_STACK_OVERFLOW`](crate::ErrorCode::StackOverflow). On
    /// wasmtime guest code runs on the calling
    /// thread's stack, so a call from a thread with less room left (plus 128
    /// KiB for the host) is refused with `ERR_INVALID_ARG`.
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// The Hyperlight backend's scratch region, in bytes: the guest's
    /// memory (heap, stack, start-up) lives there. By default it is the heap
    /// size plus the stack size plus 8 MiB; smaller is refused. Setting it
    /// for the wasmtime backend is an error.
    pub fn scratch_size(mut self, bytes: usize) -> Self {
        self.config.scratch_size = Some(bytes);
        self
    }

    /// The largest event accepted, in bytes of JSON (default 1 MiB).
    pub fn input_buffer_size(mut self, bytes: usize) -> Self {
        self.config.input_buffer_size = bytes;
        self
    }

    /// The largest result returned, in bytes of JSON (default 1 MiB).
    pub fn output_buffer_size(mut self, bytes: usize) -> Self {
        self.config.output_buffer_size = bytes;
        self
    }

    /// Counts the instructions guest code executes, so calls can be given a
    /// [`FuelBudget`](crate::FuelBudget) and report fuel consumed. Off by
    /// default: metering slows compute-heavy code.
    pub fn fuel_metering(mut self, enabled: bool) -> Self {
        self.config.fuel_metering = enabled;
        self
    }

    /// The engine that runs the guest (default [`Backend::Wasmtime`]).
    pub fn backend(mut self, backend: Backend) -> Self {
        self.config.backend = backend;
        self
    }

    /// The language of the sandbox's handlers, modules and programs
    /// (default [`Language::JavaScript`]). Python needs the wasmtime
    /// backend: `build` refuses it on Hyperlight with `ERR_INVALID_ARG`.
    pub fn language(mut self, language: Language) -> Self {
        self.config.language = language;
        self
    }

    /// Where guest output (`console.*`, `print`) goes. By default each line
    /// is a `tracing` event with target `polybox::guest`.
    pub fn log_sink(mut self, sink: impl Fn(LogLevel, &str) + Send + Sync + 'static) -> Self {
        self.config.log_sink = Arc::new(sink) as LogSink;
        self
    }

    /// Makes the sandbox one for programs (`Runtime`).
    pub(crate) fn for_programs(mut self) -> Self {
        self.config.programs = true;
        self
    }

    /// What guests may reach: files, the network, the environment, tools
    /// (see [`Permissions`]). Nothing is granted by default, beyond what the
    /// filesystem's own configuration implies (mounts, seeded files, `/tmp`).
    pub fn permissions(mut self, permissions: Permissions) -> Self {
        self.config.permissions = Arc::new(permissions);
        self
    }

    /// Seeds the file `guest_path` (absolute) with `bytes`, in host memory:
    /// guests may read and write it; parent directories are made as needed.
    pub fn file(mut self, guest_path: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Arc::make_mut(&mut self.config.fs)
            .files
            .push((guest_path.into(), bytes.into()));
        self
    }

    /// Mounts a host directory (see [`Mount`]): read-only mounts may be
    /// read, writable ones written too. Nothing outside it is reachable
    /// through it, by `..` or by symbolic links.
    pub fn mount(mut self, mount: Mount) -> Self {
        Arc::make_mut(&mut self.config.fs).mounts.push(mount);
        self
    }

    /// Shares the in-memory files (seeded files, `/tmp`, what the host
    /// wrote) with every other sandbox built with `files`: what one
    /// program writes, the next sees (see [`SharedFiles`]).
    pub fn shared_files(mut self, files: SharedFiles) -> Self {
        Arc::make_mut(&mut self.config.fs).shared = Some(files);
        self
    }

    /// Adds a tool guests may call as `await tools.<name>(input)` or import
    /// from `host:tools` (see [`Tool`]). Allowed unless the policy's `tool`
    /// scope says otherwise; a second tool of the same name replaces the
    /// first.
    pub fn tool(mut self, tool: Tool) -> Self {
        let tools = Arc::make_mut(&mut self.config.tools);
        tools.retain(|t| t.name() != tool.name());
        tools.push(tool);
        self
    }

    /// Adds `name=value` to the environment user components see through
    /// `wasi:cli/environment` (the policy's `env` scope may still hide it).
    /// Nothing of the host's own environment reaches them; programs get
    /// theirs from [`RuntimeBuilder::env`](crate::RuntimeBuilder::env).
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let (name, value) = (name.into(), value.into());
        let env = Arc::make_mut(&mut self.config.env);
        env.retain(|(existing, _)| *existing != name);
        env.push((name, value));
        self
    }

    /// Answers guests' requests with `handler` instead of the network
    /// (see [`HttpHandler`]): it sees every request the policy allows (all
    /// of them when the policy has no `network` scope).
    pub fn http_handler(mut self, handler: impl HttpHandler + 'static) -> Self {
        self.config.net.handler = Some(Arc::new(move |request, _: &CallContext<'_>| {
            handler.handle(request)
        }));
        self
    }

    /// [`http_handler`](Self::http_handler), for a handler that needs the
    /// call it serves: one that waits (for another thread, a Node.js
    /// promise) can learn from [`CallContext::on_stop`] that the call was
    /// stopped, and give up at once.
    pub fn http_handler_with_context(
        mut self,
        handler: impl Fn(&HttpRequest, &CallContext<'_>) -> std::result::Result<HttpResponse, String>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.config.net.handler = Some(Arc::new(handler));
        self
    }

    /// Answers the guests' `await hostcall(name, payload)` (isola's guest
    /// API, which sessions define: see [`Session`](crate::Session)) with
    /// `handler(name, payload, context)`: its `Ok` value resolves the
    /// guest's promise, its `Err` rejects it with that message. Without a
    /// handler every hostcall is refused. Each name is a `tool` of the
    /// permissions policy.
    pub fn hostcall_handler(
        mut self,
        handler: impl Fn(
            &str,
            serde_json::Value,
            &CallContext<'_>,
        ) -> std::result::Result<serde_json::Value, String>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.config.hostcalls = Some(Arc::new(handler));
        self
    }

    /// Binds a placeholder to a secret for some hosts (see [`Secret`]).
    pub fn secret(mut self, secret: Secret) -> Self {
        self.config.net.secrets.push(secret);
        self
    }

    /// The largest response body a request reads (default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`](crate::DEFAULT_MAX_RESPONSE_BYTES));
    /// past it the guest's `fetch` fails with `EFBIG`.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.config.net.max_response_bytes = bytes;
        self
    }

    /// How long each request (each redirect hop) may take (default
    /// [`DEFAULT_REQUEST_TIMEOUT`](crate::DEFAULT_REQUEST_TIMEOUT)); past
    /// it the guest's `fetch` fails with `ETIMEDOUT`.
    pub fn request_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.config.net.timeout = timeout;
        self
    }

    /// The most the sandbox's in-memory files (seeded files, `/tmp`) may
    /// hold together, and the largest file read or written at once (default
    /// [`DEFAULT_FS_MEMORY_LIMIT`](crate::DEFAULT_FS_MEMORY_LIMIT)). Past it
    /// writes fail with `ENOSPC`.
    pub fn fs_memory_limit(mut self, bytes: usize) -> Self {
        Arc::make_mut(&mut self.config.fs).memory_limit = bytes;
        self
    }

    /// Validates the configuration and creates the sandbox.
    ///
    /// Fails with `ERR_INVALID_ARG` when a size is zero or out of range, a
    /// guest path is not absolute, a mount's host directory does not exist, or
    /// when the backend cannot honour a setting (fuel metering or more than
    /// 512 KiB of stack on Hyperlight, a scratch size on wasmtime).
    pub fn build(self) -> Result<ProtoJSSandbox> {
        let mut config = self.config;
        config.heap_size = self.heap_size.unwrap_or(match config.language {
            Language::JavaScript => DEFAULT_HEAP_SIZE,
            Language::Python => DEFAULT_PYTHON_HEAP_SIZE,
        });
        config.stack_size = self
            .stack_size
            .unwrap_or(config.backend.default_stack_size());
        for (what, value) in [
            ("heap size", config.heap_size),
            ("stack size", config.stack_size),
            ("input buffer size", config.input_buffer_size),
            ("output buffer size", config.output_buffer_size),
        ] {
            if value == 0 {
                return Err(Error::invalid_arg(format!(
                    "the {what} must be greater than zero"
                )));
            }
        }
        config.backend.check(&config)?;
        config.fs.validate()?;
        config.permissions.validate()?;
        Ok(ProtoJSSandbox::new(config))
    }
}
