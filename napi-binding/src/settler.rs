//! Settling Promises from worker threads.
//!
//! A worker that finished a job must hand its result to the JavaScript
//! thread, which alone may touch JavaScript values. Each JavaScript thread
//! (the main thread, each `worker_threads` Worker) has one threadsafe
//! function for that, made on first use and shared by every job, rather
//! than one per Promise. It keeps Node.js alive exactly while a job it will
//! settle is outstanding, as libuv's queued work does.
//!
//! For [`WATCH`] after a job starts, the event loop is kept from sleeping
//! (a libuv idle handle: the loop turns, polling without waiting), so a
//! short call's result is picked up at once. Waking a sleeping loop costs
//! more than most calls: about 15 µs on these machines, against 3 µs for an
//! echo in the guest. The loop still serves every other event meanwhile;
//! the price is the main thread's CPU for that moment.

use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::ptr;
use std::time::{Duration, Instant};

use napi::{Env, sys};

use crate::workers;

/// What to do with the result on the JavaScript thread.
pub type Settle = Box<dyn FnOnce(Env) + Send>;

/// How long after a job starts the event loop polls instead of sleeping.
const WATCH: Duration = Duration::from_micros(100);

/// A JavaScript thread's way back in; cheap to copy to a worker.
#[derive(Clone, Copy)]
pub struct Settler(sys::napi_threadsafe_function);

// libuv, as Node.js exports it to addons.
unsafe extern "C" {
    fn uv_handle_size(kind: c_int) -> usize;
    fn uv_idle_init(event_loop: *mut c_void, idle: *mut c_void) -> c_int;
    fn uv_idle_start(idle: *mut c_void, callback: unsafe extern "C" fn(*mut c_void)) -> c_int;
    fn uv_idle_stop(idle: *mut c_void) -> c_int;
    fn uv_unref(handle: *mut c_void);
    fn uv_close(handle: *mut c_void, closed: unsafe extern "C" fn(*mut c_void));
}

/// `UV_IDLE` in libuv's `uv_handle_type`.
const UV_IDLE: c_int = 6;

// SAFETY: a threadsafe function is made to be called from any thread.
unsafe impl Send for Settler {}

thread_local! {
    /// This JavaScript thread's settler, once made.
    static SETTLER: Cell<Option<Settler>> = const { Cell::new(None) };
    /// Settles this thread is waiting for: while any are, Node.js stays up.
    static PENDING: Cell<usize> = const { Cell::new(0) };
    /// This thread's idle handle (null until made), and until when it runs.
    static IDLE: Cell<*mut c_void> = const { Cell::new(ptr::null_mut()) };
    static WATCH_UNTIL: Cell<Option<Instant>> = const { Cell::new(None) };
}

impl Settler {
    /// This thread's settler, counting one more settle it must wait for;
    /// [`send`](Self::send) that settle exactly once.
    pub fn expect(env: &Env) -> napi::Result<Self> {
        let settler = match SETTLER.get() {
            Some(settler) => settler,
            None => {
                let settler = Self::create(env)?;
                SETTLER.set(Some(settler));
                settler
            }
        };
        let pending = PENDING.get();
        if pending == 0 {
            // SAFETY: on the thread that made it, with its env.
            check(unsafe { sys::napi_ref_threadsafe_function(env.raw(), settler.0) })?;
        }
        PENDING.set(pending + 1);
        watch();
        Ok(settler)
    }

    /// Runs `settle` on the JavaScript thread. If that thread's environment
    /// is gone (Node.js exiting), `settle` is dropped unrun.
    pub fn send(self, settle: Settle) {
        let data = Box::into_raw(Box::new(settle));
        // SAFETY: the function is never released, so it stays callable
        // (answering `napi_closing` once its environment is torn down).
        let status = unsafe {
            sys::napi_call_threadsafe_function(
                self.0,
                data.cast(),
                sys::ThreadsafeFunctionCallMode::nonblocking,
            )
        };
        if status != sys::Status::napi_ok {
            // SAFETY: not queued, so still ours.
            drop(unsafe { Box::from_raw(data) });
        }
    }

