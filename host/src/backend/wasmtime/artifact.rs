//! The guest components (one per [`Language`]), compiled for an engine and
//! cached on disk, and the contents of their memory before any of their
//! code runs.
//!
//! Compiling a component takes up to seconds, so compiled code is written to
//! a cache directory under a name made from the component's SHA-256 (the JS
//! guest's is computed at build time) and the engine's compatibility hash,
//! and memory-mapped on later runs. Files are written to a temporary name and renamed into place,
//! so concurrent processes never see a partial file.
//!
//! The directory is Polybox's cache directory (`cache_dir.rs`:
//! `$POLYBOX_CACHE_DIR`, `off` disables it). Loading compiled code trusts
//! it, so the directory must be writable only by you.
//!
//! Why not wasmtime's own cache (`Config::cache`, cargo feature `cache`)? It
//! keys entries by hashing the wasm bytes on every compile call (a SHA-256
//! over the 1.2 MB guest, each time a process starts an engine), stores them
//! zstd-compressed and reads them back into memory, and runs a background
//! worker to trim the directory. Here the key is the digest `build.rs`
//! computed, and the artifact is memory-mapped as it was written
//! (`Component::deserialize_file`), so pages load on demand. (The Python
//! guest is 25 MB of wasm and takes seconds to compile: the cache is what
//! makes a process's first Python sandbox cheap.)

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;

use wasmtime::Engine;

use crate::cache_dir::cache_dir;
use crate::config::Language;
use wasmtime::component::Component;

/// One embedded guest: its component (data segments passive, see
/// `build.rs`), its digest, and its memory's initial contents.
pub(crate) struct Guest {
    /// The guest's name in cache files.
    name: &'static str,
    wasm: &'static [u8],
    /// The component's SHA-256, hex: what identifies the guest's images.
    pub sha256: &'static str,
    initial_memory: usize,
    data_segments: &'static [(usize, &'static [u8])],
}

mod js {
    // `INITIAL_MEMORY` and `DATA_SEGMENTS`, extracted by `build.rs`.
    include!(concat!(env!("OUT_DIR"), "/js_guest_memory.rs"));
}

mod python {
    // As for the JS guest.
    include!(concat!(env!("OUT_DIR"), "/python_guest_memory.rs"));
}

static JS_GUEST: Guest = Guest {
    name: "js-guest",
    wasm: include_bytes!(env!("POLYBOX_JS_GUEST_WASM")),
    sha256: env!("POLYBOX_JS_GUEST_SHA256"),
    initial_memory: js::INITIAL_MEMORY,
    data_segments: js::DATA_SEGMENTS,
};

static PYTHON_GUEST: Guest = Guest {
    name: "python-guest",
    wasm: include_bytes!(env!("POLYBOX_PYTHON_GUEST_WASM")),
    sha256: env!("POLYBOX_PYTHON_GUEST_SHA256"),
    initial_memory: python::INITIAL_MEMORY,
    data_segments: python::DATA_SEGMENTS,
};

/// The guest that runs `language`.
pub(crate) fn guest(language: Language) -> &'static Guest {
    match language {
        Language::JavaScript => &JS_GUEST,
        Language::Python => &PYTHON_GUEST,
    }
}

impl Guest {
    /// The guest compiled for `engine`, from the cache when possible.
    pub(super) fn load(&self, engine: &Engine) -> wasmtime::Result<Component> {
        load(
            engine,
            self.wasm,
            &format!("{}-{}", self.name, &self.sha256[..16]),
        )
    }

    /// The guest's memory before any of its code runs: its data segments.
    pub(super) fn initial_image(&self) -> std::io::Result<super::image::MemoryImage> {
        super::image::MemoryImage::from_segments(self.initial_memory, self.data_segments)
    }
}

/// `wasm` compiled for `engine`, cached on disk as `name` (which must
/// identify the bytes) plus the engine's compatibility hash.
pub(super) fn load(engine: &Engine, wasm: &[u8], name: &str) -> wasmtime::Result<Component> {
    let Some(path) = cache_path(engine, name) else {
        return Component::new(engine, wasm);
    };
    if path.exists() {
        // SAFETY: the file was written by `Component::serialize` for an engine
        // with this compatibility hash; see the module docs on trust.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => return Ok(component),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "ignoring unusable compiled code")
            }
        }
    }
    let component = Component::new(engine, wasm)?;
    if let Err(error) = store(&path, &component.serialize()?) {
        tracing::warn!(path = %path.display(), %error, "could not cache compiled code");
    }
    Ok(component)
}

fn store(path: &PathBuf, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("cache paths have a parent");
    std::fs::create_dir_all(dir)?;
    let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("cwasm");
    let temporary = dir.join(format!(".{}.{file}.tmp", std::process::id()));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

fn cache_path(engine: &Engine, name: &str) -> Option<PathBuf> {
    let dir = cache_dir()?;
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let engine_hash = hasher.finish();
    Some(dir.join(format!("{name}-{engine_hash:016x}.cwasm")))
}
