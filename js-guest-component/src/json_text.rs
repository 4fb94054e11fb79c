//! JSON text into QuickJS values, reusing the text's own buffer.
//!
//! `Ctx::json_parse` copies its text into a new `Vec`, scans it for NUL
//! bytes and copies it again to append the NUL QuickJS needs after the last
//! byte. Events and host answers arrive here as owned strings, and events
//! are the largest texts a guest reads (64 KiB and more), so the NUL is
//! pushed onto the string's own buffer instead.

use alloc::string::String;

use rquickjs::{Ctx, Error, Result, Value, qjs};

/// Parses `text` as `JSON.parse` does. A failure is [`Error::Exception`],
/// the `SyntaxError` pending on the context.
pub fn parse<'js>(ctx: &Ctx<'js>, text: String) -> Result<Value<'js>> {
    let mut bytes = text.into_bytes();
    let len = bytes.len();
    bytes.push(0);
    // SAFETY: `bytes` holds `len` bytes and then a NUL, as `JS_ParseJSON`
    // requires, and outlives the call; `ctx` is a live context. Any byte
    // that cannot stand where it is (a NUL among them) is a syntax error.
    let value = unsafe {
        qjs::JS_ParseJSON(
            ctx.as_raw().as_ptr(),
            bytes.as_ptr().cast(),
            len as _,
            c"<input>".as_ptr(),
        )
    };
    // SAFETY: reading the tag of a value just returned.
    if unsafe { qjs::JS_IsException(value) } {
        return Err(Error::Exception);
    }
    // SAFETY: `JS_ParseJSON` returns a value of `ctx`'s runtime that the
    // caller owns, and it is not the exception marker.
    Ok(unsafe { Value::from_raw(ctx.clone(), value) })
}
