//! Memory for the guest: Rust allocations, the canonical ABI's
//! `cabi_realloc` and QuickJS's allocations all go through wasi-libc's
//! `malloc`, so the whole guest has one heap.
//!
//! QuickJS's go through [`QuickJsAllocator`], which remembers that one
//! failed: when QuickJS has no memory left even for its `out of memory`
//! error, it throws `null`, and only this tells that `null` from a script's
//! own `throw null`. And where QuickJS drops a failure (a promise job it
//! could not queue is lost, its exception left pending while the script
//! runs on), [`exception_lost`] lets the interrupt handler end the script.
//!
//! It also enforces the JavaScript heap limit of hosts that cannot cap the
//! guest's memory themselves ([`set_limit`]), with a little grace after a
//! failure: QuickJS's own limit would refuse the small allocations its
//! `out of memory` error needs, so that a script could not catch it.
//!
//! wasi-libc's `malloc` grows linear memory with `memory.grow` and imports
//! nothing, which keeps the component free of WASI.

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

#[link(name = "c")]
unsafe extern "C" {
    fn malloc(size: usize) -> *mut u8;
    fn calloc(count: usize, size: usize) -> *mut u8;
    fn aligned_alloc(align: usize, size: usize) -> *mut u8;
    fn realloc(ptr: *mut u8, size: usize) -> *mut u8;
    fn free(ptr: *mut u8);
    fn malloc_usable_size(ptr: *mut u8) -> usize;
}

/// The usable size of a block of libc's allocator.
///
/// # Safety
/// `ptr` is a live block of libc's `malloc`, `calloc` or `realloc`.
pub unsafe fn usable_size(ptr: *mut u8) -> usize {
    // SAFETY: the caller's contract.
    unsafe { malloc_usable_size(ptr) }
}

/// Whether one of QuickJS's allocations failed since [`take_failure`].
static FAILED: AtomicBool = AtomicBool::new(false);
/// What QuickJS may hold, in bytes (`usize::MAX`: no limit).
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);
/// What QuickJS holds, in bytes (usable sizes of its blocks).
static USED: AtomicUsize = AtomicUsize::new(0);
/// How far past the limit allocations may go once one failed: room for
/// the error that reports it, and for the script's handling of it.
const GRACE: usize = 256 * 1024;

/// Caps what QuickJS may hold at `bytes`.
pub fn set_limit(bytes: usize) {
    LIMIT.store(bytes, Ordering::Relaxed);
}

/// Whether one of QuickJS's allocations failed since the last call.
pub fn take_failure() -> bool {
    FAILED.swap(false, Ordering::Relaxed)
}

/// Whether QuickJS lost an allocation failure: one failed, and its
/// exception is still pending while code runs (the interrupt handler asks,
/// and no exception is pending while code runs otherwise).
pub fn exception_lost(ctx: core::ptr::NonNull<rquickjs::qjs::JSContext>) -> bool {
    // SAFETY: the caller passes a live context of the running runtime.
    FAILED.load(Ordering::Relaxed) && unsafe { rquickjs::qjs::JS_HasException(ctx.as_ptr()) }
}

/// QuickJS's allocator: libc's, remembering failures.
pub struct QuickJsAllocator;

/// Whether `more` bytes fit under the limit (with the grace, once an
/// allocation failed); a refusal is a failure.
fn fits(more: usize) -> bool {
    let limit = LIMIT.load(Ordering::Relaxed);
    let limit = if FAILED.load(Ordering::Relaxed) {
        limit.saturating_add(GRACE)
    } else {
        limit
    };
    let fits = USED.load(Ordering::Relaxed).saturating_add(more) <= limit;
    if !fits {
        FAILED.store(true, Ordering::Relaxed);
    }
    fits
}

/// Counts a new block (or notes the failure, for a null one).
fn counted(ptr: *mut u8) -> *mut u8 {
    if ptr.is_null() {
        FAILED.store(true, Ordering::Relaxed);
    } else {
        // SAFETY: `ptr` is a live block libc just handed out.
        USED.fetch_add(unsafe { malloc_usable_size(ptr) }, Ordering::Relaxed);
    }
    ptr
}

/// Stops counting a block about to be freed or moved.
///
/// # Safety
/// `ptr` is a live block of libc's.
unsafe fn uncount(ptr: *mut u8) {
    // SAFETY: the caller's contract.
    USED.fetch_sub(unsafe { malloc_usable_size(ptr) }, Ordering::Relaxed);
}

