//! The web globals every guest has beyond QuickJS's (`web.js`), loaded
//! from npm's implementations (`node/web.js`, bundled into
//! `node/dist/web.js`) the first time a script uses one, and `fetch`
//! (`fetch.js`), which sends requests through the host.

use core::ffi::CStr;

use alloc::string::String;

use rquickjs::{Ctx, Function, Object, Result};

use super::crypto;
use crate::host_bridge::internal_call;
use crate::script::{c_script_function, nul_terminated, script_function};

const WEB_SOURCE: &str = include_str!("web.js");
const FETCH_SOURCE: &str = include_str!("fetch.js");

/// The host module requests go through (see `fetch.js`).
const NET_MODULE: &str = "polybox:net";

/// The bundle: a function that returns the globals' factories,
/// NUL-terminated so that it is evaluated where it lies.
const BUNDLE: &CStr = nul_terminated!("../../node/dist/web.js");

/// fetch's classes (`node/fetch.js`): a function that returns a function
/// that makes them, NUL-terminated.
const FETCH_BUNDLE: &CStr = nul_terminated!("../../node/dist/fetch.js");

/// Defines the web globals, to be loaded on first use.
pub fn install(ctx: &Ctx<'_>) -> Result<()> {
    let natives = Object::new(ctx.clone())?;
    natives.set("loadWeb", Function::new(ctx.clone(), load)?)?;
    natives.set("loadFetch", Function::new(ctx.clone(), load_fetch)?)?;
    let setup = script_function(ctx, "polybox:web", WEB_SOURCE)?;
    setup.call::<_, ()>((natives,))?;
    let natives = Object::new(ctx.clone())?;
    natives.set("call", Function::new(ctx.clone(), net_call)?)?;
    natives.set("encode", Function::new(ctx.clone(), crypto::encode)?)?;
    natives.set("decode", Function::new(ctx.clone(), crypto::decode)?)?;
    let fetch = script_function(ctx, "polybox:fetch", FETCH_SOURCE)?;
    fetch.call((natives,))
}

/// Hands a request to the host; returns its JSON answer.
fn net_call(ctx: Ctx<'_>, args: String) -> Result<String> {
    internal_call(&ctx, NET_MODULE, "fetch", &args)
}

/// Evaluates the bundle; returns the globals' factories.
fn load<'js>(ctx: Ctx<'js>) -> Result<Object<'js>> {
    c_script_function(&ctx, "polybox:web-bundle", BUNDLE)?.call(())
}

/// Evaluates fetch's bundle; returns its classes.
fn load_fetch<'js>(ctx: Ctx<'js>) -> Result<Object<'js>> {
    let make: Function = c_script_function(&ctx, "polybox:fetch-bundle", FETCH_BUNDLE)?.call(())?;
    make.call(())
}
