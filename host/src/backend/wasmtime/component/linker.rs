//! Linking user components: the imports the host provides, finding which
//! imports of a component it does not, and compiling each component once.

use std::collections::HashMap;
use std::sync::Mutex;

use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, HasSelf, Linker, LinkerInstance, ResourceType};

use super::state::AuthorState;
use crate::backend::wasmtime::artifact;
use crate::backend::wasmtime::bindings::handler::Handler;
use crate::component::WasmComponent;
use crate::error::{Error, Result};

/// Per-engine support for user components: one linker and the components
/// compiled so far, by content.
pub(crate) struct Authors {
    engine: Engine,
    /// Whether the engine counts fuel.
    fuel: bool,
    pub linker: Linker<AuthorState>,
    compiled: Mutex<HashMap<[u8; 32], Component>>,
}

impl Authors {
    /// WASI (wasmtime-wasi, preview 2, synchronous, with the filesystem
    /// replaced by the sandbox's) and `host-call`, for components compiled
    /// by `engine`.
    pub fn new(engine: &Engine, fuel: bool) -> wasmtime::Result<Self> {
        let mut linker = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        // The sandbox's own filesystem in place of wasmtime-wasi's.
        linker.allow_shadowing(true);
        super::files::add_to_linker(&mut linker)?;
        linker.allow_shadowing(false);
        // Requests go to the sandbox's network capability (`http.rs`).
        wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)?;
        Handler::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        Ok(Self {
            engine: engine.clone(),
            fuel,
            linker,
            compiled: Mutex::default(),
        })
    }

    /// The engine components run on.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether the engine counts fuel.
    pub fn fuel(&self) -> bool {
        self.fuel
    }

    /// `component` compiled (once per content), checked to import nothing
    /// the host does not provide.
    pub fn compile(&self, component: &WasmComponent) -> Result<Component> {
        let digest = *component.digest();
        let mut compiled = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        let compiled = match compiled.get(&digest) {
            Some(compiled) => compiled.clone(),
            None => {
                let key = hex::encode(digest);
                let loaded = artifact::load(
                    &self.engine,
                    component.bytes(),
                    &format!("component-{}", &key[..16]),
                )
                .map_err(|e| {
                    Error::invalid_arg(format!(
                        "{} is not a valid WebAssembly component: {e:#}",
                        component.name()
                    ))
                })?;
                compiled.insert(digest, loaded.clone());
                loaded
            }
        };
        if let Err(error) = self.linker.instantiate_pre(&compiled) {
            let unsatisfied = self.unsatisfied_imports(&compiled);
            let detail = if unsatisfied.is_empty() {
                format!("cannot be linked: {error:#}")
            } else {
                format!(
                    "imports what the host does not provide: {}",
                    unsatisfied.join(", ")
                )
            };
            return Err(Error::invalid_arg(format!(
                "{} {detail}; components may import WASI 0.2 (with wasi:http's outgoing-handler) and polybox:sandbox/host-call",
                component.name(),
            )));
        }
        Ok(compiled)
    }

    /// The names of `component`'s imports the linker cannot satisfy. Each
    /// import is tried on its own: on a copy of the linker where every
    /// *other* import is stood in for, linking succeeds exactly when the
    /// host provides that one (with the type the component expects).
    fn unsatisfied_imports(&self, component: &Component) -> Vec<String> {
        let imports: Vec<(String, ComponentItem)> = component
            .component_type()
            .imports(&self.engine)
            .map(|(name, item)| (name.to_owned(), item.ty))
            .collect();
        let satisfied = |tried: usize| {
            let mut probe = self.linker.clone();
            for (other, (name, item)) in imports.iter().enumerate() {
                // An import the host already defines under this exact name
                // is left as the host defines it.
                if other != tried {
                    let _ = stand_in(&mut probe.root(), &self.engine, name, item);
                }
            }
            probe.instantiate_pre(component).is_ok()
        };
        (0..imports.len())
            .filter(|&tried| !satisfied(tried))
            .map(|tried| imports[tried].0.clone())
            .collect()
    }
}

/// Defines `name` as `item` in `linker`, doing nothing useful: functions
/// that fail when called, resources of a placeholder type.
fn stand_in(
    linker: &mut LinkerInstance<'_, AuthorState>,
    engine: &Engine,
    name: &str,
    item: &ComponentItem,
) -> wasmtime::Result<()> {
    match item {
        ComponentItem::ComponentFunc(_) => linker.func_new(name, |_, _, _, _| {
            wasmtime::bail!("not provided by the host")
        }),
        ComponentItem::Resource(_) => {
            linker.resource(name, ResourceType::host::<()>(), |_, _| Ok(()))
        }
        ComponentItem::ComponentInstance(instance) => {
            let mut inner = linker.instance(name)?;
            for (export, item) in instance.exports(engine) {
                stand_in(&mut inner, engine, export, &item.ty)?;
            }
            Ok(())
        }
        // Type exports need no definition.
        ComponentItem::Type(_) => Ok(()),
        _ => wasmtime::bail!("cannot stand in for {name}"),
    }
}
