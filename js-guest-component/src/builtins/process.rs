//! The natives behind `process.js`: standard streams through the `process`
//! import, the clock and timers (`timers.rs`), and the flag that makes
//! `process.exit` uncatchable. Also where the process's controls
//! are kept (the context's user data), for `run-program` and for the
//! internal `#node` module that core module imports go through.

use alloc::rc::Rc;
use alloc::string::String;
use core::cell::Cell;
use core::ffi::CStr;

use rquickjs::module::{Declarations, Exports, ModuleDef};
use rquickjs::{Ctx, Exception, Function, JsLifetime, Object, Result, TypedArray, Value};

use super::bytes::{copy_bytes, uint8_array};
use super::{crypto, timers};
use crate::bindings::polybox::sandbox::process;
use crate::host_bridge::internal_call;
use crate::script::{c_script_function, commonjs_function, nul_terminated, script_function};

const PROCESS_SOURCE: &str = include_str!("process.js");
const FS_SOURCE: &str = include_str!("fs.js");
const MODULES_SOURCE: &str = include_str!("modules.js");
const HTTP_SOURCE: &str = include_str!("http.js");

/// The host module the filesystem is served as (see `fs.js`).
const FS_MODULE: &str = "polybox:fs";

/// The internal module of the sandbox's virtual sockets (`http.js`).
const SOCKETS_MODULE: &str = "polybox:sockets";

/// npm's ports of Node.js modules, bundled by `scripts/build-node-polyfills.sh`
/// (see `node/entry.js`): a function that returns the module factories,
/// NUL-terminated so that it is evaluated where it lies.
const POLYFILLS_SOURCE: &CStr = nul_terminated!("../../node/dist/polyfills.js");

/// The largest piece one `process.write` import carries: a big write is
/// sent in pieces, so that no backend's call buffer has to hold it whole.
pub(super) const WRITE_PIECE: usize = 64 * 1024;

/// The largest chunk of standard input read at once.
const READ_CHUNK: u32 = 64 * 1024;

/// The object of controls `process.js` returns, kept in the context.
struct Controls<'js>(Object<'js>);

// SAFETY: `Controls` holds nothing but a value of the context it is stored
// in, so changing its lifetime to the context's is sound.
unsafe impl<'js> JsLifetime<'js> for Controls<'js> {
    type Changed<'to> = Controls<'to>;
}

/// Evaluates `process.js` and keeps its controls in the context. `exiting`
/// is set when the program calls `process.exit`, after which the runtime's
/// interrupt handler stops whatever JavaScript still runs.
pub fn install(ctx: &Ctx<'_>, exiting: Rc<Cell<bool>>) -> Result<()> {
    let natives = Object::new(ctx.clone())?;
    natives.set("write", Function::new(ctx.clone(), write)?)?;
    natives.set("readStdin", Function::new(ctx.clone(), read_stdin)?)?;
    natives.set("nowNs", Function::new(ctx.clone(), timers::now_ns)?)?;
    natives.set("waitUntil", Function::new(ctx.clone(), wait_until)?)?;
    natives.set("timers", timers::controls(ctx)?)?;
    natives.set(
        "exiting",
        Function::new(ctx.clone(), move || exiting.set(true))?,
    )?;
    let fs = script_function(ctx, "node:internal/fs", FS_SOURCE)?;
    natives.set(
        "makeFs",
        fs.call::<_, Function>((
            Function::new(ctx.clone(), fs_call)?,
            Function::new(ctx.clone(), crypto::encode)?,
            Function::new(ctx.clone(), crypto::decode)?,
        ))?,
    )?;
    let modules = script_function(ctx, "node:internal/modules", MODULES_SOURCE)?;
    natives.set(
        "makeModules",
        modules.call::<_, Function>((
            Function::new(ctx.clone(), fs_call)?,
            Function::new(ctx.clone(), compile_commonjs)?,
        ))?,
    )?;
    let http = Object::new(ctx.clone())?;
    http.set("call", Function::new(ctx.clone(), sockets_call)?)?;
    http.set("encode", Function::new(ctx.clone(), crypto::encode)?)?;
    http.set("decode", Function::new(ctx.clone(), crypto::decode)?)?;
    let make_http: Function =
        script_function(ctx, "node:internal/http", HTTP_SOURCE)?.call((http,))?;
    natives.set("makeHttp", make_http)?;
    let setup = script_function(ctx, "node:internal/process", PROCESS_SOURCE)?;
    let controls: Object = setup.call((natives, polyfills(ctx)?))?;
    ctx.store_userdata(Controls(controls))
        .map_err(|_| Exception::throw_internal(ctx, "the process is installed twice"))?;
    Ok(())
}

