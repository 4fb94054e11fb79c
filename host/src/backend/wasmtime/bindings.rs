//! Rust bindings for the worlds of `wit/sandbox.wit`: `js-runtime` (the JS
//! guest) and `handler` (handler components), sharing the `types` and
//! `host-call` interfaces.
//!
//! The generated names that would read like the crate's own types are used
//! under names of their own: the `guest-error` record is a [`GuestReport`]
//! (the crate's `GuestError` is what it becomes), the `host-module` record a
//! [`ModuleDeclaration`], the runtime's exports [`RuntimeExports`].

wasmtime::component::bindgen!({
    world: "js-runtime",
    path: "../wit",
});

pub(super) use self::exports::polybox::sandbox::runtime::{
    Guest as RuntimeExports, HostModule as ModuleDeclaration, Program, ProgramKind,
};
pub(super) use self::polybox::sandbox::host_call::CallError;
pub(super) use self::polybox::sandbox::types::{ErrorKind, GuestError as GuestReport};

/// The `handler` world.
pub(super) mod handler {
    wasmtime::component::bindgen!({
        world: "handler",
        path: "../wit",
        with: {
            "polybox:sandbox/types": super::polybox::sandbox::types,
            "polybox:sandbox/host-call": super::polybox::sandbox::host_call,
        },
    });
}
