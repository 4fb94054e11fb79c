//! The guest, compiled ahead of time for Hyperlight's guest engine, in
//! page-aligned read-only memory that every VM maps instead of copying.

use std::sync::OnceLock;

use crate::error::{Error, Result};

/// The JS guest as `hyperlight-wasm-aot` compiled it (see `build.rs`).
static AOT: &[u8] = include_bytes!(env!("POLYBOX_JS_GUEST_AOT"));

/// A read-only, page-aligned copy of [`AOT`], alive for the process.
pub(super) struct Image {
    pub base: *mut std::ffi::c_void,
    pub len: usize,
}

// SAFETY: the mapping is read-only and never unmapped.
unsafe impl Send for Image {}
// SAFETY: as above.
unsafe impl Sync for Image {}

/// The process-wide image, mapped on first use.
pub(super) fn image() -> Result<&'static Image> {
    static IMAGE: OnceLock<std::result::Result<Image, String>> = OnceLock::new();
    IMAGE
        .get_or_init(map)
        .as_ref()
        .map_err(|e| Error::Internal(format!("cannot map the Hyperlight guest: {e}")))
}

fn map() -> std::result::Result<Image, String> {
    use rustix::mm::{MapFlags, MprotectFlags, ProtFlags};
    let len = AOT.len().div_ceil(rustix::param::page_size()) * rustix::param::page_size();
    // SAFETY: a fresh anonymous private mapping at an address of the
    // kernel's choosing overlaps nothing.
    let base = unsafe {
        rustix::mm::mmap_anonymous(
            std::ptr::null_mut(),
            len,
            ProtFlags::READ | ProtFlags::WRITE,
            MapFlags::PRIVATE,
        )
    }
    .map_err(|e| e.to_string())?;
    // SAFETY: the copy stays within the new mapping, which nothing else
    // knows of yet.
    unsafe { std::ptr::copy_nonoverlapping(AOT.as_ptr(), base.cast::<u8>(), AOT.len()) };
    // SAFETY: the mapping is ours; making it read-only before anyone else
    // sees it invalidates no reference.
    unsafe { rustix::mm::mprotect(base, len, MprotectFlags::READ) }.map_err(|e| e.to_string())?;
    Ok(Image { base, len })
}
