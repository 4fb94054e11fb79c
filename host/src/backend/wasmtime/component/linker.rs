//! Linking user components: the imports the host provides, checking that a
//! component needs nothing else, and compiling each component once.

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
    pub linker: Linker<AuthorState>,
    compiled: Mutex<HashMap<[u8; 32], Component>>,
}

impl Authors {
    /// WASI (wasmtime-wasi, preview 2, synchronous) and `host-call`.
    pub fn new(engine: &Engine) -> wasmtime::Result<Self> {
        let mut linker = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        Handler::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        Ok(Self {
            linker,
            compiled: Mutex::default(),
        })
    }

    /// `component` compiled for `engine` (once per content), checked to
    /// import nothing the host does not provide.
    pub fn compile(&self, engine: &Engine, component: &WasmComponent) -> Result<Component> {
        let digest = *component.digest();
        let mut compiled = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        let compiled = match compiled.get(&digest) {
            Some(compiled) => compiled.clone(),
            None => {
                let key: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                let loaded = artifact::load(
                    engine,
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
            let missing = self.unsatisfied_imports(engine, &compiled);
            let detail = if missing.is_empty() {
                format!("{error:#}")
            } else {
                format!(
                    "imports what the host does not provide: {}",
                    missing.join(", ")
                )
            };
            return Err(Error::invalid_arg(format!(
                "{} {detail}; components may import WASI 0.2 and polybox:sandbox/host-call",
                component.name(),
            )));
        }
        Ok(compiled)
    }

    /// The names of `component`'s imports the linker cannot satisfy. Linking
    /// stops at the first; each one found is stubbed out on a copy of the
    /// linker and linking tried again, until it succeeds.
    fn unsatisfied_imports(&self, engine: &Engine, component: &Component) -> Vec<String> {
        let imports: Vec<(String, ComponentItem)> = component
            .component_type()
            .imports(engine)
            .map(|(name, item)| (name.to_owned(), item.ty))
            .collect();
        let mut probe = self.linker.clone();
        probe.allow_shadowing(true);
        let mut missing = Vec::new();
        while let Err(error) = probe.instantiate_pre(component) {
            let error = format!("{error:#}");
            let found = imports
                .iter()
                .find(|(name, _)| !missing.contains(name) && error.contains(&format!("`{name}`")));
            let Some((name, item)) = found else { break };
            if stub(&mut probe.root(), engine, name, item).is_err() {
                break;
            }
            missing.push(name.clone());
        }
        missing
    }
}

/// Defines `name` as `item` in `linker`, doing nothing useful: functions
/// that fail when called, resources of a placeholder type.
fn stub(
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
                stub(&mut inner, engine, export, &item.ty)?;
            }
            Ok(())
        }
        _ => wasmtime::bail!("cannot stand in for {name}"),
    }
}
