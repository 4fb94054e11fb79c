//! Engines shared process-wide, one per engine configuration.
//!
//! Everything that changes compiled code or engine-wide behaviour is part of
//! [`EngineKey`], and so is the guest's language; sandboxes with equal keys
//! share an engine, the compiled guest and one pre-linked `InstancePre`.
//! Both guests implement the same world, so one set of bindings links
//! either.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine};

use super::artifact::{Guest, guest};
use super::bindings::{JsRuntime, JsRuntimePre};
use super::component::Authors;
use super::image::MemoryImage;
use super::region::GuestMemoryCreator;
use super::state::GuestState;
use super::ticker;
use crate::config::Language;
use crate::error::{Error, Result};

/// The engine-wide settings a sandbox needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct EngineKey {
    /// Largest native stack, in bytes, wasm code may use.
    pub max_wasm_stack: usize,
    /// Whether compiled code counts fuel.
    pub fuel: bool,
    /// Which guest the engine runs.
    pub language: Language,
}

/// Which pre-initialised image a guest starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BaseImage {
    /// A started runtime: what handlers need.
    Runtime,
    /// The runtime readied for programs too (for JavaScript, Node's modules
    /// evaluated): a larger image, which handlers should not pay for.
    Programs,
}

/// An engine with the guest compiled and linked for it.
pub(super) struct GuestEngine {
    pub pre: JsRuntimePre<GuestState>,
    /// The guest compiled into `pre`.
    pub guest: &'static Guest,
    /// Whether stores of this engine count fuel.
    pub fuel: bool,
    /// The images new guests start from, once built: for handlers, and for
    /// programs (see [`BaseImage`]).
    base_images: [Mutex<Option<Arc<MemoryImage>>>; 2],
    /// Support for user components, set up on first use.
    authors: OnceLock<Result<Arc<Authors>, String>>,
}

impl GuestEngine {
    /// The linker and compiled-component cache for user components.
    pub fn authors(&self) -> Result<Arc<Authors>> {
        self.authors
            .get_or_init(|| {
                Authors::new(self.pre.engine(), self.fuel)
                    .map(Arc::new)
                    .map_err(|e| format!("{e:#}"))
            })
            .clone()
            .map_err(|e| Error::Internal(format!("cannot link user components: {e}")))
    }

    /// A pre-initialised image for this engine, built by `build` on first
    /// use: starting QuickJS once and mapping the result copy-on-write into
    /// every new guest is what makes cold start cheap, and untouched pages
    /// stay shared between all of them.
    pub fn base_image(
        &self,
        which: BaseImage,
        build: impl FnOnce() -> Result<MemoryImage>,
    ) -> Result<Arc<MemoryImage>> {
        let mut base = self.base_images[which as usize]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(image) = base.as_ref() {
            return Ok(image.clone());
        }
        let image = Arc::new(build()?);
        *base = Some(image.clone());
        Ok(image)
    }
}

/// The shared engine for `key`, created (and the guest compiled) on first use.
/// Callers that arrive while it is being built wait for it.
pub(super) fn guest_engine(key: EngineKey) -> Result<Arc<GuestEngine>> {
    static ENGINES: OnceLock<Mutex<HashMap<EngineKey, Arc<GuestEngine>>>> = OnceLock::new();
    let mut engines = ENGINES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(engine) = engines.get(&key) {
        return Ok(engine.clone());
    }
    let engine = Arc::new(build(key).map_err(|e| {
        Error::Internal(format!(
            "cannot prepare the {} guest: {e:#}",
            key.language.name()
        ))
    })?);
    engines.insert(key, engine.clone());
    Ok(engine)
}

fn build(key: EngineKey) -> wasmtime::Result<GuestEngine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // Kills and deadlines reach running code through epoch interruption.
    config.epoch_interruption(true);
    config.consume_fuel(key.fuel);
    config.max_wasm_stack(key.max_wasm_stack);
    // Unused (calls are synchronous), but wasmtime requires it to be at least
    // the wasm stack.
    config.async_stack_size(key.max_wasm_stack.max(2 << 20));
    // Guest memory is host-owned so it can be captured and seeded
    // (memory.rs); wasmtime's own copy-on-write images need its own mmaps.
    config.with_host_memory(Arc::new(GuestMemoryCreator));
    config.memory_init_cow(false);
    let engine = Engine::new(&config)?;
    ticker::register(&engine);
    let guest = guest(key.language);
    let component = guest.load(&engine)?;
    let mut linker = Linker::new(&engine);
    JsRuntime::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
    let pre = JsRuntimePre::new(linker.instantiate_pre(&component)?)?;
    Ok(GuestEngine {
        pre,
        guest,
        fuel: key.fuel,
        base_images: Default::default(),
        authors: OnceLock::new(),
    })
}
