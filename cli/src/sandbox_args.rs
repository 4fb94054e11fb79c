//! The flags `run` and `exec` share: the sandbox's sizes and backend, and
//! the limits of a call.

use std::path::Path;
use std::time::Duration;

use clap::Args;
use polybox::{Backend, CallLimits, Language, SandboxBuilder};

use crate::size::parse_size;

/// The sandbox's sizes and backend.
#[derive(Args)]
pub struct SandboxArgs {
    /// How far guest memory may grow (e.g. 64MiB; default 32MiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    heap: Option<usize>,
    /// The guest's stack (e.g. 2MiB; default 1MiB, at most 8MiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    stack: Option<usize>,
    /// The largest input accepted: an event, or a program's source and
    /// stdin (default 1MiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    input_buffer: Option<usize>,
    /// The largest result returned (default 1MiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    output_buffer: Option<usize>,
    /// Where the sandbox runs: `wasmtime` (in process) or `hyperlight`
    /// (inside a micro-VM; needs a usable hypervisor).
    #[arg(long, default_value = "wasmtime")]
    backend: Backend,
    /// The guest's language: `javascript` or `python` (default: a `.py`
    /// file is Python, anything else JavaScript).
    #[arg(long, value_name = "LANGUAGE")]
    language: Option<Language>,
}

impl SandboxArgs {
    /// The backend chosen.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The language chosen by --language, else by `path`'s extension.
    pub fn language(&self, path: Option<&Path>) -> Language {
        self.language
            .or_else(|| path.and_then(Language::of_path))
            .unwrap_or_default()
    }

    /// Takes the language from `path`'s extension unless --language chose.
    pub fn language_of(&mut self, path: &Path) {
        if self.language.is_none() {
            self.language = Language::of_path(path);
        }
    }

    /// The input buffer's size, if given.
    pub fn input_buffer(&self) -> Option<usize> {
        self.input_buffer
    }

    /// A builder with these settings; fuel is metered if `limits` has a
    /// fuel budget.
    pub fn builder(&self, limits: &LimitArgs) -> SandboxBuilder {
        let mut builder = SandboxBuilder::new()
            .backend(self.backend)
            .language(self.language.unwrap_or_default())
            .fuel_metering(limits.fuel.is_some());
        for (size, set) in [
            (self.heap, SandboxBuilder::heap_size as fn(_, _) -> _),
            (self.stack, SandboxBuilder::stack_size),
            (self.input_buffer, SandboxBuilder::input_buffer_size),
            (self.output_buffer, SandboxBuilder::output_buffer_size),
        ] {
            if let Some(size) = size {
                builder = set(builder, size);
            }
        }
        builder
    }
}

/// The limits of a call.
#[derive(Args)]
pub struct LimitArgs {
    /// Stop after this many milliseconds of wall-clock time.
    #[arg(
        long,
        visible_alias = "timeout-ms",
        value_name = "MS",
        default_value_t = 30_000
    )]
    wall_ms: u64,
    /// Stop after this many milliseconds of CPU time.
    #[arg(long, value_name = "MS")]
    cpu_ms: Option<u64>,
    /// Stop after this much fuel (about one unit per wasm instruction).
    #[arg(long, value_name = "UNITS")]
    fuel: Option<u64>,
}

impl LimitArgs {
    /// The limits as the crate takes them.
    pub fn limits(&self) -> CallLimits {
        CallLimits {
            wall_clock: Some(Duration::from_millis(self.wall_ms)),
            cpu_time: self.cpu_ms.map(Duration::from_millis),
            fuel: self.fuel,
        }
    }
}
