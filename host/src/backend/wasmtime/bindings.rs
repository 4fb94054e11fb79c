//! Rust bindings for the worlds of `wit/sandbox.wit`: `js-runtime` (the JS
//! guest) and `handler` (handler components), sharing the `types` and
//! `host-call` interfaces.

wasmtime::component::bindgen!({
    world: "js-runtime",
    path: "../wit",
});

pub(super) use self::exports::polybox::sandbox::runtime::HostModule;
pub(super) use self::polybox::sandbox::host_call::CallError;
pub(super) use self::polybox::sandbox::types::{ErrorKind, GuestError};

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
