//! The tools capability: named host functions with a description and a
//! JSON Schema for their input, the shape agents call tools in.
//!
//! # Why a capability of its own
//!
//! A host function takes positional arguments and trusts its types to the
//! bindings; a tool takes one JSON input described by a schema, which a
//! model writing code for the sandbox must be able to read and which the
//! host must enforce. So every call is decided by the `tool` scope of the
//! sandbox's [`Permissions`](crate::permissions::Permissions) (operation
//! `call`, the tool's name as target; registered tools are allowed when the
//! policy has no `tool` scope, as secure-exec does), then the input is
//! validated against the schema (`jsonschema`) *before* the tool's code
//! runs; a bad input is a `TypeError` for the guest that says what is
//! wrong, and a denial an error naming the tool, a metric and a log line.
//!
//! Guests call a tool as `await tools.name(input)` or import it from
//! `host:tools`. [`Tool::typescript`] writes the declarations (`tools.d.ts`)
//! a model needs to write code against them.

mod typescript;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::host_functions::{CallContext, HOST_NAMESPACE};
use super::{Capability, HostCallError, Installer, Lifetime, Provider};
use crate::error::{Error, Result};
use crate::names::{is_identifier, validate_name};
use crate::permissions::{Mode, NamePattern, Permissions, Rule, ScopeName};

/// The module guests import tools from.
pub const TOOLS_MODULE: &str = "tools";

/// What runs a tool: the validated input and the call it serves in (a tool
/// that waits can learn that the call was stopped), a JSON result or an
/// error message out.
pub type ToolHandler =
    dyn Fn(Value, &CallContext<'_>) -> std::result::Result<Value, String> + Send + Sync;

/// A named host capability with a description and an input schema.
///
/// ```
/// # fn main() -> polybox::Result<()> {
/// use polybox::{ExecOptions, Runtime, SandboxBuilder, Tool};
/// use serde_json::json;
///
/// let add = Tool::new(
///     "add",
///     "Adds two numbers",
///     json!({ "type": "object", "properties": { "a": { "type": "number" }, "b": { "type": "number" } }, "required": ["a", "b"] }),
///     |input| Ok(json!({ "sum": input["a"].as_f64().unwrap_or(0.0) + input["b"].as_f64().unwrap_or(0.0) })),
/// )?;
/// let mut runtime = Runtime::builder().sandbox(SandboxBuilder::new().tool(add)).build()?;
/// let out = runtime.exec("console.log((await tools.add({ a: 2, b: 3 })).sum)", ExecOptions::default())?;
/// assert_eq!(out.stdout, b"5\n");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Tool {
    name: String,
    description: String,
    schema: Value,
    validator: Arc<jsonschema::Validator>,
    handler: Arc<ToolHandler>,
}

impl Tool {
    /// A tool `name` (an identifier) doing what `description` says, taking
    /// input that `schema` (a JSON Schema) accepts. `ERR_INVALID_ARG` for a
    /// bad name or a schema that is not one.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        schema: Value,
        handler: impl Fn(Value) -> std::result::Result<Value, String> + Send + Sync + 'static,
    ) -> Result<Self> {
        Self::with_context(name, description, schema, move |input, _| handler(input))
    }

    /// [`new`](Self::new) for a handler that also gets the call it serves,
    /// to give up at once when the call is stopped (see [`CallContext`]).
    pub fn with_context(
        name: impl Into<String>,
        description: impl Into<String>,
        schema: Value,
        handler: impl Fn(Value, &CallContext<'_>) -> std::result::Result<Value, String>
        + Send
        + Sync
        + 'static,
    ) -> Result<Self> {
        let name = name.into();
        validate_name("tool name", &name)?;
        if !is_identifier(&name) {
            return Err(Error::invalid_arg(format!(
                "the tool name {name:?} must be a JavaScript identifier (letters, digits, _ and $)"
            )));
        }
        let validator = jsonschema::validator_for(&schema).map_err(|e| {
            Error::invalid_arg(format!(
                "the input schema of tool {name:?} is not valid: {e}"
            ))
        })?;
        Ok(Self {
            name,
            description: description.into(),
            schema,
            validator: Arc::new(validator),
            handler: Arc::new(handler),
        })
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What it does.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Its input schema.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// TypeScript declarations of `tools` for code that calls them: the
    /// global `tools` object, one method per tool, with its description as
    /// documentation and its input type from its schema.
    pub fn typescript<'a>(tools: impl IntoIterator<Item = &'a Tool>) -> String {
        typescript::declarations(tools)
    }

    /// Checks `input` against the schema: every problem, with where it is.
    fn check(&self, input: &Value) -> std::result::Result<(), String> {
        let problems: Vec<String> = self
            .validator
            .iter_errors(input)
            .take(8)
            .map(|error| {
                let at = error.instance_path().to_string();
                if at.is_empty() {
                    error.to_string()
                } else {
                    format!("{at}: {error}")
                }
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the input of tool {:?} does not match its schema: {}",
                self.name,
                problems.join("; ")
            ))
        }
    }
}

