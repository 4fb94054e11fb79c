//! The public life of a sandbox, one state per file:
//!
//! ```text
//! SandboxBuilder --build--> ProtoJSSandbox --load_runtime--> JSSandbox --get_loaded_sandbox--> LoadedJSSandbox
//!   sizes, backend            host modules                   handlers, modules                  calls
//! ```
//!
//! Each transition consumes its input, so a stale state cannot be used by
//! mistake; [`LoadedJSSandbox::unload`] goes back to a fresh [`JSSandbox`].
//!
//! ```
//! # fn main() -> polybox::Result<()> {
//! let proto = polybox::SandboxBuilder::new().build()?;
//! let sandbox = proto.load_runtime()?;
//! let loaded = sandbox.get_loaded_sandbox()?;
//! let sandbox = loaded.unload()?;
//! # let _ = sandbox; Ok(()) }
//! ```
//!
//! Using a state again after its transition does not compile:
//!
//! ```compile_fail
//! # fn main() -> polybox::Result<()> {
//! let proto = polybox::SandboxBuilder::new().build()?;
//! let sandbox = proto.load_runtime()?;
//! let again = proto.load_runtime()?; // `proto` was moved
//! # Ok(()) }
//! ```
//!
//! ```compile_fail
//! # fn main() -> polybox::Result<()> {
//! let sandbox = polybox::SandboxBuilder::new().build()?.load_runtime()?;
//! let loaded = sandbox.get_loaded_sandbox()?;
//! sandbox.add_handler("late", "function handler() {}")?; // `sandbox` was moved
//! # Ok(()) }
//! ```
//!
//! ```compile_fail
//! # fn main() -> polybox::Result<()> {
//! let mut loaded = polybox::SandboxBuilder::new().build()?.load_runtime()?.get_loaded_sandbox()?;
//! let sandbox = loaded.unload()?;
//! loaded.handle_event("h", "{}", None)?; // `loaded` was moved
//! # Ok(()) }
//! ```

mod builder;
mod core;
mod fetch;
mod js_sandbox;
mod loaded;
mod proto;
mod script;

pub use builder::SandboxBuilder;
pub(crate) use core::SandboxCore;
pub use js_sandbox::{JSSandbox, LoadError};
pub use loaded::LoadedJSSandbox;
pub use proto::ProtoJSSandbox;
pub use script::Script;
