//! Guest linear memory owned by the host, and images of it.
//!
//! wasmtime gives no public way to reach a component's core memory, so the
//! engine is configured with [`GuestMemoryCreator`]: every linear memory is
//! an mmap region this module owns. That gives two things:
//!
//! - **capture**: a [`MemoryImage`] is a sealed memfd holding a copy of the
//!   memory (all-zero pages are left as holes, so they cost nothing);
//! - **seeding**: a new instance's memory is created at an image's size, and
//!   after instantiation the image is mapped over it copy-on-write
//!   (`MAP_PRIVATE`), discarding the data segments wasmtime wrote. Restoring
//!   costs one `mmap` plus a page fault per page the guest later touches;
//!   untouched pages stay shared with the image across every sandbox seeded
//!   from it.
//!
//! A guest's whole state is its linear memory: between calls its only
//! mutable global, the stack pointer, is back at its initial value, and its
//! tables never change. So memory alone is a complete snapshot.
//!
//! # Safety
//!
//! The invariants, relied on by the `unsafe` blocks below:
//! - a region reserves `reservation + guard` bytes once and never moves; only
//!   `[0, size)` is accessible, the rest is `PROT_NONE`, as the compiled code
//!   (which elides bounds checks against the reservation) requires;
//! - the region is unmapped only when both wasmtime's [`GuestMemory`] and the
//!   sandbox's handle are gone;
//! - the host reads or remaps a region only while no guest code runs in its
//!   store (the sandbox holds `&mut` for every entry into the guest).

use std::cell::RefCell;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::FileExt;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use wasmtime::{LinearMemory, MemoryCreator, MemoryType};

const PAGE: usize = 4096;

/// Reservation used when wasmtime does not ask for one: a full 32-bit space.
const DEFAULT_RESERVATION: usize = 4 << 30;

thread_local! {
    /// The size the next memory created on this thread must start at.
    static SEED_SIZE: RefCell<Option<usize>> = const { RefCell::new(None) };
    /// The memory most recently created on this thread.
    static CREATED: RefCell<Option<Arc<Region>>> = const { RefCell::new(None) };
}

/// An mmap reservation holding one linear memory.
pub(super) struct Region {
    base: NonNull<u8>,
    /// Bytes mapped, guard included.
    mapped: usize,
    /// Bytes the memory may grow to without moving.
    capacity: usize,
    /// Bytes accessible now.
    size: AtomicUsize,
}

// SAFETY: the region is plain memory; the invariants above say who may touch
// it and when.
unsafe impl Send for Region {}
unsafe impl Sync for Region {}

impl Region {
    fn reserve(capacity: usize, guard: usize) -> io::Result<Self> {
        let mapped = capacity
            .checked_add(guard)
            .ok_or(io::ErrorKind::InvalidInput)?;
        // SAFETY: a fresh anonymous mapping at an address of the kernel's choosing.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                mapped,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = NonNull::new(base.cast()).expect("mmap never returns null on success");
        Ok(Self {
            base,
            mapped,
            capacity,
            size: AtomicUsize::new(0),
        })
    }

    /// Bytes accessible now.
    pub fn size(&self) -> usize {
        self.size.load(Ordering::Acquire)
    }

    fn grow_to(&self, new_size: usize) -> io::Result<()> {
        let old = self.size();
        if new_size > self.capacity {
            return Err(io::ErrorKind::OutOfMemory.into());
        }
        if new_size > old {
            // SAFETY: [old, new_size) lies inside the reservation.
            let rc = unsafe {
                libc::mprotect(
                    self.base.as_ptr().add(old).cast(),
                    new_size - old,
                    libc::PROT_READ | libc::PROT_WRITE,
                )
            };
            if rc != 0 {
                return Err(io::Error::last_os_error());
            }
            self.size.store(new_size, Ordering::Release);
        }
        Ok(())
    }

    /// The accessible bytes. Only while no guest code runs (module invariants).
    fn bytes(&self) -> &[u8] {
        // SAFETY: [0, size) is mapped readable; see the module invariants.
        unsafe { std::slice::from_raw_parts(self.base.as_ptr(), self.size()) }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: the whole mapping is ours and nothing refers to it any more.
        unsafe { libc::munmap(self.base.as_ptr().cast(), self.mapped) };
    }
}

