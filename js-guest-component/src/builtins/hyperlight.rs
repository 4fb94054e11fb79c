//! hyperlight-js compatibility (`hyperlight.js`): the global `require` and
//! `String.bytesFrom`, and the sources of the modules `console`, `io` and
//! `require` as hyperlight-js guests import them.

use alloc::string::String;

use rquickjs::{Ctx, Function, Module, Object, Result, Value};

use crate::script::script_function;

const HYPERLIGHT_SOURCE: &str = include_str!("hyperlight.js");

/// The module `console`: `log`, which writes its arguments to the log, as
/// the global `console.log` does.
pub const CONSOLE_MODULE: &str =
    "const { log } = globalThis.console;\nexport { log };\nexport default { log };\n";

/// The module `io`: `print`, which writes its text to the log (a line: a
/// final newline is the line's end), and `flush`, which has nothing to do
/// (the log is written a line at a time).
pub const IO_MODULE: &str = "const write = globalThis.print;\nexport function print(text) { write(String(text).replace(/\\n$/, '')); }\nexport function flush() {}\nexport default { print, flush };\n";

/// The module `require`: the global `require`, by name and as the default.
pub const REQUIRE_MODULE: &str =
    "const require = globalThis.require;\nexport { require };\nexport default require;\n";

/// Installs the global `require` and `String.bytesFrom`.
pub fn install(ctx: &Ctx<'_>) -> Result<()> {
    let natives = Object::new(ctx.clone())?;
    natives.set("importNow", Function::new(ctx.clone(), import_now)?)?;
    let setup = script_function(ctx, "polybox:hyperlight", HYPERLIGHT_SOURCE)?;
    setup.call((natives,))
}

/// Imports module `name`: its namespace, or, while its top-level `await`
/// is pending, the promise of it.
fn import_now<'js>(ctx: Ctx<'js>, name: String) -> Result<Value<'js>> {
    let promise = Module::import(&ctx, name)?;
    match promise.finish::<Object>() {
        Ok(namespace) => Ok(namespace.into_value()),
        Err(rquickjs::Error::WouldBlock) => Ok(promise.into_value()),
        Err(error) => Err(error),
    }
}
