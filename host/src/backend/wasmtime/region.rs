//! Guest linear memory owned by the host: every memory a guest engine
//! creates is an mmap [`Region`] made here.
//!
//! wasmtime gives no public way to reach a component's core memory, so the
//! engine is configured with [`GuestMemoryCreator`], and the one call that
//! instantiates the JS guest asks, through [`capture_created`], for the
//! region its memory was made in. That handle is what `image.rs` captures
//! and seeds. Memories made for anything else (user components share the
//! engine) are plain regions nobody captures.
//!
//! # Invariants
//!
//! Relied on by the `unsafe` code here and in `image.rs`:
//! - a region reserves `capacity + guard` bytes once and never moves; only
//!   `[0, size)` is accessible, the rest is `PROT_NONE`, as the compiled code
//!   (which elides bounds checks against the reservation) requires;
//! - the region is unmapped only when both wasmtime's [`GuestMemory`] and the
//!   sandbox's handle are gone.
//!
//! Reading or remapping a region's bytes is sound only while no guest code
//! runs in its store; the functions that do so are `unsafe` and say so.

use std::cell::RefCell;
use std::ffi::c_void;
use std::io;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustix::mm::{MapFlags, MprotectFlags, ProtFlags};
use wasmtime::{LinearMemory, MemoryCreator, MemoryType};

/// Reservation used when wasmtime does not ask for one: a full 32-bit space.
const DEFAULT_RESERVATION: usize = 4 << 30;

/// The system's page size.
pub(super) fn page_size() -> usize {
    rustix::param::page_size()
}

/// The base address of a region's mapping. It is only an address: sending
/// it to another thread moves no access to the memory behind it, which the
/// region's invariants govern.
#[derive(Clone, Copy)]
struct Base(NonNull<u8>);

// SAFETY: an address is plain data; every access through it is an `unsafe`
// operation of `Region` or `image.rs` with its own precondition.
unsafe impl Send for Base {}
// SAFETY: as above.
unsafe impl Sync for Base {}

/// An mmap reservation holding one linear memory.
pub(super) struct Region {
    base: Base,
    /// Bytes mapped, guard included.
    mapped: usize,
    /// Bytes the memory may grow to without moving.
    capacity: usize,
    /// Bytes accessible now.
    size: AtomicUsize,
}

impl Region {
    /// Reserves `capacity` bytes plus `guard`, all inaccessible.
    pub fn reserve(capacity: usize, guard: usize) -> io::Result<Self> {
        let mapped = capacity
            .checked_add(guard)
            .ok_or(io::ErrorKind::InvalidInput)?;
        // SAFETY: a fresh anonymous mapping at an address of the kernel's
        // choosing overlaps nothing.
        let base = unsafe {
            rustix::mm::mmap_anonymous(
                std::ptr::null_mut(),
                mapped,
                ProtFlags::empty(),
                MapFlags::PRIVATE | MapFlags::NORESERVE,
            )
        }?;
        let base = NonNull::new(base.cast()).expect("mmap never returns null on success");
        Ok(Self {
            base: Base(base),
            mapped,
            capacity,
            size: AtomicUsize::new(0),
        })
    }

    /// Bytes accessible now.
    pub fn size(&self) -> usize {
        self.size.load(Ordering::Acquire)
    }

    /// The start of the memory.
    pub fn base(&self) -> *mut u8 {
        self.base.0.as_ptr()
    }

    /// Makes `[0, new_size)` accessible; never shrinks.
    pub fn grow_to(&self, new_size: usize) -> io::Result<()> {
        let old = self.size();
        if new_size > self.capacity {
            return Err(io::ErrorKind::OutOfMemory.into());
        }
        if new_size > old {
            // SAFETY: [old, new_size) lies inside the reservation and was
            // inaccessible, so no reference into it exists.
            unsafe {
                rustix::mm::mprotect(
                    self.base().add(old).cast::<c_void>(),
                    new_size - old,
                    MprotectFlags::READ | MprotectFlags::WRITE,
                )
            }?;
            self.size.store(new_size, Ordering::Release);
        }
        Ok(())
    }

    /// Whether the region was reserved as wasmtime asks for a memory of
    /// `capacity` bytes plus `guard`, and is accessible up to `size`.
    fn fits(&self, capacity: usize, guard: usize, size: usize) -> bool {
        self.capacity == capacity && self.mapped == capacity + guard && self.size() >= size
    }

