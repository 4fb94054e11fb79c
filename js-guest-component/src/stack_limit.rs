//! A stack limit for JavaScript, which QuickJS's WASI build leaves off.
//!
//! Built for WASI, QuickJS hard-codes "no limit" (`update_stack_limit`), so
//! deep recursion would run the guest's shadow stack off its end. This guest
//! is linked stack-first: the shadow stack is the bottom of linear memory,
//! growing towards `__stack_low`, and below that lies address 0, so running
//! off the end is an out-of-bounds trap, or silent corruption if a large
//! frame jumps the gap. With a limit, QuickJS throws a catchable
//! `RangeError: Maximum call stack size exceeded` instead, as every other
//! JavaScript engine does. QuickJS checks each frame's size before
//! allocating it, so large frames are caught too.
//!
//! The limit is `JSRuntime::stack_limit`, a private field that follows
//! `stack_size` and `stack_top` in the runtime struct. `JS_SetMaxStackSize`
//! writes a probe value into `stack_size`; the limit field is found right
//! after it. Nothing recomputes it later: its only writers,
//! `JS_SetMaxStackSize` and `JS_UpdateStackTop`, are not called again
//! (rquickjs calls the latter only with its `parallel` feature, which this
//! guest does not enable). [`StackLimit::locate`] verifies the layout it
//! relies on; the runtime refuses to start without it.

use rquickjs::{Ctx, qjs};

use crate::allocator;

/// Stack always kept free below the limit, for C and Rust frames that run
/// between QuickJS's checks.
const HEADROOM: usize = 64 * 1024;

unsafe extern "C" {
    /// The lowest address of the shadow stack (defined by wasm-ld).
    static __stack_low: u8;
    /// The highest address of the shadow stack (defined by wasm-ld).
    static __stack_high: u8;
}

/// QuickJS's stack limit field, found in a live runtime.
pub struct StackLimit {
    field: *mut usize,
    /// Where the runtime's stack starts (`JSRuntime::stack_top`).
    top: usize,
    /// The lowest usable address.
    floor: usize,
}

impl StackLimit {
    /// Finds the limit field of `ctx`'s runtime and sets it to use all the
    /// stack there is. `None` if the runtime's layout is not as expected.
    pub fn locate(ctx: &Ctx<'_>) -> Option<Self> {
        const PROBE: usize = 0x5afe_57ac;
        // SAFETY: the runtime pointer is live for `ctx`; the scan stays inside
        // the runtime's own allocation (bounded by `malloc_usable_size`), at
        // word alignment.
        unsafe {
            let (low, high) = (
                &raw const __stack_low as usize,
                &raw const __stack_high as usize,
            );
            let rt = qjs::JS_GetRuntime(ctx.as_raw().as_ptr());
            qjs::JS_SetMaxStackSize(rt, PROBE as _);
            let words = rt.cast::<usize>();
            let len = allocator::usable_size(rt.cast()) / size_of::<usize>();
            let found = (0..len.saturating_sub(2)).find(|&i| {
                *words.add(i) == PROBE
                    && (low..=high).contains(&*words.add(i + 1))
                    && *words.add(i + 2) == 0
            })?;
            let limit = Self {
                field: words.add(found + 2),
                top: *words.add(found + 1),
                floor: low + HEADROOM,
            };
            *words.add(found) = limit.top - low;
            limit.set(usize::MAX);
            Some(limit)
        }
    }

    /// Lets JavaScript use at most `bytes` of stack (and never the headroom).
    pub fn set(&self, bytes: usize) {
        // SAFETY: `field` points into the runtime, which outlives `self`
        // (both belong to the same `JsRuntime`).
        unsafe { *self.field = self.top.saturating_sub(bytes).max(self.floor) }
    }
}
