//! Sessions (`session.js`): isola's guest API, scripts whose functions the
//! host calls by name, their results streamed to the host as records on
//! the process's events stream.

use alloc::string::String;

use rquickjs::{Ctx, Function, Object, Result};

use super::process::WRITE_PIECE;
use crate::bindings::polybox::sandbox::process;
use crate::host_bridge;
use crate::script::script_function;

const SESSION_SOURCE: &str = include_str!("session.js");

/// The process's events stream: where a session's records go.
const EVENTS_FD: u32 = 3;

/// Defines the global `__polybox_session`.
pub fn install(ctx: &Ctx<'_>) -> Result<()> {
    let natives = Object::new(ctx.clone())?;
    natives.set("call", Function::new(ctx.clone(), host_bridge::call)?)?;
    natives.set("emit", Function::new(ctx.clone(), emit)?)?;
    script_function(ctx, "polybox:session", SESSION_SOURCE)?.call((natives,))
}

/// Writes one record (a JSON line) to the events stream.
fn emit(record: String) {
    for piece in record.as_bytes().chunks(WRITE_PIECE) {
        process::write(EVENTS_FD, piece);
    }
}
