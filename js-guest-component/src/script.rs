//! Evaluating a classic script under a file name of our choosing, and from
//! a line number of our choosing, so that stack traces point at the user's
//! file and line even when the source was wrapped (a CommonJS program), and
//! name the runtime's own scripts. (rquickjs names scripts only when built
//! with `std`, which this guest cannot be.)

use alloc::ffi::CString;
use core::ffi::CStr;

use rquickjs::{Ctx, Error, Exception, Function, Result, Value, qjs};

/// Evaluates `source` as a global script named `filename` whose first line
/// is line `first_line` (QuickJS reads 0 as 1).
pub fn eval_script<'js>(
    ctx: &Ctx<'js>,
    filename: &str,
    first_line: i32,
    source: &str,
) -> Result<Value<'js>> {
    eval_c_script(ctx, filename, first_line, &CString::new(source)?)
}

/// [`eval_script`] for source that is NUL-terminated already, such as a
/// large built-in script, which is then not copied.
pub fn eval_c_script<'js>(
    ctx: &Ctx<'js>,
    filename: &str,
    first_line: i32,
    source: &CStr,
) -> Result<Value<'js>> {
    eval_with_flags(ctx, filename, first_line, source, qjs::JS_EVAL_TYPE_GLOBAL)
}

/// Evaluates `source` as a global script named `filename` that may use
/// top-level `await`, as a REPL line: a promise of `{ value }`, its
/// completion value. Its top-level declarations stay in the realm.
pub fn eval_async_script<'js>(ctx: &Ctx<'js>, filename: &str, source: &str) -> Result<Value<'js>> {
    let flags = qjs::JS_EVAL_TYPE_GLOBAL | qjs::JS_EVAL_FLAG_ASYNC;
    eval_with_flags(ctx, filename, 1, &CString::new(source)?, flags)
}

fn eval_with_flags<'js>(
    ctx: &Ctx<'js>,
    filename: &str,
    first_line: i32,
    source: &CStr,
    flags: u32,
) -> Result<Value<'js>> {
    let length = source.count_bytes();
    let filename = CString::new(filename)?;
    let mut options = qjs::JSEvalOptions {
        version: qjs::JS_EVAL_OPTIONS_VERSION as i32,
        eval_flags: flags as i32,
        filename: filename.as_ptr(),
        line_num: first_line,
    };
    // SAFETY: `ctx` is a live context on this thread; `source` is
    // NUL-terminated at `length`, and it and `options` (with `filename`)
    // outlive the call.
    let raw = unsafe {
        qjs::JS_Eval2(
            ctx.as_raw().as_ptr(),
            source.as_ptr(),
            length as _,
            &mut options,
        )
    };
    // SAFETY: `raw` is the value JS_Eval2 just returned.
    if unsafe { qjs::JS_IsException(raw) } {
        return Err(Error::Exception);
    }
    // SAFETY: `raw` is an owned, live value of `ctx`; `Value` takes it over.
    Ok(unsafe { Value::from_raw(ctx.clone(), raw) })
}

/// Evaluates a built-in script named `filename`, whose source is a function
/// expression, and returns that function.
pub fn script_function<'js>(ctx: &Ctx<'js>, filename: &str, source: &str) -> Result<Function<'js>> {
    c_script_function(ctx, filename, &CString::new(source)?)
}

/// [`script_function`] for source that is NUL-terminated already (an
/// embedded bundle, see [`nul_terminated`]), which is then not copied.
pub fn c_script_function<'js>(
    ctx: &Ctx<'js>,
    filename: &str,
    source: &CStr,
) -> Result<Function<'js>> {
    eval_c_script(ctx, filename, 1, source)?
        .into_function()
        .ok_or_else(|| Exception::throw_internal(ctx, "a built-in script is not a function"))
}

/// The file at `path` (relative to the file that names it), embedded with
/// a NUL at its end, as [`eval_c_script`] takes it: a large bundle is then
/// evaluated where it lies. A NUL inside fails the build.
macro_rules! nul_terminated {
    ($path:literal) => {
        match core::ffi::CStr::from_bytes_with_nul(concat!(include_str!($path), "\0").as_bytes()) {
            Ok(source) => source,
            Err(_) => panic!(concat!($path, " holds a NUL byte")),
        }
    };
}
pub(crate) use nul_terminated;

/// Compiles CommonJS `source` named `filename`: the source wrapped in a
/// function of `exports`, `require`, `module`, `__filename` and
/// `__dirname`. The wrapper takes lines -1 and 0 (QuickJS reads a first line
/// of 0 as 1), so lines and columns in stacks stay the file's.
pub fn commonjs_function<'js>(
    ctx: &Ctx<'js>,
    filename: &str,
    source: &str,
) -> Result<Function<'js>> {
    let wrapped = alloc::format!(
        "(function (exports, require, module, __filename, __dirname) {{\n\n{source}\n}})"
    );
    eval_script(ctx, filename, -1, &wrapped)?
        .into_function()
        .ok_or(Error::Exception)
}
