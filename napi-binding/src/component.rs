//! Components as the addon receives them: a file path or the bytes.

use napi::Either;
use napi::bindgen_prelude::Uint8Array;
use polybox::WasmComponent;

use crate::error::to_js;

/// A component given as a path (`string`) or its bytes (`Uint8Array`).
pub type ComponentSource = Either<String, Uint8Array>;

/// Reads or copies the component.
pub fn component(source: ComponentSource) -> napi::Result<WasmComponent> {
    match source {
        Either::A(path) => WasmComponent::from_file(path).map_err(to_js),
        Either::B(bytes) => Ok(WasmComponent::from_bytes(bytes.to_vec())),
    }
}
