//! A handler call's event loop: an async handler's promise settles once
//! its timers have run, so the call turns the timers (`timers.js`), waiting
//! through the host (`process.wait-until`) until the next one is due, as a
//! program's runner does. When the call ends, timers still pending are
//! cancelled: nothing of a call runs after it returned.

use rquickjs::promise::PromiseState;
use rquickjs::{Ctx, Error, Function, Object, Promise, Result, Value};

use crate::bindings::polybox::sandbox::process;
use crate::builtins::timers;

/// Settles `promise`: runs jobs, ticks and timers until it is fulfilled
/// (its value) or rejected (its reason, thrown). `WouldBlock` when nothing
/// is left that could settle it; `Exception` when a timer's callback threw
/// (that error), or when the host stopped the call while it waited.
pub fn settle<'js>(ctx: &Ctx<'js>, promise: &Promise<'js>) -> Result<Value<'js>> {
    let timers = timers::controls(ctx)?;
    let result = drive(ctx, &timers, promise);
    finish(ctx, &timers)?;
    result
}

/// Runs what the call left queued (ticks and promise jobs), then cancels
/// its pending timers.
pub fn finish<'js>(ctx: &Ctx<'js>, timers: &Object<'js>) -> Result<()> {
    let turn: Function = timers.get("turn")?;
    let jobs = run_jobs(ctx)?;
    let never = Function::new(ctx.clone(), || false)?;
    let ran = turn.call::<_, ()>((jobs, never));
    let abandon: Function = timers.get("abandon")?;
    abandon.call::<_, ()>(())?;
    ran
}

fn drive<'js>(ctx: &Ctx<'js>, timers: &Object<'js>, promise: &Promise<'js>) -> Result<Value<'js>> {
    let turn: Function = timers.get("turn")?;
    let next_wake: Function = timers.get("nextWake")?;
    let jobs = run_jobs(ctx)?;
    let never = Function::new(ctx.clone(), || false)?;
    loop {
        turn.call::<_, ()>((jobs.clone(), never.clone()))?;
        match promise.state() {
            PromiseState::Resolved | PromiseState::Rejected => {
                return promise.result().unwrap_or(Err(Error::WouldBlock));
            }
            PromiseState::Pending => {}
        }
        let wake: f64 = next_wake.call(())?;
        if wake < 0.0 {
            return Err(Error::WouldBlock);
        }
        if wake > 0.0 && !process::wait_until(wake as u64) {
            // The host stopped the call; it reports why.
            return Err(rquickjs::Exception::throw_internal(
                ctx,
                "the call was stopped",
            ));
        }
    }
}

/// A function that runs the pending promise jobs.
fn run_jobs<'js>(ctx: &Ctx<'js>) -> Result<Function<'js>> {
    Function::new(
        ctx.clone(),
        |ctx: Ctx<'_>| while ctx.execute_pending_job() {},
    )
}
