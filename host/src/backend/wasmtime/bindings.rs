//! Rust bindings for the `js-runtime` world of `wit/sandbox.wit`.

wasmtime::component::bindgen!({
    world: "js-runtime",
    path: "../wit",
});

pub(super) use self::exports::polybox::sandbox::runtime::HostModule;
pub(super) use self::polybox::sandbox::types::{ErrorKind, GuestError};
