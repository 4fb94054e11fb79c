//! Modules the host implements: JavaScript functions that call the host.
//!
//! Each is generated as ES module source that forwards its arguments, as a
//! JSON array, to the internal `#host-bridge` module, naming the module by its
//! specifier. A host error becomes a JavaScript `Error` carrying the host's
//! message (a `TypeError` when the arguments did not fit the function's
//! types), which the script can catch.

use alloc::string::{String, ToString};
use core::fmt::Write;

use rquickjs::module::{Declarations, Exports, ModuleDef};
use rquickjs::{Ctx, Exception, Function, Result, Value};

use crate::bindings::polybox::sandbox::host_call::{self, CallError};
use crate::event_bytes;

/// Generates the source of the module with specifier `specifier`, exporting
/// `functions`. Names that are not identifiers are exported as string names.
pub fn host_module_source(specifier: &str, functions: &[String]) -> String {
    let mut source = String::from("import { call } from \"#host-bridge\";\n");
    let module = js_string(specifier);
    for (i, function) in functions.iter().enumerate() {
        let function = js_string(function);
        let _ = writeln!(
            source,
            "const f{i} = (...args) => call({module}, {function}, args);\nexport {{ f{i} as {function} }};"
        );
    }
    source
}

/// A JavaScript string literal for `text`.
fn js_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The internal module exporting `call(module, function, args)`.
pub struct HostBridge;

impl ModuleDef for HostBridge {
    fn declare<'js>(declarations: &Declarations<'js>) -> Result<()> {
        declarations.declare("call")?;
        Ok(())
    }

    fn evaluate<'js>(ctx: &Ctx<'js>, exports: &Exports<'js>) -> Result<()> {
        exports.export("call", Function::new(ctx.clone(), call)?)?;
        Ok(())
    }
}

pub fn call<'js>(
    ctx: Ctx<'js>,
    module: String,
    function: String,
    args: Value<'js>,
) -> Result<Value<'js>> {
    let args = event_bytes::stringify(&ctx, args)?.unwrap_or_else(|| "[]".to_string());
    match host_call::call(&module, &function, &args) {
        Ok(result) => event_bytes::parse(&ctx, result),
        Err(CallError::Failed(message)) => Err(Exception::throw_message(&ctx, &message)),
        Err(CallError::TypeMismatch(message)) => Err(Exception::throw_type(&ctx, &message)),
    }
}

/// Calls `function` of the internal host module `module` (the runtime's own
/// libraries: `polybox:fs`, `polybox:net`) with `args`, a JSON array;
/// returns the host's JSON answer. A failed call is an internal error: those
/// modules answer expected failures in their JSON.
pub fn internal_call(ctx: &Ctx<'_>, module: &str, function: &str, args: &str) -> Result<String> {
    host_call::call(module, function, args).map_err(|error| match error {
        CallError::Failed(message) | CallError::TypeMismatch(message) => {
            Exception::throw_internal(ctx, &message)
        }
    })
}