    /// The accessible bytes.
    ///
    /// # Safety
    ///
    /// No guest code may run in the store that owns this memory, and nothing
    /// may remap it, while the slice lives.
    pub unsafe fn bytes(&self) -> &[u8] {
        // SAFETY: [0, size) is mapped readable; the caller keeps the guest
        // and every remapping away.
        unsafe { std::slice::from_raw_parts(self.base(), self.size()) }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: the whole mapping is ours, and with the last handle gone
        // nothing refers to it any more.
        let _ = unsafe { rustix::mm::munmap(self.base().cast(), self.mapped) };
    }
}

/// wasmtime's handle on a [`Region`].
struct GuestMemory(Arc<Region>);

// SAFETY: the region never moves, growth stays within the reservation
// (`byte_capacity`), and the guard after it is never made accessible.
unsafe impl LinearMemory for GuestMemory {
    fn byte_size(&self) -> usize {
        self.0.size()
    }

    fn byte_capacity(&self) -> usize {
        self.0.capacity
    }

    fn grow_to(&mut self, new_size: usize) -> wasmtime::Result<()> {
        Ok(self.0.grow_to(new_size)?)
    }

    fn as_ptr(&self) -> *mut u8 {
        self.0.base()
    }
}

/// A capture armed on this thread by [`capture_created`].
struct Capture {
    /// The size the captured memory starts at.
    seed_size: usize,
    /// A region to make the memory in, when it fits.
    spare: Option<Region>,
    /// The memory, once created, and whether it is the spare.
    created: Option<(Arc<Region>, bool)>,
}

thread_local! {
    /// The capture in progress on this thread, if any.
    static CAPTURE: RefCell<Option<Capture>> = const { RefCell::new(None) };
}

/// Creates every linear memory of a guest engine as a [`Region`].
pub(super) struct GuestMemoryCreator;

// SAFETY: memories honour the requested reservation and guard, and never
// move. They start zeroed (fresh anonymous pages), except a captured
// memory made in a spare region: the JS guest's instantiation runs none of
// its code (its data segments are passive, it has no start function), and
// the instance's image is copied over the region right after (`instance.rs`).
unsafe impl MemoryCreator for GuestMemoryCreator {
    fn new_memory(
        &self,
        _ty: MemoryType,
        minimum: usize,
        _maximum: Option<usize>,
        reserved: Option<usize>,
        guard: usize,
    ) -> Result<Box<dyn LinearMemory>, String> {
        // Only the first memory made while a capture is armed is the one
        // being captured; any other is left alone (and not pinned).
        let armed = CAPTURE.with(|capture| {
            capture
                .borrow_mut()
                .as_mut()
                .filter(|capture| capture.created.is_none())
                .map(|capture| (capture.seed_size, capture.spare.take()))
        });
        let seed_size = armed.as_ref().map(|(seed_size, _)| *seed_size);
        let size = seed_size.unwrap_or(0).max(minimum);
        let capacity = reserved.unwrap_or(DEFAULT_RESERVATION).max(size);
        let spare = armed
            .and_then(|(_, spare)| spare)
            .filter(|spare| spare.fits(capacity, guard, size));
        let recycled = spare.is_some();
        let region = match spare {
            Some(region) => region,
            None => Region::reserve(capacity, guard)
                .map_err(|e| format!("cannot reserve guest memory: {e}"))?,
        };
        region
            .grow_to(size)
            .map_err(|e| format!("cannot map guest memory: {e}"))?;
        let region = Arc::new(region);
        if seed_size.is_some() {
            CAPTURE.with(|capture| {
                if let Some(capture) = capture.borrow_mut().as_mut() {
                    capture.created = Some((region.clone(), recycled));
                }
            });
        }
        Ok(Box::new(GuestMemory(region)))
    }
}

/// Runs `instantiate`, which must create exactly one memory on this thread,
/// starting it at `seed_size` bytes (at least its minimum), in `spare` when
/// that region fits what wasmtime asks for; returns that memory and whether
/// it is `spare` (whose bytes are then whatever its last guest left).
pub(super) fn capture_created<T>(
    seed_size: usize,
    spare: Option<Region>,
    instantiate: impl FnOnce() -> wasmtime::Result<T>,
) -> wasmtime::Result<(T, Arc<Region>, bool)> {
    let armed = Capture {
        seed_size,
        spare,
        created: None,
    };
    CAPTURE.with(|capture| *capture.borrow_mut() = Some(armed));
    let result = instantiate();
    let capture = CAPTURE.with(|capture| capture.borrow_mut().take());
    let value = result?;
    let (region, recycled) = capture
        .and_then(|capture| capture.created)
        .ok_or_else(|| wasmtime::format_err!("the guest created no linear memory"))?;
    Ok((value, region, recycled))
}
