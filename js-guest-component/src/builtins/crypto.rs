//! Native primitives of the `crypto` built-in module (`crypto.js`):
//! SHA-256/SHA-512 digests and HMACs, hex/base64/UTF-8 codecs, and random
//! bytes from the host's secure source.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rquickjs::module::{Declarations, Exports, ModuleDef};
use rquickjs::{Array, Ctx, Exception, Function, Result, TypedArray, Value};
use sha2::{Digest, Sha256, Sha512};

use super::bytes::{copy_bytes, to_hex, uint8_array};
use crate::bindings::polybox::sandbox::platform;

/// The most random bytes one call may ask for (as in WebCrypto).
const MAX_RANDOM_BYTES: u32 = 65_536;

/// The source of the `crypto` module.
pub const CRYPTO_SOURCE: &str = include_str!("crypto.js");

/// The internal module `#crypto` that `crypto.js` imports.
pub struct CryptoNatives;

impl ModuleDef for CryptoNatives {
    fn declare<'js>(declarations: &Declarations<'js>) -> Result<()> {
        for name in ["digest", "encode", "decode", "random"] {
            declarations.declare(name)?;
        }
        Ok(())
    }

    fn evaluate<'js>(ctx: &Ctx<'js>, exports: &Exports<'js>) -> Result<()> {
        exports.export("digest", Function::new(ctx.clone(), digest)?)?;
        exports.export("encode", Function::new(ctx.clone(), encode)?)?;
        exports.export("decode", Function::new(ctx.clone(), decode)?)?;
        exports.export("random", Function::new(ctx.clone(), random)?)?;
        Ok(())
    }
}

/// Hashes `chunks` (an array of `Uint8Array`) with `algorithm`, keyed (HMAC)
/// when `key` is given.
fn digest<'js>(
    ctx: Ctx<'js>,
    algorithm: String,
    chunks: Array<'js>,
    key: Option<TypedArray<'js, u8>>,
) -> Result<Value<'js>> {
    let mut data = Vec::new();
    for chunk in chunks.iter::<TypedArray<u8>>() {
        data.extend_from_slice(&copy_bytes(&chunk?));
    }
    let key = key.as_ref().map(copy_bytes);
    let out = match (algorithm.as_str(), key) {
        ("sha256", None) => Sha256::digest(&data).to_vec(),
        ("sha512", None) => Sha512::digest(&data).to_vec(),
        ("sha256", Some(key)) => hmac::<Hmac<Sha256>>(&key, &data),
        ("sha512", Some(key)) => hmac::<Hmac<Sha512>>(&key, &data),
        _ => {
            return Err(Exception::throw_type(
                &ctx,
                &format!("unknown digest {algorithm}"),
            ));
        }
    };
    uint8_array(&ctx, out)
}

fn hmac<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac =
        <M as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Encodes bytes as `hex`, `base64` or `base64url` text.
pub fn encode<'js>(ctx: Ctx<'js>, bytes: TypedArray<'js, u8>, encoding: String) -> Result<String> {
    let bytes = copy_bytes(&bytes);
    match encoding.as_str() {
        "hex" => Ok(to_hex(&bytes)),
        "base64" => Ok(STANDARD.encode(bytes)),
        "base64url" => Ok(URL_SAFE_NO_PAD.encode(bytes)),
        _ => Err(Exception::throw_type(
            &ctx,
            &format!("unsupported encoding {encoding:?} (use hex, base64 or base64url)"),
        )),
    }
}

/// Decodes `utf8`, `hex` or `base64` text into a `Uint8Array`.
pub fn decode<'js>(ctx: Ctx<'js>, text: String, encoding: String) -> Result<Value<'js>> {
    let bytes = match encoding.as_str() {
        "utf8" | "utf-8" => Some(text.into_bytes()),
        "hex" => from_hex(&text),
        "base64" => STANDARD.decode(text.as_bytes()).ok(),
        _ => {
            return Err(Exception::throw_type(
                &ctx,
                &format!("unsupported encoding {encoding:?} (use utf8, hex or base64)"),
            ));
        }
    };
    match bytes {
        Some(bytes) => uint8_array(&ctx, bytes),
        None => Err(Exception::throw_type(
            &ctx,
            &format!("invalid {encoding} text"),
        )),
    }
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `len` random bytes, at most [`MAX_RANDOM_BYTES`].
fn random<'js>(ctx: Ctx<'js>, len: u32) -> Result<Value<'js>> {
    if len > MAX_RANDOM_BYTES {
        return Err(Exception::throw_range(
            &ctx,
            &format!("asked for {len} random bytes; at most {MAX_RANDOM_BYTES} per call"),
        ));
    }
    uint8_array(&ctx, platform::random_bytes(len))
}
