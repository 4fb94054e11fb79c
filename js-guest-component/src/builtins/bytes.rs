//! Conversions between `Uint8Array`s and Rust byte buffers. The JavaScript
//! wrappers turn every other buffer type into a `Uint8Array` first.

use alloc::string::String;
use alloc::vec::Vec;

use rquickjs::{Ctx, Result, TypedArray, Value};

/// A copy of the bytes a `Uint8Array` covers (empty if it is detached).
pub fn copy_bytes(array: &TypedArray<'_, u8>) -> Vec<u8> {
    // SAFETY: the slice is copied at once; no JavaScript runs while it lives.
    unsafe { array.as_bytes() }
        .map(<[u8]>::to_vec)
        .unwrap_or_default()
}

/// A new `Uint8Array` holding `bytes`.
pub fn uint8_array<'js>(ctx: &Ctx<'js>, bytes: Vec<u8>) -> Result<Value<'js>> {
    Ok(TypedArray::<u8>::new(ctx.clone(), bytes)?.into_value())
}

/// Lowercase hexadecimal.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}
