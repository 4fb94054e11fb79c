//! Components as the addon receives them: a file path or the bytes.

use napi::Either;
use napi::bindgen_prelude::{Uint8Array, Unknown};
use polybox::WasmComponent;

use crate::args::describe;
use crate::error::{Result, invalid_arg, to_js};

/// A component given as a path (`string`) or its bytes (`Uint8Array`), or
/// whatever arrived instead.
pub type ComponentSource<'a> = Either<Either<String, Uint8Array>, Unknown<'a>>;

/// Reads or copies the component.
pub fn component(source: ComponentSource<'_>) -> Result<WasmComponent> {
    match source {
        Either::A(Either::A(path)) => WasmComponent::from_file(path).map_err(to_js),
        Either::A(Either::B(bytes)) => Ok(WasmComponent::from_bytes(bytes.to_vec())),
        Either::B(other) => Err(invalid_arg(format!(
            "a component must be a file path or a Uint8Array, not {}",
            describe(&other)
        ))),
    }
}
