//! [`MemoryImage`]: a copy of a guest's linear memory, as a sealed memfd,
//! that new memories are mapped from copy-on-write and restored to.
//!
//! A guest's whole state is its linear memory: between calls its only
//! mutable global, the stack pointer, is back at its initial value, and its
//! tables never change. So an image of memory is a complete snapshot. The
//! life of an image, from the build to a restore, is told in the
//! [backend's docs](super).
//!
//! - **capture** copies a region's bytes into a memfd; all-zero pages are
//!   left as holes, so they cost nothing;
//! - **seeding** maps the image over a new region (`MAP_PRIVATE`): one
//!   `mmap`, then a page fault per page the guest touches, and untouched
//!   pages stay shared with every sandbox seeded from the same image;
//! - **copy-back restore** returns a region still mapped from its image to
//!   the image's contents by copying back only the pages written since the
//!   mapping was made: the kernel's page tables tell which pages became
//!   private copies (`written.rs`). Those pages stay resident, so the next
//!   call takes no faults;
//! - **spare regions**: a guest's memory outlives its guest. When an
//!   instance mapped from an image goes, its region is kept by the image
//!   ([`keep_spare`](MemoryImage::keep_spare)), and the next guest seeded
//!   from the image takes it and copies back the pages the last one wrote,
//!   instead of reserving and mapping a new region whose first call then
//!   takes a copy-on-write fault per page it writes (1.3–1.7 µs each on a
//!   VM, a few dozen per call): the pages a call writes stay resident from
//!   one guest to the next, and nothing is unmapped when a guest goes.

use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::FileExt;
use std::ptr::NonNull;
use std::sync::{Mutex, OnceLock};

use rustix::fs::{MemfdFlags, SealFlags};
use rustix::mm::{MapFlags, ProtFlags};

use super::region::{Region, page_size};
use super::written::written_pages;

/// A copy of a guest memory, as a sealed memfd.
pub(crate) struct MemoryImage {
    file: File,
    len: usize,
    /// A read-only view of the file, for copying pages back.
    view: OnceLock<io::Result<View>>,
    /// Regions of guests that were mapped from this image, for the next.
    spares: Mutex<Vec<Region>>,
}

/// How many times a write seal is tried (see [`MemoryImage::sealed`]).
const SEAL_ATTEMPTS: u32 = 5;

/// How many spare regions an image keeps: as many guests as are created
/// and dropped around the same time (a pool's "new" strategy, a burst).
const MAX_SPARES: usize = 8;

/// A read-only shared mapping of an image.
struct View {
    base: NonNull<u8>,
    len: usize,
}

// SAFETY: a read-only mapping of a sealed file: nothing can change it, so
// it may be read from any thread.
unsafe impl Send for View {}
// SAFETY: as above.
unsafe impl Sync for View {}

impl Drop for View {
    fn drop(&mut self) {
        // SAFETY: the mapping is ours and no slice of it outlives `self`.
        let _ = unsafe { rustix::mm::munmap(self.base.as_ptr().cast(), self.len) };
    }
}

impl MemoryImage {
    /// Copies `region`'s accessible bytes. All-zero pages are skipped: the
    /// file reads them back as zeros without storing them.
    ///
    /// # Safety
    ///
    /// As for [`Region::bytes`]: no guest code runs in the region's store,
    /// and nothing remaps it, during the capture.
    pub unsafe fn capture(region: &Region) -> io::Result<Self> {
        // SAFETY: the caller keeps the guest and remappings away.
        Self::from_bytes(unsafe { region.bytes() })
    }

