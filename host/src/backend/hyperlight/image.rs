//! The guest, compiled ahead of time for Hyperlight's guest engine, in
//! page-aligned read-only memory that every VM maps instead of copying.

use std::sync::OnceLock;

use crate::error::{Error, Result};

/// The JS guest as `hyperlight-wasm-aot` compiled it (see `build.rs`).
static AOT: &[u8] = include_bytes!(env!("POLYBOX_JS_GUEST_AOT"));

/// A read-only, page-aligned copy of [`AOT`], alive for the process.
pub(super) struct Image {
    pub base: *mut libc::c_void,
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
    // SAFETY: sysconf has no preconditions.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    let len = AOT.len().div_ceil(page) * page;
    // SAFETY: a fresh anonymous private mapping; the copy stays within it,
    // and it is made read-only before anyone else sees it.
    unsafe {
        let base = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if base == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error().to_string());
        }
        std::ptr::copy_nonoverlapping(AOT.as_ptr(), base.cast::<u8>(), AOT.len());
        if libc::mprotect(base, len, libc::PROT_READ) != 0 {
            return Err(std::io::Error::last_os_error().to_string());
        }
        Ok(Image { base, len })
    }
}
