//! Capabilities: everything a guest can reach beyond its own memory.
//!
//! # Why one seam?
//!
//! A sandbox starts with nothing. Each thing it may reach (host functions,
//! host components, the log, the clocks, random bytes, a program's stdio,
//! its environment ([`env`]), files ([`fs`]), the network ([`net`]), tools
//! ([`tools`])) is a *capability*, granted by the host that builds the sandbox and
//! decided, access by access, by the sandbox's
//! [`Permissions`](crate::permissions::Permissions). If each were wired into each backend and
//! each guest language by hand, every new capability would touch the core
//! three times, and a denial could be forgotten in one of them. So there is
//! one seam, shaped like Spin's factors:
//!
//! - a capability is one module (one folder when it needs several files)
//!   implementing [`Capability`]: when a sandbox starts, it *installs* its
//!   per-sandbox state into that sandbox's [`Dispatcher`], as
//!   [`Provider`]s of the modules guests import (`host:<name>` and the like);
//! - every guest reaches every capability through the one `host-call`
//!   import, which each backend hands, unchanged, to the [`Dispatcher`]; a
//!   provider decides each call on the host side;
//! - the few services every guest needs on every call path (log, clocks,
//!   random bytes) are the fixed `platform` interface of `wit/`, which the
//!   dispatcher serves from [`log`], [`clock`] and [`random`]; a program's
//!   standard streams and timer waits are the `process` interface, served
//!   from [`process`].
//!
//! Adding a capability is a new module here and one registration on the
//! builder; no backend and no guest binding changes.

pub(crate) mod clock;
mod dispatcher;
pub(crate) mod env;
pub(crate) mod fs;
pub(crate) mod host_components;
pub mod host_functions;
pub(crate) mod hostcalls;
pub(crate) mod log;
pub(crate) mod net;
pub(crate) mod process;
mod provider;
pub(crate) mod random;
mod refusal;
pub(crate) mod sockets;
pub(crate) mod tools;

pub(crate) use dispatcher::{
    Dispatcher, Lifetime, host_call_import, platform_imports, process_imports,
};
pub use log::{LogLevel, LogSink};
pub(crate) use provider::{HostCallError, Provider};
pub(crate) use refusal::{Refusal, answer};

use std::sync::Arc;

use crate::component::WasmComponent;
use crate::error::Result;

/// Something a sandbox may be granted. See the [module docs](self).
pub(crate) trait Capability: Send + Sync {
    /// Installs this capability's per-sandbox state into a new sandbox.
    /// Fails (and the sandbox does not start) when the backend cannot serve
    /// it.
    fn install(&self, sandbox: &mut Installer<'_>) -> Result<()>;
}

/// What a capability installs into: the new sandbox's dispatcher, and the
/// backend's services.
pub(crate) struct Installer<'a> {
    /// Where the capability's providers go.
    pub dispatcher: &'a Dispatcher,
    /// Runs WebAssembly components, for capabilities made of them.
    pub components: &'a mut dyn ComponentHost,
}

/// What a capability grants a sandbox's user components, which reach it
/// through WASI rather than through `host-call`.
pub(crate) enum ComponentGrant {
    /// The filesystem, as `wasi:filesystem`.
    Files(Arc<fs::Filesystem>),
    /// The environment variables they see, as `wasi:cli/environment`.
    Env(Vec<(String, String)>),
    /// The network, as `wasi:http/outgoing-handler`.
    Network(Arc<net::Network>),
}

/// A backend's way of running a user's component as a provider. Backends
/// that cannot refuse with `ERR_INVALID_ARG`.
pub(crate) trait ComponentHost {
    /// Grants the sandbox's user components `grant`. Capabilities grant
    /// before any component starts; a backend without user components has
    /// nothing to grant it to.
    fn grant(&mut self, grant: ComponentGrant);

    /// Starts `component` as the provider of the module guests import as
    /// `specifier`.
    fn start_component(
        &mut self,
        specifier: &str,
        component: &WasmComponent,
    ) -> Result<Arc<dyn Provider>>;
}
