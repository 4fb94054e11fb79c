//! The public life of a sandbox, one state per file:
//!
//! ```text
//! SandboxBuilder --build--> ProtoJSSandbox --load_runtime--> JSSandbox --get_loaded_sandbox--> LoadedJSSandbox
//!   sizes, backend            host modules                   handlers, modules                  calls
//! ```
//!
//! Each transition consumes its input, so a stale state cannot be used by
//! mistake; [`LoadedJSSandbox::unload`] goes back to a fresh [`JSSandbox`].

mod builder;
mod js_sandbox;
mod loaded;
mod proto;
mod script;

pub use builder::SandboxBuilder;
pub use js_sandbox::{JSSandbox, LoadError};
pub use loaded::LoadedJSSandbox;
pub use proto::ProtoJSSandbox;
pub use script::Script;