/// wasmtime's handle on a [`Region`].
struct GuestMemory(Arc<Region>);

// SAFETY: the region never moves, `byte_capacity` growth stays within the
// reservation, and the guard after it is never made accessible.
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
        self.0.base.as_ptr()
    }
}

/// Creates every linear memory of a guest engine as a [`Region`].
pub(super) struct GuestMemoryCreator;

// SAFETY: memories honour the requested reservation and guard, start zeroed
// (fresh anonymous pages), and never move.
unsafe impl MemoryCreator for GuestMemoryCreator {
    fn new_memory(
        &self,
        _ty: MemoryType,
        minimum: usize,
        _maximum: Option<usize>,
        reserved: Option<usize>,
        guard: usize,
    ) -> Result<Box<dyn LinearMemory>, String> {
        let size = SEED_SIZE
            .with(|seed| seed.borrow_mut().take())
            .unwrap_or(0)
            .max(minimum);
        let capacity = reserved.unwrap_or(DEFAULT_RESERVATION).max(size);
        let region = Region::reserve(capacity, guard)
            .map_err(|e| format!("cannot reserve guest memory: {e}"))?;
        region
            .grow_to(size)
            .map_err(|e| format!("cannot map guest memory: {e}"))?;
        let region = Arc::new(region);
        CREATED.with(|created| *created.borrow_mut() = Some(region.clone()));
        Ok(Box::new(GuestMemory(region)))
    }
}

/// Runs `instantiate`, which must create exactly one memory on this thread,
/// starting it at `seed_size` bytes (at least its minimum), and returns that
/// memory.
pub(super) fn capture_created<T>(
    seed_size: usize,
    instantiate: impl FnOnce() -> wasmtime::Result<T>,
) -> wasmtime::Result<(T, Arc<Region>)> {
    SEED_SIZE.with(|seed| *seed.borrow_mut() = Some(seed_size));
    CREATED.with(|created| created.borrow_mut().take());
    let result = instantiate();
    SEED_SIZE.with(|seed| seed.borrow_mut().take());
    let region = CREATED.with(|created| created.borrow_mut().take());
    let value = result?;
    let region =
        region.ok_or_else(|| wasmtime::format_err!("the guest created no linear memory"))?;
    Ok((value, region))
}

/// A copy of a guest memory, as a sealed memfd.
pub(crate) struct MemoryImage {
    file: File,
    len: usize,
    /// A read-only view of the file, for copying pages back.
    view: OnceLock<io::Result<View>>,
}

/// A read-only shared mapping of an image.
struct View {
    base: NonNull<u8>,
    len: usize,
}

// SAFETY: a read-only mapping of a sealed file: nothing can change it.
unsafe impl Send for View {}
unsafe impl Sync for View {}

impl Drop for View {
    fn drop(&mut self) {
        // SAFETY: the mapping is ours and no slice of it outlives `self`.
        unsafe { libc::munmap(self.base.as_ptr().cast(), self.len) };
    }
}

impl MemoryImage {
    /// Copies `region`'s accessible bytes. All-zero pages are skipped: the
    /// file reads them back as zeros without storing them.
    pub fn capture(region: &Region) -> io::Result<Self> {
        let bytes = region.bytes();
        let file = memfd("polybox-guest-image")?;
        file.set_len(bytes.len() as u64)?;
        for (index, page) in bytes.chunks(PAGE).enumerate() {
            if page.iter().any(|&b| b != 0) {
                file.write_all_at(page, (index * PAGE) as u64)?;
            }
        }
        Self::sealed(file, bytes.len())
    }

    /// An image of `len` bytes holding `segments` (offset, bytes) and zeros
    /// elsewhere.
    pub fn from_segments(len: usize, segments: &[(usize, &[u8])]) -> io::Result<Self> {
        let file = memfd("polybox-guest-image")?;
        file.set_len(len as u64)?;
        for (offset, bytes) in segments {
            file.write_all_at(bytes, *offset as u64)?;
        }
        Self::sealed(file, len)
    }