/// Evaluates the bundle of npm's ports (a function, so that it defines no
/// global); returns its module factories.
fn polyfills<'js>(ctx: &Ctx<'js>) -> Result<Object<'js>> {
    c_script_function(ctx, "node:internal/polyfills", POLYFILLS_SOURCE)?.call(())
}

/// The process's controls (see the end of `process.js`).
pub fn controls<'js>(ctx: &Ctx<'js>) -> Result<Object<'js>> {
    match ctx.userdata::<Controls>() {
        Some(controls) => Ok(controls.0.clone()),
        None => Err(Exception::throw_internal(
            ctx,
            "the process is not installed",
        )),
    }
}

/// Calls the control `name` with `args`.
pub fn control<'js, A, R>(ctx: &Ctx<'js>, name: &str, args: A) -> Result<R>
where
    A: rquickjs::function::IntoArgs<'js>,
    R: rquickjs::FromJs<'js>,
{
    controls(ctx)?.get::<_, Function>(name)?.call(args)
}

/// The internal module `#node`, which the modules presenting core modules
/// (`node:x`) import their object from.
pub struct NodeNatives;

impl ModuleDef for NodeNatives {
    fn declare<'js>(declarations: &Declarations<'js>) -> Result<()> {
        declarations.declare("builtin")?;
        Ok(())
    }

    fn evaluate<'js>(ctx: &Ctx<'js>, exports: &Exports<'js>) -> Result<()> {
        let builtin: Function = controls(ctx)?.get("builtin")?;
        exports.export("builtin", builtin)?;
        Ok(())
    }
}

/// Compiles a CommonJS module's source (see `modules.js`).
fn compile_commonjs<'js>(ctx: Ctx<'js>, source: String, filename: String) -> Result<Function<'js>> {
    commonjs_function(&ctx, &filename, &source)
}

/// One call to the host's filesystem: `operation` with its arguments as a
/// JSON array; returns the host's JSON answer.
/// A call to the sandbox's virtual sockets; returns its JSON answer.
fn sockets_call(ctx: Ctx<'_>, function: String, args: String) -> Result<String> {
    internal_call(&ctx, SOCKETS_MODULE, &function, &args)
}

/// Sleeps until the monotonic clock reads `ns`; false when stopped.
fn wait_until(ns: f64) -> bool {
    process::wait_until(ns as u64)
}

fn fs_call(ctx: Ctx<'_>, operation: String, args: String) -> Result<String> {
    internal_call(&ctx, FS_MODULE, &operation, &args)
}

/// Writes a string or a `Uint8Array` to standard output (1) or error (2).
fn write<'js>(ctx: Ctx<'js>, fd: u32, chunk: Value<'js>) -> Result<()> {
    if !(fd == 1 || fd == 2) {
        return Err(Exception::throw_range(
            &ctx,
            "only fds 1 and 2 can be written",
        ));
    }
    let write_all = |bytes: &[u8]| {
        for piece in bytes.chunks(WRITE_PIECE) {
            process::write(fd, piece);
        }
    };
    if let Some(text) = chunk.as_string() {
        // An ASCII string is read in place, not copied: a program may write
        // a string as large as its heap allows.
        let text = text.clone().to_cstring()?;
        write_all(text.as_str().as_bytes());
        return Ok(());
    }
    match TypedArray::<u8>::from_value(chunk) {
        Ok(bytes) => {
            write_all(&copy_bytes(&bytes));
            Ok(())
        }
        Err(_) => Err(Exception::throw_type(
            &ctx,
            "a chunk must be a string or a Uint8Array",
        )),
    }
}

/// The next chunk of standard input (empty at its end).
fn read_stdin<'js>(ctx: Ctx<'js>) -> Result<Value<'js>> {
    uint8_array(&ctx, process::read_stdin(READ_CHUNK))
}