impl std::fmt::Debug for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tool")
            .field("name", &self.name)
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

/// The tools of one sandbox, served as `host:tools`.
pub(crate) struct Tools {
    tools: BTreeMap<String, Tool>,
    permissions: Arc<Permissions>,
    /// With no `tool` scope in the policy, registered tools are allowed.
    implied: Vec<Rule<NamePattern>>,
    sandbox: u64,
}

impl Tools {
    fn new(tools: &[Tool], permissions: Arc<Permissions>, sandbox: u64) -> Self {
        let implied = permissions.implied_by_registration(ScopeName::Tool);
        Self {
            tools: tools.iter().map(|t| (t.name.clone(), t.clone())).collect(),
            permissions,
            implied,
            sandbox,
        }
    }
}

impl Provider for Tools {
    fn functions(&self) -> Vec<String> {
        self.tools.keys().cloned().collect()
    }

    fn call(
        &self,
        function: &str,
        args: &str,
        context: &CallContext<'_>,
    ) -> std::result::Result<String, HostCallError> {
        let tool = self
            .tools
            .get(function)
            .ok_or_else(|| HostCallError::Failed(format!("there is no tool {function:?}")))?;
        if self.permissions.decide_tool(function, &self.implied) == Mode::Deny {
            crate::metrics::denial(self.sandbox, ScopeName::Tool, "call", function);
            return Err(HostCallError::Failed(format!(
                "EACCES: the sandbox's permissions deny the tool {function:?}"
            )));
        }
        let args: Vec<Value> = serde_json::from_str(args)
            .map_err(|e| HostCallError::TypeMismatch(format!("tool arguments: {e}")))?;
        let input = match <[Value; 1]>::try_from(args) {
            Ok([input]) => input,
            Err(args) if args.is_empty() => Value::Object(Default::default()),
            Err(_) => {
                return Err(HostCallError::TypeMismatch(format!(
                    "tool {function:?} takes one input object"
                )));
            }
        };
        tool.check(&input).map_err(HostCallError::TypeMismatch)?;
        let result = (tool.handler)(input, context).map_err(HostCallError::Failed)?;
        Ok(result.to_string())
    }
}

/// Serves a sandbox's tools to its guests as `host:tools`.
pub(crate) struct ToolsCapability<'a> {
    pub tools: &'a [Tool],
    pub permissions: &'a Arc<Permissions>,
}

impl Capability for ToolsCapability<'_> {
    fn install(&self, sandbox: &mut Installer<'_>) -> Result<()> {
        if self.tools.is_empty() {
            return Ok(());
        }
        let tools = Tools::new(
            self.tools,
            self.permissions.clone(),
            sandbox.dispatcher.sandbox_id(),
        );
        sandbox.dispatcher.serve(
            &format!("{HOST_NAMESPACE}{TOOLS_MODULE}"),
            Lifetime::Sandbox,
            Arc::new(tools),
        )
    }
}