    fn create(env: &Env) -> napi::Result<Self> {
        let raw = env.raw();
        let mut name = ptr::null_mut();
        let mut function = ptr::null_mut();
        // SAFETY: plain N-API calls on the JavaScript thread; no JavaScript
        // function (`call_js` does the work), no finaliser (it lives as
        // long as the environment).
        unsafe {
            check(sys::napi_create_string_utf8(
                raw,
                c"polybox".as_ptr(),
                7,
                &mut name,
            ))?;
            check(sys::napi_create_threadsafe_function(
                raw,
                ptr::null_mut(),
                ptr::null_mut(),
                name,
                0,
                1,
                ptr::null_mut(),
                None,
                ptr::null_mut(),
                Some(call_js),
                &mut function,
            ))?;
            check(sys::napi_unref_threadsafe_function(raw, function))?;
            let mut event_loop = ptr::null_mut();
            check(sys::napi_get_uv_event_loop(raw, &mut event_loop))?;
            let idle = handle_memory();
            if uv_idle_init(event_loop.cast(), idle) == 0 {
                // It never keeps Node.js alive by itself.
                uv_unref(idle);
                IDLE.set(idle);
            } else {
                // No idle handle: results then wait for the loop to wake.
                closed(idle);
            }
            check(sys::napi_add_env_cleanup_hook(
                raw,
                Some(forget),
                ptr::null_mut(),
            ))?;
        }
        Ok(Self(function))
    }
}

/// The threadsafe function's callback, on the JavaScript thread.
unsafe extern "C" fn call_js(
    env: sys::napi_env,
    _: sys::napi_value,
    _: *mut c_void,
    data: *mut c_void,
) {
    // SAFETY: `send` queued exactly this box.
    let settle = unsafe { Box::from_raw(data.cast::<Settle>()) };
    if env.is_null() {
        return; // the environment is being torn down
    }
    let pending = PENDING.get().saturating_sub(1);
    PENDING.set(pending);
    if pending == 0
        && let Some(settler) = SETTLER.get()
    {
        // SAFETY: on the thread that made it, with its env.
        unsafe { sys::napi_unref_threadsafe_function(env, settler.0) };
    }
    settle(Env::from_raw(env));
}

/// Keeps the event loop polling for [`WATCH`] from now (when a worker can
/// run beside it: [`workers::spin_pays`]).
fn watch() {
    let idle = IDLE.get();
    if idle.is_null() || !workers::spin_pays() {
        return;
    }
    if WATCH_UNTIL.replace(Some(Instant::now() + WATCH)).is_none() {
        // SAFETY: an initialised idle handle of this thread's loop.
        unsafe { uv_idle_start(idle, watching) };
    }
}

/// The idle handle's callback, once per turn of the loop: stops polling
/// when nothing is pending or the watch is over.
unsafe extern "C" fn watching(idle: *mut c_void) {
    let over = WATCH_UNTIL
        .get()
        .is_none_or(|until| Instant::now() >= until);
    if PENDING.get() == 0 || over {
        WATCH_UNTIL.set(None);
        // SAFETY: the handle this callback belongs to.
        unsafe { uv_idle_stop(idle) };
    }
}

/// The environment's cleanup: its settler and idle handle go with it.
unsafe extern "C" fn forget(_: *mut c_void) {
    SETTLER.set(None);
    PENDING.set(0);
    WATCH_UNTIL.set(None);
    let idle = IDLE.replace(ptr::null_mut());
    if !idle.is_null() {
        // SAFETY: an initialised handle, closed once; freed when closed.
        unsafe { uv_close(idle, closed) };
    }
}

/// Zeroed memory for a libuv idle handle, freed by [`closed`].
fn handle_memory() -> *mut c_void {
    // SAFETY: a libuv query with no preconditions.
    let words = unsafe { uv_handle_size(UV_IDLE) }.div_ceil(8);
    Box::into_raw(vec![0u64; words].into_boxed_slice()).cast()
}

/// Frees a closed idle handle's memory.
unsafe extern "C" fn closed(handle: *mut c_void) {
    // SAFETY: made by `handle_memory`, with the same size; libuv is done
    // with it once this runs.
    unsafe {
        let words = uv_handle_size(UV_IDLE).div_ceil(8);
        drop(Box::from_raw(ptr::slice_from_raw_parts_mut(
            handle.cast::<u64>(),
            words,
        )));
    }
}

fn check(status: sys::napi_status) -> napi::Result<()> {
    match status {
        sys::Status::napi_ok => Ok(()),
        status => Err(napi::Error::new(
            napi::Status::from(status),
            "cannot make the addon's way back to JavaScript",
        )),
    }
}