// SAFETY: every block comes from libc's malloc, calloc or realloc (aligned
// for any value) and goes back to its free.
unsafe impl rquickjs::allocator::Allocator for QuickJsAllocator {
    fn alloc(&mut self, size: usize) -> *mut u8 {
        if !fits(size) {
            return core::ptr::null_mut();
        }
        // SAFETY: malloc takes any size.
        counted(unsafe { malloc(size) })
    }

    fn calloc(&mut self, count: usize, size: usize) -> *mut u8 {
        if !fits(count.saturating_mul(size)) {
            return core::ptr::null_mut();
        }
        // SAFETY: calloc takes any sizes and checks their product.
        counted(unsafe { calloc(count, size) })
    }

    unsafe fn dealloc(&mut self, ptr: *mut u8) {
        // SAFETY: the trait's contract: `ptr` is a live block of this
        // allocator, so of libc's.
        unsafe {
            uncount(ptr);
            free(ptr);
        }
    }

    unsafe fn realloc(&mut self, ptr: *mut u8, new_size: usize) -> *mut u8 {
        // SAFETY: as in `dealloc`.
        let old = unsafe { malloc_usable_size(ptr) };
        if new_size > old && !fits(new_size - old) {
            return core::ptr::null_mut();
        }
        // SAFETY: as in `dealloc`; on failure the old block stays live and
        // counted.
        let new = unsafe { realloc(ptr, new_size) };
        if new.is_null() {
            FAILED.store(true, Ordering::Relaxed);
            return new;
        }
        USED.fetch_sub(old, Ordering::Relaxed);
        counted(new)
    }

    unsafe fn usable_size(ptr: *mut u8) -> usize {
        // SAFETY: as in `dealloc`.
        unsafe { malloc_usable_size(ptr) }
    }
}

/// `malloc` guarantees this alignment on wasm32.
const MALLOC_ALIGN: usize = 16;

struct LibcMalloc;

// SAFETY: every pointer handed out comes from malloc/aligned_alloc/realloc
// with at least the requested size and alignment, and is released with free.
unsafe impl GlobalAlloc for LibcMalloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            // SAFETY: malloc takes any size; its blocks are aligned enough.
            unsafe { malloc(layout.size()) }
        } else {
            // SAFETY: a Layout's alignment is a power of two, as
            // aligned_alloc requires.
            unsafe { aligned_alloc(layout.align(), layout.size()) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: GlobalAlloc's contract: `ptr` came from `alloc` or
        // `realloc` above, so from malloc, aligned_alloc or realloc.
        unsafe { free(ptr) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN {
            // SAFETY: as in `dealloc`, `ptr` is a live block of libc's.
            return unsafe { realloc(ptr, new_size) };
        }
        // SAFETY: GlobalAlloc's contract: `new_size` rounded up to the
        // alignment does not overflow, and the alignment is `layout`'s.
        let new =
            unsafe { self.alloc(Layout::from_size_align_unchecked(new_size, layout.align())) };
        if !new.is_null() {
            // SAFETY: both blocks are live, distinct, and at least as long as
            // the bytes copied; the old one is ours to free.
            unsafe {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                free(ptr);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: LibcMalloc = LibcMalloc;

/// The canonical ABI's allocator, through which the host passes strings and
/// lists into the guest. wasi-libc provides it only when it is linked for
/// WASI, which this guest is not.
///
/// # Safety
/// Called by the component runtime with the canonical ABI's contract: `old`
/// is null or was returned by an earlier call with `old_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cabi_realloc(
    old: *mut u8,
    old_len: usize,
    align: usize,
    new_len: usize,
) -> *mut u8 {
    // SAFETY: the canonical ABI's contract (above) is the allocator's: the
    // alignment is a power of two and `old` a block of `old_len` bytes.
    let new = unsafe {
        if old_len == 0 {
            if new_len == 0 {
                return align as *mut u8;
            }
            ALLOCATOR.alloc(Layout::from_size_align_unchecked(new_len, align))
        } else {
            ALLOCATOR.realloc(
                old,
                Layout::from_size_align_unchecked(old_len, align),
                new_len,
            )
        }
    };
    if new.is_null() {
        // The canonical ABI has no way to report failure: trap.
        core::arch::wasm32::unreachable();
    }
    new
}