    /// Seals `file` against every change, so mapping it privately is safe.
    fn sealed(file: File, len: usize) -> io::Result<Self> {
        let seals =
            libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE | libc::F_SEAL_SEAL;
        // SAFETY: fcntl on a descriptor we own.
        if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, seals) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Self {
            file,
            len,
            view: OnceLock::new(),
        })
    }

    /// The memory size the image restores.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Returns `region`, which must be mapped from this image and no larger,
    /// to the image's contents by copying back only the pages the guest wrote
    /// since the mapping was made; those are exactly the pages that became
    /// private (anonymous) copies, as `/proc/self/pagemap` reports. They
    /// stay resident and writable, so later calls take no page faults.
    /// Returns how many pages were copied.
    pub fn copy_back_written(&self, region: &Region) -> io::Result<usize> {
        if region.size() != self.len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "image and memory sizes differ",
            ));
        }
        let view = self
            .view
            .get_or_init(|| View::map(&self.file, self.len))
            .as_ref()
            .map_err(clone_error)?;
        let written = written_pages(region.base.as_ptr() as usize, self.len / PAGE)?;
        for &page in &written {
            let offset = page * PAGE;
            // SAFETY: both ranges lie inside their mappings; the region is
            // writable and no guest code runs (module invariants).
            unsafe {
                std::ptr::copy_nonoverlapping(
                    view.base.as_ptr().add(offset),
                    region.base.as_ptr().add(offset),
                    PAGE,
                );
            }
        }
        Ok(written.len())
    }

    /// Maps the image copy-on-write over `region`'s first `len` bytes,
    /// replacing whatever they held. `region` must be exactly `len` bytes.
    pub fn map_onto(&self, region: &Region) -> io::Result<()> {
        if region.size() != self.len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "image and memory sizes differ",
            ));
        }
        // SAFETY: [0, len) is inside the region's reservation and accessible;
        // MAP_FIXED replaces those pages only (module invariants: no guest
        // code is running).
        let mapped = unsafe {
            libc::mmap(
                region.base.as_ptr().cast(),
                self.len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_FIXED,
                self.file.as_raw_fd(),
                0,
            )
        };
        if mapped == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl View {
    fn map(file: &File, len: usize) -> io::Result<Self> {
        // SAFETY: a fresh read-only shared mapping of a sealed file.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Self {
            base: NonNull::new(base.cast()).expect("mmap never returns null on success"),
            len,
        })
    }
}

/// The indices of the pages in `[start, start + pages * PAGE)` that this
/// process wrote to since they were mapped privately from a file: present (or
/// swapped) and no longer file pages.
fn written_pages(start: usize, pages: usize) -> io::Result<Vec<usize>> {
    const PRESENT: u64 = 1 << 63;
    const SWAPPED: u64 = 1 << 62;
    const FILE_OR_SHARED: u64 = 1 << 61;
    static PAGEMAP: OnceLock<io::Result<File>> = OnceLock::new();
    let pagemap = PAGEMAP
        .get_or_init(|| File::open("/proc/self/pagemap"))
        .as_ref()
        .map_err(clone_error)?;
    let mut entries = vec![0u8; pages * 8];
    pagemap.read_exact_at(&mut entries, (start / PAGE * 8) as u64)?;
    Ok(entries
        .chunks_exact(8)
        .enumerate()
        .filter(|(_, entry)| {
            let entry = u64::from_ne_bytes((*entry).try_into().expect("8-byte chunks"));
            entry & (PRESENT | SWAPPED) != 0 && entry & FILE_OR_SHARED == 0
        })
        .map(|(page, _)| page)
        .collect())
}

fn clone_error(error: &io::Error) -> io::Error {
    io::Error::new(error.kind(), error.to_string())
}

fn memfd(name: &str) -> io::Result<File> {
    let name = std::ffi::CString::new(name).expect("no NUL in memfd names");
    // SAFETY: a valid C string and flags; the descriptor is owned below.
    let fd =
        unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    Ok(unsafe { File::from_raw_fd(fd) })
}
