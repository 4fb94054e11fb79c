//! Bytes in handler events and results, and in host functions' arguments
//! and results.
//!
//! Events and results cross as JSON text, which has no bytes, and
//! `JSON.stringify` would write a `Uint8Array` as an object of numbered
//! keys. So a `Uint8Array` or `ArrayBuffer` travels as an object with the
//! single key `"\u0000bytes"` holding its bytes in base64 (the Node addon and
//! the Python guest write and read the same form). Only such objects are
//! revived, and only when the event's text holds the key (other events pay
//! one fast substring search). A result is written as usual; only if
//! its text shows a shape bytes take (`{"0":` or `{}`) is it written again,
//! with `Uint8Array` and `ArrayBuffer` given a `toJSON` for that moment, so
//! guest code's own `JSON.stringify` is the standard one. (A result written
//! twice runs its getters and `toJSON`s twice.)

use alloc::string::String;
use alloc::vec::Vec;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use memchr::memmem;
use rquickjs::function::This;
use rquickjs::{ArrayBuffer, Atom, Ctx, Exception, Function, Object, Result, TypedArray, Value};

use crate::builtins::bytes::{copy_bytes, uint8_array};
use crate::json_text;

/// The key of a bytes value.
pub const KEY: &str = "\0bytes";

/// The key as JSON writes it, followed by the colon of its member.
const KEY_IN_JSON: &str = "\"\\u0000bytes\":";

/// Whether the JSON text `json` may hold a bytes value. (`memchr`'s
/// searches, not `str::contains`: an event's whole text is searched on
/// every call, and these are several times faster on long texts.)
pub fn may_hold(json: &str) -> bool {
    memmem::find(json.as_bytes(), KEY_IN_JSON.as_bytes()).is_some()
}

/// Whether the JSON text of a result may hold bytes that `JSON.stringify`
/// wrote as numbered keys (`{"0":1}`, or `{}` when empty or an
/// `ArrayBuffer`).
pub fn may_be_bytes(json: &str) -> bool {
    let json = json.as_bytes();
    memchr::memchr_iter(b'{', json).any(|at| {
        let after = &json[at + 1..];
        after.starts_with(b"}") || after.starts_with(b"\"0\":")
    })
}

/// `value` as JSON text with its bytes as bytes values: written as usual,
/// and written again with [`Writing`] only if its text shows a shape
/// `JSON.stringify` gives bytes. `None` when it has no JSON form
/// (`undefined`, a function, a symbol).
pub fn stringify<'js>(ctx: &Ctx<'js>, value: Value<'js>) -> Result<Option<String>> {
    let Some(json) = ctx.json_stringify(value.clone())? else {
        return Ok(None);
    };
    let json = json.to_string()?;
    if !may_be_bytes(&json) {
        return Ok(Some(json));
    }
    let writing = Writing::start(ctx)?;
    let again = ctx.json_stringify(value);
    drop(writing);
    again?.map(|json| json.to_string()).transpose()
}

/// The JSON text `json` parsed, its bytes values revived when it may hold
/// any.
pub fn parse<'js>(ctx: &Ctx<'js>, json: String) -> Result<Value<'js>> {
    let holds_bytes = may_hold(&json);
    let value = json_text::parse(ctx, json)?;
    if holds_bytes {
        revive(ctx, value)
    } else {
        Ok(value)
    }
}

/// `value` (a parsed event) with its bytes values made `Uint8Array`s. A
/// bytes value that is not base64 is a `TypeError`.
pub fn revive<'js>(ctx: &Ctx<'js>, value: Value<'js>) -> Result<Value<'js>> {
    let key = Atom::from_str(ctx.clone(), KEY)?;
    Ok(revived(ctx, &key, &value)?.unwrap_or(value))
}

/// The replacement for `value`, if it or anything in it is a bytes value.
/// Keys are handled as atoms: the bytes key holds a NUL, which a C string
/// of it would cut.
fn revived<'js>(ctx: &Ctx<'js>, key: &Atom<'js>, value: &Value<'js>) -> Result<Option<Value<'js>>> {
    let Some(object) = value.as_object() else {
        return Ok(None);
    };
    let keys = object.keys::<Atom>().collect::<Result<Vec<_>>>()?;
    if let [only] = keys.as_slice()
        && only == key
        && let Some(text) = object.get::<_, Value>(key.clone())?.as_string()
    {
        let text = text.to_string()?;
        return match STANDARD.decode(text.as_bytes()) {
            Ok(bytes) => uint8_array(ctx, bytes).map(Some),
            Err(error) => Err(Exception::throw_type(
                ctx,
                &alloc::format!("a bytes value (\"\\u0000bytes\") is not base64: {error}"),
            )),
        };
    }
    for member_key in keys {
        let member: Value = object.get(member_key.clone())?;
        if let Some(replacement) = revived(ctx, key, &member)? {
            object.set(member_key, replacement)?;
        }
    }
    Ok(None)
}

/// `toJSON` on `Uint8Array.prototype` and `ArrayBuffer.prototype` while it
/// lives, where neither has one already.
pub struct Writing<'js> {
    installed: Vec<Object<'js>>,
}

impl<'js> Writing<'js> {
    /// Installs the `toJSON`s.
    pub fn start(ctx: &Ctx<'js>) -> Result<Self> {
        let mut installed = Vec::new();
        let to_json = Function::new(ctx.clone(), to_json)?;
        for class in ["Uint8Array", "ArrayBuffer"] {
            let prototype: Object = ctx.globals().get::<_, Object>(class)?.get("prototype")?;
            // A `toJSON` the guest gave them (or `Object.prototype`) wins,
            // as it would in any JavaScript.
            if !prototype.get::<_, Value>("toJSON")?.is_undefined() {
                continue;
            }
            match prototype.set("toJSON", to_json.clone()) {
                Ok(()) => installed.push(prototype),
                // A frozen prototype: bytes are written as JSON would.
                Err(_) => drop(ctx.catch()),
            }
        }
        Ok(Self { installed })
    }
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        for prototype in &self.installed {
            let _ = prototype.remove("toJSON");
        }
    }
}

/// The bytes value of `this`, a `Uint8Array` or `ArrayBuffer`.
fn to_json<'js>(ctx: Ctx<'js>, this: This<Object<'js>>) -> Result<Object<'js>> {
    let bytes = match TypedArray::<u8>::from_object(this.0.clone()) {
        Ok(array) => copy_bytes(&array),
        Err(_) => match ArrayBuffer::from_object(this.0) {
            // SAFETY: copied at once; no JavaScript runs while it lives.
            Some(buffer) => unsafe { buffer.as_bytes() }
                .map(<[u8]>::to_vec)
                .unwrap_or_default(),
            None => {
                return Err(Exception::throw_type(
                    &ctx,
                    "not a Uint8Array or ArrayBuffer",
                ));
            }
        },
    };
    let value = Object::new(ctx)?;
    value.set(KEY, STANDARD.encode(bytes))?;
    Ok(value)
}