    /// An image holding a copy of `bytes` (a whole number of pages, as a
    /// file written from [`bytes`](Self::bytes) holds them).
    pub fn from_bytes(bytes: &[u8]) -> io::Result<Self> {
        if bytes.is_empty() || !bytes.len().is_multiple_of(page_size()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "a guest memory image must be a whole number of {}-byte pages, not {} bytes",
                    page_size(),
                    bytes.len()
                ),
            ));
        }
        let file = memfd()?;
        file.set_len(bytes.len() as u64)?;
        let page = page_size();
        for (index, chunk) in bytes.chunks(page).enumerate() {
            if chunk.iter().any(|&b| b != 0) {
                file.write_all_at(chunk, (index * page) as u64)?;
            }
        }
        Self::sealed(file, bytes.len())
    }

    /// An image of `len` bytes holding `segments` (offset, bytes) and zeros
    /// elsewhere.
    pub fn from_segments(len: usize, segments: &[(usize, &[u8])]) -> io::Result<Self> {
        let file = memfd()?;
        file.set_len(len as u64)?;
        for (offset, bytes) in segments {
            file.write_all_at(bytes, *offset as u64)?;
        }
        Self::sealed(file, len)
    }

    /// Seals `file` against every change, so mapping it privately is safe.
    ///
    /// The kernel refuses a write seal (`EBUSY`) while any page of the file
    /// holds an extra reference, and waits only ~70 ms for such references
    /// to go; on a busy machine a page can be held longer (compaction or
    /// migration of a page just written): the seal is then tried again a
    /// few times before the error is returned. (Seen once, building the
    /// Python guest's 19 MiB base image.)
    fn sealed(file: File, len: usize) -> io::Result<Self> {
        let seals = SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE | SealFlags::SEAL;
        let mut attempts = 0;
        while let Err(error) = rustix::fs::fcntl_add_seals(&file, seals) {
            attempts += 1;
            if error != rustix::io::Errno::BUSY || attempts == SEAL_ATTEMPTS {
                return Err(error.into());
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Ok(Self {
            file,
            len,
            view: OnceLock::new(),
            spares: Mutex::default(),
        })
    }

    /// The memory size the image restores.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The image's contents, through a read-only mapping of its file.
    pub fn bytes(&self) -> io::Result<&[u8]> {
        let view = self.view()?;
        // SAFETY: the mapping is `len` bytes of a sealed file, read-only,
        // and lives as long as `self`.
        Ok(unsafe { std::slice::from_raw_parts(view.base.as_ptr(), view.len) })
    }

    fn view(&self) -> io::Result<&View> {
        self.view
            .get_or_init(|| View::map(&self.file, self.len))
            .as_ref()
            .map_err(clone_error)
    }

    /// Maps the image copy-on-write over `region`'s first `len` bytes,
    /// replacing whatever they held. `region` must be exactly `len` bytes.
    ///
    /// # Safety
    ///
    /// No guest code may run in the region's store, and no reference into
    /// the region's bytes may be alive: the pages are replaced.
    pub unsafe fn map_onto(&self, region: &Region) -> io::Result<()> {
        self.check_size(region)?;
        // SAFETY: [0, len) is inside the region's reservation and
        // accessible; MAP_FIXED replaces exactly those pages, which the
        // caller guarantees nobody is using.
        unsafe {
            rustix::mm::mmap(
                region.base().cast(),
                self.len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE | MapFlags::FIXED,
                self.file.as_fd(),
                0,
            )
        }?;
        Ok(())
    }

    /// Keeps `region`, whose guest is gone, for the next guest seeded from
    /// this image: when it is mapped from this image at the image's size
    /// (it did not grow), and fewer than [`MAX_SPARES`] are kept.
    pub fn keep_spare(&self, region: Region) {
        if region.size() != self.len {
            return;
        }
        let mut spares = self.spares.lock().unwrap_or_else(|p| p.into_inner());
        if spares.len() < MAX_SPARES {
            spares.push(region);
        }
    }

    /// A region [`keep_spare`](Self::keep_spare) kept, if there is one: its
    /// bytes are this image's except for the pages its last guest wrote,
    /// which [`copy_back_written`](Self::copy_back_written) restores.
    pub fn take_spare(&self) -> Option<Region> {
        self.spares.lock().unwrap_or_else(|p| p.into_inner()).pop()
    }

    /// Returns `region`, which must be mapped from this image (by
    /// [`map_onto`](Self::map_onto)) and as large, to the image's contents
    /// by copying back only the pages the guest wrote since. Returns how
    /// many pages were copied.
    ///
    /// # Safety
    ///
    /// As for [`map_onto`](Self::map_onto): no guest code runs in the
    /// region's store and no reference into its bytes is alive.
    pub unsafe fn copy_back_written(&self, region: &Region) -> io::Result<usize> {
        self.check_size(region)?;
        let view = self.view()?;
        let page = page_size();
        let written = written_pages(region.base() as usize, self.len / page)?;
        for &index in &written {
            let offset = index * page;
            // SAFETY: both ranges lie inside their mappings (the sizes
            // match); the region is writable and, by the caller's promise,
            // unused.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    view.base.as_ptr().add(offset),
                    region.base().add(offset),
                    page,
                );
            }
        }
        Ok(written.len())
    }

    fn check_size(&self, region: &Region) -> io::Result<()> {
        if region.size() != self.len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "image and memory sizes differ",
            ));
        }
        Ok(())
    }
}

