//! `NodeRuntime`'s tools: JavaScript handlers as `polybox::Tool`s. A tool's
//! handler runs on the main thread through the same invoker as host
//! functions (`host_functions.rs`): the guest waits for it, or for its call
//! to be stopped.

use std::sync::Mutex;

use napi::bindgen_prelude::{Function, Promise};
use napi_derive::napi;
use polybox::Tool;

use crate::args::{Text, string};
use crate::error::{Result, invalid_arg, to_js};
use crate::host_functions::{self, HostReply};

/// Tools being gathered for a runtime (`tools` of `NodeRuntime.create`,
/// `registerTools`).
#[napi]
#[derive(Default)]
pub struct NativeTools {
    tools: Mutex<Vec<Tool>>,
}

#[napi]
impl NativeTools {
    /// No tools yet.
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the tool `name`: `schema` is its input's JSON Schema as JSON
    /// text; `invoke` calls its handler with the input, as host functions
    /// are called.
    #[napi]
    pub fn add(
        &self,
        name: Text<'_>,
        description: Text<'_>,
        schema: Text<'_>,
        invoke: Function<String, Promise<HostReply>>,
    ) -> Result<()> {
        let name = string("tool name", name)?;
        let description = string("tool description", description)?;
        let schema: serde_json::Value = serde_json::from_str(&string("inputSchema", schema)?)
            .map_err(|e| invalid_arg(format!("the inputSchema of tool {name:?}: {e}")))?;
        let call = host_functions::raw(host_functions::invoker(invoke)?);
        let tool = Tool::with_context(name, description, schema, move |input, context| {
            let result = call(&format!("[{input}]"), context)?;
            serde_json::from_str(&result).map_err(|e| format!("the tool's result is not JSON: {e}"))
        })
        .map_err(to_js)?;
        self.tools
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(tool);
        Ok(())
    }
}

impl NativeTools {
    /// The tools gathered.
    pub fn list(&self) -> Vec<Tool> {
        self.tools.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
