//! # The Polybox JavaScript guest
//!
//! QuickJS (through `rquickjs`) built as a WebAssembly component that
//! implements the `js-runtime` world of `wit/sandbox.wit`.
//!
//! The same artifact must run under wasmtime and inside a Hyperlight
//! micro-VM, which supplies no WASI. So the component imports nothing but the
//! `polybox:sandbox` interfaces: the crate is `no_std` (Rust's std would pull
//! in WASI for panics, stdio and hashing seeds), allocates through wasi-libc's
//! `malloc` (`allocator.rs`), and `libc_shims.c` replaces the few libc
//! functions QuickJS calls that would reach WASI (stdio, clocks) with calls to
//! the `platform` import.

#![no_std]

extern crate alloc;

mod allocator;
mod builtins;
mod error;
mod event_bytes;
mod host_bridge;
mod json_text;
mod modules;
mod platform;
mod program;
mod runtime;
mod script;
mod settle;
mod stack_limit;

mod bindings {
    wit_bindgen::generate!({ world: "js-runtime", path: "../wit", std_feature });
}

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::UnsafeCell;

use bindings::exports::polybox::sandbox::runtime::{
    Guest, GuestError, HostModule, Program, ProgramExit,
};
use runtime::JsRuntime;

/// The instance's single runtime, created on first use.
struct Instance(UnsafeCell<Option<JsRuntime>>);

// SAFETY: a wasm32 component instance is single-threaded, and the component
// model forbids re-entering an instance while one of its exports runs, so no
// two `with_runtime` borrows can overlap.
unsafe impl Sync for Instance {}

static INSTANCE: Instance = Instance(UnsafeCell::new(None));

/// Every export's way in: the runtime, and a fresh seed for `Math.random`
/// (the instance may have been restored since the last call).
fn with_runtime<R>(f: impl FnOnce(&mut JsRuntime) -> R) -> R {
    builtins::random::forget_seed();
    // SAFETY: see `impl Sync for Instance`; exports are the only callers and
    // they never nest.
    let slot = unsafe { &mut *INSTANCE.0.get() };
    f(slot.get_or_insert_with(JsRuntime::new))
}

struct Exports;

impl Guest for Exports {
    fn set_host_modules(modules: Vec<HostModule>) {
        let modules = modules
            .into_iter()
            .map(|m| (m.specifier, m.functions))
            .collect();
        with_runtime(|rt| rt.set_host_modules(modules));
    }

    fn set_stack_limit(bytes: u32) {
        with_runtime(|rt| rt.set_stack_limit(bytes as usize));
    }

    fn set_heap_limit(bytes: u64) {
        with_runtime(|rt| rt.set_heap_limit(usize::try_from(bytes).unwrap_or(usize::MAX)));
    }

    fn add_module(namespace: String, name: String, source: String) -> Result<(), GuestError> {
        with_runtime(|rt| rt.add_module(&namespace, &name, source))
    }

    fn remove_module(namespace: String, name: String) -> bool {
        with_runtime(|rt| rt.remove_module(&namespace, &name))
    }

    fn add_handler(name: String, source: String) -> Result<(), GuestError> {
        with_runtime(|rt| rt.add_handler(&name, &source))
    }

    fn remove_handler(name: String) -> bool {
        with_runtime(|rt| rt.remove_handler(&name))
    }

    fn call_handler(name: String, event: String, run_gc: bool) -> Result<String, GuestError> {
        with_runtime(|rt| rt.call_handler(&name, event, run_gc))
    }

    fn prepare_programs() {
        with_runtime(JsRuntime::prepare_programs);
    }

    fn run_program(program: Program) -> ProgramExit {
        with_runtime(|rt| rt.run_program(&program))
    }
}

bindings::export!(Exports with_types_in bindings);
