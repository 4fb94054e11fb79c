//! Installs `console`, `print`, `TextEncoder`, `TextDecoder` and a securely
//! seeded `Math.random` (`globals.js`, `random.rs`) with the native helpers
//! they close over.

use alloc::string::String;

use rquickjs::{Ctx, Exception, Function, Object, Result, TypedArray, Value};

use super::bytes::{copy_bytes, uint8_array};
use crate::bindings::polybox::sandbox::platform::{self, LogLevel};
use crate::script::script_function;

const GLOBALS_SOURCE: &str = include_str!("globals.js");

/// Evaluates `globals.js` in `ctx`.
pub fn install(ctx: &Ctx<'_>) -> Result<()> {
    let natives = Object::new(ctx.clone())?;
    natives.set("log", Function::new(ctx.clone(), log)?)?;
    natives.set("utf8Encode", Function::new(ctx.clone(), utf8_encode)?)?;
    natives.set("utf8Decode", Function::new(ctx.clone(), utf8_decode)?)?;
    natives.set("random", super::random::function(ctx)?)?;
    let setup = script_function(ctx, "polybox:globals", GLOBALS_SOURCE)?;
    setup.call::<_, ()>((natives,))
}

fn log(level: String, message: String) {
    let level = match level.as_str() {
        "debug" => LogLevel::Debug,
        "warn" => LogLevel::Warn,
        "error" => LogLevel::Error,
        _ => LogLevel::Info,
    };
    platform::log(level, &message);
}

fn utf8_encode<'js>(ctx: Ctx<'js>, text: String) -> Result<Value<'js>> {
    uint8_array(&ctx, text.into_bytes())
}

fn utf8_decode<'js>(ctx: Ctx<'js>, bytes: TypedArray<'js, u8>, fatal: bool) -> Result<String> {
    let bytes = copy_bytes(&bytes);
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(_) if fatal => Err(Exception::throw_type(
            &ctx,
            "The encoded data was not valid utf-8",
        )),
        Err(error) => Ok(String::from_utf8_lossy(error.as_bytes()).into_owned()),
    }
}
