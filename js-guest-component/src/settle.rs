//! A handler call's event loop: an async handler's promise settles once
//! its timers have run, so the call turns the timers (`timers.js`), waiting
//! through the host (`process.wait-until`) until the next one is due, as a
//! program's runner does. When the call ends, whatever is still scheduled
//! is cancelled: nothing of a call runs after it returned.
//!
//! Most calls schedule nothing: they only run their promise jobs, and never
//! enter `timers.js` (see [`timers::scheduled`]).

use rquickjs::promise::PromiseState;
use rquickjs::{Ctx, Error, Exception, Function, Promise, Result, Value};

use crate::bindings::polybox::sandbox::process;
use crate::builtins::timers;

/// Settles `promise`: runs jobs, ticks and timers until it is fulfilled
/// (its value) or rejected (its reason, thrown). `WouldBlock` when nothing
/// is left that could settle it; `Exception` when a timer's callback threw
/// (that error), or when the host stopped the call while it waited.
pub fn settle<'js>(ctx: &Ctx<'js>, promise: &Promise<'js>) -> Result<Value<'js>> {
    loop {
        while ctx.execute_pending_job() {}
        if promise.state() != PromiseState::Pending {
            return promise.result().unwrap_or(Err(Error::WouldBlock));
        }
        if !timers::scheduled() {
            return Err(Error::WouldBlock);
        }
        let timers = timers::controls(ctx)?;
        timers
            .get::<_, Function>("turn")?
            .call::<_, ()>((run_jobs(ctx)?, Function::new(ctx.clone(), || false)?))?;
        if promise.state() != PromiseState::Pending {
            continue;
        }
        let wake: f64 = timers.get::<_, Function>("nextWake")?.call(())?;
        if wake < 0.0 {
            return Err(Error::WouldBlock);
        }
        if wake > 0.0 && !process::wait_until(wake as u64) {
            // The host stopped the call; it reports why.
            return Err(Exception::throw_internal(ctx, "the call was stopped"));
        }
    }
}

/// Runs what a call that returned left queued: its promise jobs, and the
/// ticks, immediates and due timers it scheduled.
pub fn finish(ctx: &Ctx<'_>) -> Result<()> {
    while ctx.execute_pending_job() {}
    if !timers::scheduled() {
        return Ok(());
    }
    timers::controls(ctx)?
        .get::<_, Function>("turn")?
        .call((run_jobs(ctx)?, Function::new(ctx.clone(), || false)?))
}

/// Cancels everything scheduled (pending timers, ticks, immediates): a
/// call that ended, however it ended, leaves nothing to run later.
pub fn cancel(ctx: &Ctx<'_>) {
    if !timers::take_scheduled() {
        return;
    }
    let abandon = timers::controls(ctx).and_then(|timers| timers.get::<_, Function>("abandon"));
    if abandon
        .and_then(|abandon| abandon.call::<_, ()>(()))
        .is_err()
    {
        let _ = ctx.catch();
    }
}

/// A function that runs the pending promise jobs.
fn run_jobs<'js>(ctx: &Ctx<'js>) -> Result<Function<'js>> {
    Function::new(
        ctx.clone(),
        |ctx: Ctx<'_>| while ctx.execute_pending_job() {},
    )
}
