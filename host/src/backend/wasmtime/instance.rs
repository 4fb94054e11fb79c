//! [`JsInstance`]: a store holding one instance of the JS guest, and the
//! guest's linear memory, which the host owns (`region.rs`) and images
//! (`image.rs`).
//!
//! The instance owns its store and its memory's region, so while the host
//! holds `&mut JsInstance` no guest code runs in that memory: that is what
//! makes capturing and remapping it here sound.

use std::io;
use std::mem::ManuallyDrop;
use std::sync::Arc;

use wasmtime::Store;

use super::bindings::{JsRuntime, RuntimeExports};
use super::engine::GuestEngine;
use super::image::MemoryImage;
use super::region::{Region, capture_created};
use super::state::GuestState;
use crate::error::{Error, Result};

/// A store, the JS guest instance in it, and the instance's memory.
pub(super) struct JsInstance {
    /// Dropped before `memory`, which then goes back to `mapped` (see
    /// `Drop`).
    store: ManuallyDrop<Store<GuestState>>,
    runtime: JsRuntime,
    memory: ManuallyDrop<Arc<Region>>,
    /// The image `memory` is mapped from, copy-on-write.
    mapped: Arc<MemoryImage>,
}

impl JsInstance {
    /// A new store and instance whose memory is seeded from `image`: a
    /// spare region of the image's, its written pages copied back, or a new
    /// region the image is mapped onto.
    pub fn start(
        engine: &GuestEngine,
        state: GuestState,
        image: &Arc<MemoryImage>,
    ) -> Result<Self> {
        let mut store = Store::new(engine.pre.engine(), state);
        if engine.fuel {
            // Outside calls (instantiation, declarations) fuel is unlimited.
            store
                .set_fuel(u64::MAX)
                .map_err(|e| Error::Internal(format!("{e:#}")))?;
        }
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_callback(|store| store.data().meter.on_epoch());
        store.set_epoch_deadline(1);
        let spare = image.take_spare();
        let (runtime, memory, recycled) =
            capture_created(image.len(), spare, || engine.pre.instantiate(&mut store))
                .map_err(|e| Error::Internal(format!("cannot instantiate the JS guest: {e:#}")))?;
        // SAFETY: instantiation has returned, so no guest code runs, and
        // nothing refers to the memory's bytes. A spare region is mapped
        // from `image`: copying back what its last guest wrote returns it
        // to the image, as a restore does; without the page tables to tell
        // which pages those are, the image is mapped afresh.
        let seeded = recycled && unsafe { image.copy_back_written(&memory) }.is_ok();
        if !seeded {
            // SAFETY: as above.
            unsafe { image.map_onto(&memory) }
                .map_err(|e| Error::Internal(format!("cannot map a guest image: {e}")))?;
        }
        Ok(Self {
            store: ManuallyDrop::new(store),
            runtime,
            memory: ManuallyDrop::new(memory),
            mapped: image.clone(),
        })
    }

    /// Runs `f` against the guest's runtime exports, through the sandbox's
    /// meter (see `meter.rs`). The inner `Err` is a trap.
    pub fn enter<R>(
        &mut self,
        f: impl FnOnce(&RuntimeExports, &mut Store<GuestState>) -> wasmtime::Result<R>,
    ) -> Result<wasmtime::Result<R>> {
        let meter = self.store.data().meter.clone();
        let exports = self.runtime.polybox_sandbox_runtime();
        meter.enter(&mut *self.store, |store| f(exports, store))
    }

    /// Captures the memory as an image, then maps the image over it, so the
    /// image is the baseline the next [`restore`](Self::restore) of it
    /// copies back to.
    pub fn snapshot(&mut self) -> io::Result<Arc<MemoryImage>> {
        // SAFETY: `&mut self` owns the store: no guest code runs, and no
        // reference into the memory outlives these calls.
        let image = Arc::new(unsafe { MemoryImage::capture(&self.memory) }?);
        // SAFETY: as above.
        unsafe { image.map_onto(&self.memory) }?;
        self.mapped = image.clone();
        Ok(image)
    }

    /// Returns the memory to `image` in place when it is the image the
    /// memory is mapped from and the memory has not grown: only the pages
    /// written since are copied back. `false` when that cannot be done (a
    /// new instance is then needed).
    pub fn restore_in_place(&mut self, image: &Arc<MemoryImage>) -> bool {
        if !Arc::ptr_eq(image, &self.mapped) || self.memory.size() != image.len() {
            return false;
        }
        // SAFETY: as in `snapshot`.
        match unsafe { image.copy_back_written(&self.memory) } {
            Ok(_) => true,
            // Without /proc/self/pagemap, take the general path.
            Err(error) => {
                tracing::debug!(%error, "restoring by re-instantiation");
                false
            }
        }
    }

    /// The instance's memory, for building an image from it.
    pub fn capture(&mut self) -> io::Result<MemoryImage> {
        // SAFETY: as in `snapshot`.
        unsafe { MemoryImage::capture(&self.memory) }
    }
}

impl Drop for JsInstance {
    /// Drops the store, then gives the memory to the image it is mapped
    /// from, for the next guest.
    fn drop(&mut self) {
        // SAFETY: each field is taken once, here, and not used again; the
        // store goes first, with wasmtime's handle on the memory.
        let memory = unsafe {
            ManuallyDrop::drop(&mut self.store);
            ManuallyDrop::take(&mut self.memory)
        };
        if let Some(region) = Arc::into_inner(memory) {
            self.mapped.keep_spare(region);
        }
    }
}
