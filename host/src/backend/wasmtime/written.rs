//! Which pages of a private file mapping this process wrote to: the pages
//! a restore must copy back.
//!
//! The kernel knows from its page tables: a written page of a `MAP_PRIVATE`
//! file mapping became an anonymous copy. `PAGEMAP_SCAN` (Linux 6.7 and
//! later) returns just the ranges of such pages, which is far cheaper than
//! reading the eight-byte `/proc/self/pagemap` entry of every page of the
//! mapping, the way used where the ioctl is missing. A restore runs between
//! every two programs, so this is on the hot path.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use super::region::page_size;

/// `PAGEMAP_SCAN`: `_IOWR('f', 16, struct pm_scan_arg)` in `linux/fs.h`.
const PAGEMAP_SCAN: libc::c_ulong = 0xC060_6610;
/// `PAGE_IS_FILE`: the page is the mapped file's.
const PAGE_IS_FILE: u64 = 1 << 2;
/// `PAGE_IS_PRESENT`: the page is in memory.
const PAGE_IS_PRESENT: u64 = 1 << 3;
/// `PAGE_IS_SWAPPED`: the page is swapped out.
const PAGE_IS_SWAPPED: u64 = 1 << 4;

/// `struct pm_scan_arg` of `linux/fs.h`.
#[repr(C)]
struct ScanArg {
    size: u64,
    flags: u64,
    start: u64,
    end: u64,
    walk_end: u64,
    vec: u64,
    vec_len: u64,
    max_pages: u64,
    category_inverted: u64,
    category_mask: u64,
    category_anyof_mask: u64,
    return_mask: u64,
}

/// `struct page_region` of `linux/fs.h`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct PageRegion {
    start: u64,
    end: u64,
    categories: u64,
}

/// How many ranges one `PAGEMAP_SCAN` call returns at most.
const RANGES: usize = 64;

/// `/proc/self/pagemap`, opened once.
fn pagemap() -> io::Result<&'static File> {
    static PAGEMAP: OnceLock<io::Result<File>> = OnceLock::new();
    PAGEMAP
        .get_or_init(|| File::open("/proc/self/pagemap"))
        .as_ref()
        .map_err(|e| io::Error::new(e.kind(), e.to_string()))
}

/// The indices of the pages in `[start, start + pages * page_size)` that
/// this process wrote to since they were mapped privately from a file:
/// present (or swapped) and no longer file pages.
pub(super) fn written_pages(start: usize, pages: usize) -> io::Result<Vec<usize>> {
    static NO_SCAN: AtomicBool = AtomicBool::new(false);
    let pagemap = pagemap()?;
    if !NO_SCAN.load(Ordering::Relaxed) {
        match scan(pagemap, start, pages) {
            Ok(written) => return Ok(written),
            // An older kernel: read the entries instead, from now on.
            Err(error) if matches!(error.raw_os_error(), Some(libc::ENOTTY | libc::EINVAL)) => {
                NO_SCAN.store(true, Ordering::Relaxed);
            }
            Err(error) => return Err(error),
        }
    }
    read_entries(pagemap, start, pages)
}

/// `written_pages` through `PAGEMAP_SCAN`.
fn scan(pagemap: &File, start: usize, pages: usize) -> io::Result<Vec<usize>> {
    let page = page_size();
    let end = (start + pages * page) as u64;
    let mut written = Vec::new();
    let mut from = start as u64;
    let mut ranges = [PageRegion::default(); RANGES];
    while from < end {
        let mut arg = ScanArg {
            size: size_of::<ScanArg>() as u64,
            flags: 0,
            start: from,
            end,
            walk_end: 0,
            vec: ranges.as_mut_ptr() as u64,
            vec_len: RANGES as u64,
            max_pages: 0,
            // Not a file page, and present or swapped.
            category_inverted: PAGE_IS_FILE,
            category_mask: PAGE_IS_FILE,
            category_anyof_mask: PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
            return_mask: PAGE_IS_FILE | PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
        };
        // SAFETY: `arg` is a valid `pm_scan_arg` whose `vec` points at
        // `RANGES` writable `page_region`s, which outlive the call.
        let found = unsafe { libc::ioctl(pagemap.as_raw_fd(), PAGEMAP_SCAN, &mut arg) };
        if found < 0 {
            return Err(io::Error::last_os_error());
        }
        for range in &ranges[..found as usize] {
            let first = (range.start as usize - start) / page;
            let last = (range.end as usize - start) / page;
            written.extend(first..last);
        }
        if arg.walk_end <= from {
            break;
        }
        from = arg.walk_end;
    }
    Ok(written)
}

/// `written_pages` by reading every page's `/proc/self/pagemap` entry.
fn read_entries(pagemap: &File, start: usize, pages: usize) -> io::Result<Vec<usize>> {
    let mut entries = vec![0u8; pages * 8];
    pagemap.read_exact_at(&mut entries, (start / page_size() * 8) as u64)?;
    Ok(entries
        .chunks_exact(8)
        .enumerate()
        .filter(|(_, entry)| {
            written(u64::from_ne_bytes(
                (*entry).try_into().expect("8-byte chunks"),
            ))
        })
        .map(|(index, _)| index)
        .collect())
}

/// Whether a `/proc/self/pagemap` entry is a page this process wrote to: in
/// memory (or swapped out) and anonymous, not a page of the mapped file.
fn written(entry: u64) -> bool {
    const PRESENT: u64 = 1 << 63;
    const SWAPPED: u64 = 1 << 62;
    const FILE_OR_SHARED: u64 = 1 << 61;
    entry & (PRESENT | SWAPPED) != 0 && entry & FILE_OR_SHARED == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::mm::{MapFlags, ProtFlags};

    #[test]
    fn the_pagemap_flags_mark_only_anonymous_resident_pages_as_written() {
        assert!(written(1 << 63));
        assert!(written(1 << 62));
        assert!(!written((1 << 63) | (1 << 61)));
        assert!(!written(0));
    }

    #[test]
    fn both_ways_find_exactly_the_written_pages_of_a_private_file_mapping() {
        let page = page_size();
        let file = tempfile(8 * page);
        // SAFETY: a fresh private mapping of the file, at an address of the
        // kernel's choosing, unmapped below.
        let base = unsafe {
            rustix::mm::mmap(
                std::ptr::null_mut(),
                8 * page,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE,
                &file,
                0,
            )
        }
        .unwrap()
        .cast::<u8>();
        // SAFETY: the pages lie inside the mapping; reading page 3 maps it
        // from the file without writing it.
        unsafe {
            std::ptr::read_volatile(base.add(3 * page));
            for index in [1, 2, 6] {
                base.add(index * page).write_volatile(1);
            }
        }
        let start = base as usize;
        assert_eq!(
            read_entries(pagemap().unwrap(), start, 8).unwrap(),
            [1, 2, 6]
        );
        assert_eq!(written_pages(start, 8).unwrap(), [1, 2, 6]);
        // SAFETY: the mapping made above, no longer used.
        unsafe { rustix::mm::munmap(base.cast(), 8 * page) }.unwrap();
    }

    fn tempfile(len: usize) -> File {
        let path = std::env::temp_dir().join(format!("polybox-written-{}", std::process::id()));
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        file.set_len(len as u64).unwrap();
        std::fs::remove_file(&path).unwrap();
        file
    }
}
