//! The wasmtime backend: the guest components (JavaScript and Python) in
//! process.
//!
//! One [`Engine`](::wasmtime::Engine) per distinct engine configuration is
//! shared process-wide (`engine.rs`), with the guest compiled once for it
//! and pre-linked into one `InstancePre`. Each sandbox owns a `Store` and an
//! instance (`instance.rs`); memory growth is capped by the sandbox's heap
//! size without trapping, so running out of memory is a JavaScript error.
//! The guest's imports are served by the sandbox's dispatcher (`state.rs`);
//! its budgets by the sandbox's meter (`meter.rs`), shared by every store a
//! call enters (the JS guest's and its components').
//!
//! # The life of a guest image
//!
//! Starting QuickJS costs a few milliseconds; a new sandbox costs
//! microseconds because no sandbox starts QuickJS itself. A guest's whole
//! state is its linear memory, so state moves as images of memory:
//!
//! 1. **Build.** `build.rs` compiles `js-guest-component/` for
//!    `wasm32-wasip2`, makes its data segments passive (instantiating copies
//!    nothing) and extracts their bytes and the initial memory size, so the
//!    host can build the guest's first image without running it.
//! 2. **Artifact** (`artifact.rs`). The component is compiled for an engine
//!    once per process, or loaded from the on-disk cache of compiled code
//!    (keyed by the component's build-time digest and the engine's
//!    compatibility hash), memory-mapped.
//! 3. **Base image** (`engine.rs`, `guest.rs`). The first sandbox of an
//!    engine instantiates the guest over the initial image (the data
//!    segments), starts the JavaScript runtime, sets its stack limit, and
//!    captures the memory as the engine's base [`MemoryImage`]: a sealed
//!    memfd (`image.rs`). A sandbox template's image (`crate::template`)
//!    takes its place for the sandboxes created from the template.
//! 4. **Instance** (`instance.rs`, `region.rs`). Every memory is a region
//!    the host owns. A new sandbox instantiates the guest and maps the
//!    image over its memory copy-on-write: pages it never writes stay
//!    shared with every other sandbox. When an instance goes, its region
//!    goes back to the image it is mapped from, and the next instance
//!    seeded from that image takes it and copies back just the pages
//!    written since: the pages calls write stay resident, no fault each.
//! 5. **Snapshot and restore.** A snapshot captures the memory into a new
//!    image and maps it back over the memory, so the memory is "mapped from"
//!    the snapshot. Restoring that snapshot copies back only the pages
//!    written since (found in `/proc/self/pagemap`); restoring anything else,
//!    or a poisoned instance, instantiates afresh over the image. A reset
//!    (unload) is a restore of the base image.
//!
//! [`MemoryImage`]: image::MemoryImage

mod artifact;
mod bindings;
mod component;
mod engine;
mod guest;
mod handlers;
mod image;
mod instance;
mod meter;
mod region;
mod state;
mod thread_stack;
mod ticker;
mod trap;
mod written;

pub(crate) use artifact::guest;
pub(crate) use guest::{WasmtimeGuest, image_bytes, image_from_bytes};
