//! Rust bindings for the `js-runtime` world of `wit/sandbox.wit`.

wasmtime::component::bindgen!({
    world: "js-runtime",
    path: "../wit",
});

pub(super) use exports::polybox::sandbox::runtime::HostModule;
pub(super) use polybox::sandbox::types::{ErrorKind, GuestError};
