//! Which modules a script may import, and where their code comes from.
//!
//! An ES module namespace is fixed when it is linked, so every import is
//! resolved against what is registered at that moment:
//! - `<namespace>:<name>`: a user module registered with `add-module`, compiled
//!   lazily when first imported (so registration order does not matter) and
//!   then shared by every importer, state included;
//! - a module the host implements (`host:<name>` for host functions, or
//!   `<namespace>:<name>` for a component module): generated from its
//!   function names, each forwarding to `host-call`;
//! - `crypto`: the built-in hashing module;
//! - `console`, `io` and `require`: the modules hyperlight-js guests import
//!   (`builtins/hyperlight.rs`), except in programs, whose `console` is
//!   Node's;
//! - while a program runs, the Node.js core modules it provides (`node:x`
//!   and `x`; see `builtins/process.js`), and a clear error for those it
//!   withholds.
//!
//! Three internal modules (`#host-bridge`, `#crypto`, `#node`) hold native
//! functions. They can be imported only by the built-in and
//! host-implemented modules above, never by user code.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;

use rquickjs::loader::{ImportAttributes, Loader, Resolver};
use rquickjs::module::Declared;
use rquickjs::{Ctx, Error, Module, Result};

use crate::builtins::crypto::{CRYPTO_SOURCE, CryptoNatives};
use crate::builtins::hyperlight::{CONSOLE_MODULE, IO_MODULE, REQUIRE_MODULE};
use crate::builtins::process::{NodeNatives, control};
use crate::host_bridge::{HostBridge, host_module_source};

/// The specifier of the built-in hashing module.
pub const CRYPTO: &str = "crypto";
/// hyperlight-js's modules.
const COMPAT_CONSOLE: &str = "console";
const COMPAT_IO: &str = "io";
const COMPAT_REQUIRE: &str = "require";
/// The internal module behind `host:<name>` modules.
pub const HOST_BRIDGE: &str = "#host-bridge";
/// The internal module behind `crypto`.
pub const CRYPTO_NATIVES: &str = "#crypto";
/// The internal module behind the core modules (`node:x`).
pub const NODE_NATIVES: &str = "#node";
/// The namespace of Node.js's core modules; user modules may not use it.
pub const NODE_NAMESPACE: &str = "node";
/// How the core modules a program imports are named once resolved.
const CORE_PREFIX: &str = "node:";
/// The namespace of host modules; user modules may not use it.
pub const HOST_NAMESPACE: &str = "host";

/// Registered module sources and host module shapes, shared by the runtime
/// (which edits them) and the loader (which reads them).
#[derive(Default)]
pub struct Registry {
    sources: BTreeMap<String, String>,
    host_modules: BTreeMap<String, Vec<String>>,
    unresolved: Option<String>,
    /// Whether a program runs, whose imports may name core modules.
    core_modules: bool,
}

/// The registry as shared between the runtime and the module loader.
pub type SharedRegistry = Rc<RefCell<Registry>>;

impl Registry {
    /// Records the source of `namespace:name`, replacing any earlier one.
    pub fn add_source(&mut self, namespace: &str, name: &str, source: String) {
        self.sources.insert(format!("{namespace}:{name}"), source);
    }

    /// Forgets the source of `namespace:name`; returns whether it existed.
    pub fn remove_source(&mut self, namespace: &str, name: &str) -> bool {
        self.sources
            .remove(&format!("{namespace}:{name}"))
            .is_some()
    }

    /// Replaces the set of host-implemented modules (by specifier) and their
    /// function names.
    pub fn set_host_modules(&mut self, modules: BTreeMap<String, Vec<String>>) {
        self.host_modules = modules;
    }

    /// The specifier that most recently failed to resolve, cleared on read.
    pub fn take_unresolved(&mut self) -> Option<String> {
        self.unresolved.take()
    }

    /// Lets imports name core modules (while a program runs), or not.
    pub fn set_core_modules(&mut self, allowed: bool) {
        self.core_modules = allowed;
    }

    fn resolve(&mut self, base: &str, name: &str) -> Option<String> {
        let internal_allowed = base == CRYPTO || self.host_modules.contains_key(base);
        let found = match name {
            CRYPTO => true,
            // A program's `console` is Node's (a core module).
            COMPAT_CONSOLE => !self.core_modules,
            COMPAT_IO | COMPAT_REQUIRE => true,
            HOST_BRIDGE | CRYPTO_NATIVES => internal_allowed,
            NODE_NATIVES => base.starts_with(CORE_PREFIX),
            _ => self.host_modules.contains_key(name) || self.sources.contains_key(name),
        };
        if found {
            Some(name.to_string())
        } else {
            self.unresolved = Some(name.to_string());
            None
        }
    }
}

/// Resolves specifiers against the shared registry.
pub struct RegistryResolver(pub SharedRegistry);

impl Resolver for RegistryResolver {
    fn resolve<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        base: &str,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> Result<String> {
        let (found, core_modules) = {
            let mut registry = self.0.borrow_mut();
            (registry.resolve(base, name), registry.core_modules)
        };
        if let Some(found) = found {
            return Ok(found);
        }
        if core_modules {
            // A program's import is a core module, or an error that says
            // why it is not.
            let core: String = control(ctx, "resolveImport", (name, base))?;
            self.0.borrow_mut().unresolved = None;
            return Ok(core);
        }
        Err(Error::new_resolving(base, name))
    }
}

/// Produces the code of a resolved module.
pub struct RegistryLoader(pub SharedRegistry);

impl Loader for RegistryLoader {
    fn load<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> Result<Module<'js, Declared>> {
        let ctx = ctx.clone();
        match name {
            CRYPTO => Module::declare(ctx, name, CRYPTO_SOURCE),
            COMPAT_CONSOLE => Module::declare(ctx, name, CONSOLE_MODULE),
            COMPAT_IO => Module::declare(ctx, name, IO_MODULE),
            COMPAT_REQUIRE => Module::declare(ctx, name, REQUIRE_MODULE),
            CRYPTO_NATIVES => Module::declare_def::<CryptoNatives, _>(ctx, name),
            HOST_BRIDGE => Module::declare_def::<HostBridge, _>(ctx, name),
            NODE_NATIVES => Module::declare_def::<NodeNatives, _>(ctx, name),
            core if core.starts_with(CORE_PREFIX)
                || self.0.borrow().core_modules && core.starts_with('/') =>
            {
                let source: String = control(&ctx, "moduleSource", (core,))?;
                Module::declare(ctx, name, source)
            }
            _ => {
                let source = {
                    let registry = self.0.borrow();
                    match registry.host_modules.get(name) {
                        Some(functions) => Some(host_module_source(name, functions)),
                        None => registry.sources.get(name).cloned(),
                    }
                };

                let source = source.ok_or_else(|| Error::new_loading(name))?;
                Module::declare(ctx, name, source)
            }
        }
    }
}
