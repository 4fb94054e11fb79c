//! Host functions: named modules of named functions that guest code imports
//! as `host:<module>`.
//!
//! Arguments and results cross the boundary as JSON text. A function is kept
//! in its raw form, JSON array of arguments in and JSON result out; typed Rust
//! closures are adapted through serde ([`HostFunction`]). Host functions live in the
//! host, so guest snapshots and restores never touch them.

mod context;
mod module;
mod registry;
mod typed;

pub use context::{CallContext, OnStop};
pub use registry::HostModule;
pub(crate) use registry::{HOST_NAMESPACE, HostFunctions};
pub use typed::{FallibleHostFunction, HostFunction};

/// A host function in raw form: the JSON array of arguments in, the JSON
/// result (or an error message for the guest) out.
pub type RawHostFunction = dyn Fn(&str) -> Result<String, String> + Send + Sync;

/// A host function in raw form that also sees the call it serves.
pub type RawHostFunctionWithContext =
    dyn Fn(&str, &CallContext<'_>) -> Result<String, String> + Send + Sync;
