//! Handlers that answer HTTP requests (`serving.js`): a module whose default
//! export has `fetch`, or a script that adds `fetch` listeners. The runtime
//! asks for one when a handler's module defines no function to call.

use rquickjs::{Ctx, Function, Object, Persistent, Result, Value};

use super::crypto;
use crate::script::script_function;

const SERVING_SOURCE: &str = include_str!("serving.js");

/// What `serving.js` returns: `begin()` and `handlerFor(defaultExport)`.
pub struct Serving(Persistent<Object<'static>>);

impl Serving {
    /// Defines `addEventListener` and `removeEventListener` (for `fetch`).
    pub fn install(ctx: &Ctx<'_>) -> Result<Self> {
        let natives = Object::new(ctx.clone())?;
        natives.set("encode", Function::new(ctx.clone(), crypto::encode)?)?;
        natives.set("decode", Function::new(ctx.clone(), crypto::decode)?)?;
        let serving: Object =
            script_function(ctx, "polybox:serving", SERVING_SOURCE)?.call((natives,))?;
        Ok(Self(Persistent::save(ctx, serving)))
    }

    /// Forgets listeners added before a handler's module is evaluated.
    pub fn begin(&self, ctx: &Ctx<'_>) -> Result<()> {
        let serving = self.0.clone().restore(ctx)?;
        serving.get::<_, Function>("begin")?.call(())
    }

    /// The function that serves requests with what the module just
    /// evaluated defined (its default export, or the `fetch` listeners it
    /// added), if it defined either.
    pub fn handler_for<'js>(
        &self,
        ctx: &Ctx<'js>,
        default: Value<'js>,
    ) -> Result<Option<Function<'js>>> {
        let serving = self.0.clone().restore(ctx)?;
        let handler: Value = serving.get::<_, Function>("handlerFor")?.call((default,))?;
        Ok(handler.into_function())
    }
}
