//! Memory for the guest: Rust allocations and the canonical ABI's
//! `cabi_realloc` both go through wasi-libc's `malloc`, the same allocator
//! QuickJS uses, so the whole guest has one heap.
//!
//! wasi-libc's `malloc` grows linear memory with `memory.grow` and imports
//! nothing, which keeps the component free of WASI.

use core::alloc::{GlobalAlloc, Layout};

#[link(name = "c")]
unsafe extern "C" {
    fn malloc(size: usize) -> *mut u8;
    fn aligned_alloc(align: usize, size: usize) -> *mut u8;
    fn realloc(ptr: *mut u8, size: usize) -> *mut u8;
    fn free(ptr: *mut u8);
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
