//! The global `tools` (`tools.js`): the host's tools, called through the
//! host bridge.

use rquickjs::{Ctx, Function, Object, Result};

use crate::host_bridge;
use crate::script::script_function;

const TOOLS_SOURCE: &str = include_str!("tools.js");

/// Defines the global `tools`.
pub fn install(ctx: &Ctx<'_>) -> Result<()> {
    let natives = Object::new(ctx.clone())?;
    natives.set("call", Function::new(ctx.clone(), host_bridge::call)?)?;
    script_function(ctx, "polybox:tools", TOOLS_SOURCE)?.call((natives,))
}