impl View {
    fn map(file: &File, len: usize) -> io::Result<Self> {
        // SAFETY: a fresh read-only shared mapping of a sealed file, at an
        // address of the kernel's choosing.
        let base = unsafe {
            rustix::mm::mmap(
                std::ptr::null_mut(),
                len,
                ProtFlags::READ,
                MapFlags::SHARED,
                file.as_fd(),
                0,
            )
        }?;
        Ok(Self {
            base: NonNull::new(base.cast()).expect("mmap never returns null on success"),
            len,
        })
    }
}

fn clone_error(error: &io::Error) -> io::Error {
    io::Error::new(error.kind(), error.to_string())
}

fn memfd() -> io::Result<File> {
    let fd = rustix::fs::memfd_create(
        "polybox-guest-image",
        MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
    )?;
    Ok(File::from(fd))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A region of `pages` pages seeded from an image whose page `i` holds
    /// the byte `i + 1`.
    fn seeded(pages: usize) -> (MemoryImage, Region) {
        let page = page_size();
        let contents: Vec<Vec<u8>> = (0..pages).map(|i| vec![i as u8 + 1; page]).collect();
        let segments: Vec<(usize, &[u8])> = contents
            .iter()
            .enumerate()
            .map(|(i, bytes)| (i * page, bytes.as_slice()))
            .collect();
        let image = MemoryImage::from_segments(pages * page, &segments).unwrap();
        let region = Region::reserve(pages * page, 0).unwrap();
        region.grow_to(pages * page).unwrap();
        // SAFETY: no guest and no reference into the new region.
        unsafe { image.map_onto(&region) }.unwrap();
        (image, region)
    }

    #[test]
    fn a_seeded_region_reads_the_image_and_copy_back_undoes_only_the_written_pages() {
        let (image, region) = seeded(8);
        let page = page_size();
        // SAFETY: no guest runs; each write is through the region's own
        // accessible range and no slice is alive across it.
        unsafe {
            assert_eq!(region.bytes()[3 * page], 4);
            region.base().add(2 * page).write(0xAA);
            region.base().add(5 * page + 7).write(0xBB);
        }
        assert_eq!(written_pages(region.base() as usize, 8).unwrap(), [2, 5]);
        // SAFETY: as above.
        let copied = unsafe { image.copy_back_written(&region) }.unwrap();
        assert_eq!(copied, 2);
        // SAFETY: as above.
        let bytes = unsafe { region.bytes() };
        assert!((0..8).all(|i| {
            bytes[i * page..(i + 1) * page]
                .iter()
                .all(|&b| b == i as u8 + 1)
        }));
    }

    #[test]
    fn a_capture_reads_back_what_the_region_held() {
        let (_, region) = seeded(3);
        // SAFETY: no guest runs and no slice is alive across the write.
        unsafe { region.base().write(9) };
        // SAFETY: as above.
        let image = unsafe { MemoryImage::capture(&region) }.unwrap();
        let mut first = [0u8; 2];
        image.file.read_exact_at(&mut first, 0).unwrap();
        assert_eq!(first, [9, 1]);
        assert_eq!(image.len(), 3 * page_size());
    }

    #[test]
    fn images_refuse_a_region_of_another_size() {
        let (image, _) = seeded(2);
        let other = Region::reserve(page_size(), 0).unwrap();
        other.grow_to(page_size()).unwrap();
        // SAFETY: no guest and no reference into `other`.
        let error = unsafe { image.map_onto(&other) }.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    }
}
