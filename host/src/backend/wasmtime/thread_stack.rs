//! Room on the calling thread's stack.
//!
//! wasmtime runs guest code on the calling thread's native stack, allowing it
//! up to the sandbox's stack size. On a thread without that much stack left,
//! deep recursion would hit the thread's guard page, a crash wasmtime cannot
//! turn into a trap. So every entry into the guest checks first, and refuses
//! with `ERR_INVALID_ARG` instead.

use std::cell::Cell;
use std::mem::MaybeUninit;

use crate::error::{Error, Result};

/// Stack kept for host code running beneath the guest: wasmtime's entry, host
/// functions and whatever they call.
const HOST_MARGIN: usize = 128 * 1024;

thread_local! {
    /// The lowest usable address of this thread's stack, once looked up.
    static STACK_LOW: Cell<Option<Option<usize>>> = const { Cell::new(None) };
}

/// Checks that the calling thread can give guest code `needed` bytes of stack.
pub(super) fn ensure_room(needed: usize) -> Result<()> {
    let low = STACK_LOW.with(|cached| {
        let low = cached.get().unwrap_or_else(stack_low);
        cached.set(Some(low));
        low
    });
    // Where the stack bounds are unknown, trust the configuration.
    let Some(low) = low else { return Ok(()) };
    let left = stack_pointer().saturating_sub(low);
    if left < needed + HOST_MARGIN {
        return Err(Error::invalid_arg(format!(
            "this thread has {} KiB of stack left, but the sandbox's stack size needs {} KiB plus {} KiB for the host; \
             call it from a thread with a larger stack or lower SandboxBuilder::stack_size",
            left / 1024,
            needed / 1024,
            HOST_MARGIN / 1024
        )));
    }
    Ok(())
}

/// The calling thread's stack pointer. (The address of a local would do,
/// but sanitizers move locals to a heap-allocated "fake stack".)
#[inline(always)]
fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads a register; touches no memory.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        std::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags));
    }
    // SAFETY: as above.
    #[cfg(target_arch = "aarch64")]
    unsafe {
        std::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags));
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let marker = 0u8;
        sp = &raw const marker as usize;
    }
    sp
}

/// The lowest usable address (above the guard page) of this thread's stack.
fn stack_low() -> Option<usize> {
    let mut attr = MaybeUninit::<libc::pthread_attr_t>::uninit();
    // SAFETY: `attr` is initialised by pthread_getattr_np before use and
    // destroyed after; the out-pointers are valid.
    unsafe {
        if libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr()) != 0 {
            return None;
        }
        let (mut addr, mut size, mut guard) = (std::ptr::null_mut(), 0, 0);
        let ok = libc::pthread_attr_getstack(attr.as_ptr(), &mut addr, &mut size) == 0
            && libc::pthread_attr_getguardsize(attr.as_ptr(), &mut guard) == 0;
        libc::pthread_attr_destroy(attr.as_mut_ptr());
        ok.then(|| addr as usize + guard)
    }
}
