//! Timers for every guest (`timers.js`): the globals `setTimeout`,
//! `setInterval`, `setImmediate` and their `clear*`, and the controls an
//! event loop drives them with (a program's runner, a handler call), kept
//! in the context's user data.

use alloc::string::String;
use core::sync::atomic::{AtomicBool, Ordering};

use rquickjs::{BigInt, Ctx, Exception, Function, JsLifetime, Object, Result};

use crate::bindings::polybox::sandbox::platform;
use crate::script::script_function;

const TIMERS_SOURCE: &str = include_str!("timers.js");

/// The object of controls `timers.js` returns, kept in the context.
struct Controls<'js>(Object<'js>);

// SAFETY: `Controls` holds nothing but a value of the context it is stored
// in, so changing its lifetime to the context's is sound.
unsafe impl<'js> JsLifetime<'js> for Controls<'js> {
    type Changed<'to> = Controls<'to>;
}

/// Whether something was scheduled (a timer, an immediate, a tick) since
/// [`take_scheduled`]: `timers.js` says so, so that a call that scheduled
/// nothing need not enter it. (A guest instance is single-threaded.)
static SCHEDULED: AtomicBool = AtomicBool::new(false);

/// Whether something was scheduled since the last [`take_scheduled`].
pub fn scheduled() -> bool {
    SCHEDULED.load(Ordering::Relaxed)
}

/// [`scheduled`], clearing it.
pub fn take_scheduled() -> bool {
    SCHEDULED.swap(false, Ordering::Relaxed)
}

/// Evaluates `timers.js`, keeps its controls in the context and defines
/// the timer globals.
pub fn install(ctx: &Ctx<'_>) -> Result<()> {
    let natives = Object::new(ctx.clone())?;
    natives.set("nowNs", Function::new(ctx.clone(), now_ns)?)?;
    natives.set(
        "scheduled",
        Function::new(ctx.clone(), || SCHEDULED.store(true, Ordering::Relaxed))?,
    )?;
    let setup = script_function(ctx, "polybox:timers", TIMERS_SOURCE)?;
    let controls: Object = setup.call((natives,))?;
    let functions: Object = controls.get("functions")?;
    let globals = ctx.globals();
    for name in functions.keys::<String>() {
        let name = name?;
        let function: Function = functions.get(name.as_str())?;
        globals.prop(
            name.as_str(),
            rquickjs::object::Property::from(function)
                .writable()
                .configurable(),
        )?;
    }
    ctx.store_userdata(Controls(controls))
        .map_err(|_| Exception::throw_internal(ctx, "the timers are installed twice"))?;
    Ok(())
}

/// The timers' controls (see the end of `timers.js`).
pub fn controls<'js>(ctx: &Ctx<'js>) -> Result<Object<'js>> {
    match ctx.userdata::<Controls>() {
        Some(controls) => Ok(controls.0.clone()),
        None => Err(Exception::throw_internal(
            ctx,
            "the timers are not installed",
        )),
    }
}

/// The monotonic clock, in nanoseconds, as a BigInt.
pub fn now_ns(ctx: Ctx<'_>) -> Result<BigInt<'_>> {
    BigInt::from_u64(ctx, platform::monotonic_ns())
}
