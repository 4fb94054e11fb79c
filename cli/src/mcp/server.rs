//! [`CodeServer`]: the MCP server's handler, built on `rmcp`. It offers
//! two tools, `execute_javascript` and `execute_python`, the same sandbox
//! in each language, and, when host tools are configured, their TypeScript
//! declarations as a resource and in the JavaScript tool's description
//! ("code mode": the model writes code against typed tools).
//!
//! Errors follow MCP: whatever the guest does (throws, loops until its
//! limit, is refused a file) is a tool result, with `isError` set when it
//! did not exit 0; only a malformed request is a JSON-RPC error. Nothing a
//! guest does ends the server.

use std::sync::Arc;
use std::time::Duration;

use polybox::Language;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, InitializeResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, ServerCapabilities, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Value, json};

use super::executor::{Execution, Executor};
use super::session::Session;

/// The tool that runs JavaScript.
pub const EXECUTE_JAVASCRIPT: &str = "execute_javascript";
/// The tool that runs Python.
pub const EXECUTE_PYTHON: &str = "execute_python";
/// The resource holding the host tools' declarations.
pub const TOOLS_URI: &str = "polybox://tools.d.ts";

/// What every session of one server shares.
pub struct Shared {
    /// Runs JavaScript.
    pub executor: Executor,
    /// Runs Python.
    pub python: Executor,
    /// The host tools' TypeScript declarations; empty without tools.
    pub declarations: String,
    /// A description of the sandbox's limits and grants, for the model.
    pub limits: String,
    /// Whether each session keeps one sandbox.
    pub stateful: bool,
    /// How long a stateful session's sandbox is kept without a call.
    pub idle_timeout: Duration,
    /// The most run time one stateful session may use.
    pub session_budget: Duration,
}

/// One MCP session (a stdio connection, an HTTP session).
#[derive(Clone)]
pub struct CodeServer {
    shared: Arc<Shared>,
    /// The session's sandbox, when the server is stateful.
    session: Option<Arc<Session>>,
}

impl CodeServer {
    /// A new session of the server `shared` describes.
    pub fn new(shared: Arc<Shared>) -> Self {
        let session = shared
            .stateful
            .then(|| Session::start(shared.idle_timeout, shared.session_budget));
        Self { shared, session }
    }

    /// The tool of `language`'s definition, its input schema documenting the
    /// limits.
    fn tool(&self, language: Language) -> Tool {
        let (name, how) = match (language, self.shared.stateful) {
            (Language::JavaScript, true) => (
                EXECUTE_JAVASCRIPT,
                "Runs JavaScript in a Polybox sandbox (QuickJS, with console, process and Node's core modules). \
                 Each call is the next line of this session's REPL: a global script (top-level await, `require`, \
                 `await import()`; the value of its last expression is returned). Top-level declarations (var, \
                 let, const, function, class) and files persist between the calls of this session.",
            ),
            (Language::JavaScript, false) => (
                EXECUTE_JAVASCRIPT,
                "Runs JavaScript in a Polybox sandbox (QuickJS, with console, process and Node's core modules). \
                 Runs a Node.js-style program: an ES module or a CommonJS script, decided by the syntax \
                 (top-level await, `require`, `import`); `__return(value)` or `export default` gives a value. \
                 Every call starts afresh: no variables or files persist between calls.",
            ),
            (Language::Python, true) => (
                EXECUTE_PYTHON,
                "Runs Python 3.14 in a Polybox sandbox (CPython with much of the standard library; no pip \
                 packages). Each call is the next cell of this session: top-level await works, the value of a \
                 last expression is returned, and variables, imports and files persist between the calls of \
                 this session.",
            ),
            (Language::Python, false) => (
                EXECUTE_PYTHON,
                "Runs Python 3.14 in a Polybox sandbox (CPython with much of the standard library; no pip \
                 packages) as a fresh script: print() to report, top-level await works. Every call starts \
                 afresh: no variables or files persist between calls.",
            ),
        };
        let mut description = format!("{how} {}", self.shared.limits);
        if !self.shared.declarations.is_empty() {
            description.push_str(&match language {
                Language::JavaScript => format!(
                    "\n\nThe code may call these host tools with `await tools.<name>(input)` (also at {TOOLS_URI}):\n```ts\n{}```",
                    self.shared.declarations
                ),
                Language::Python => format!(
                    "\n\nThe code may call the host tools with `from host import tools; tools.<name>(input)` (their TypeScript declarations are at {TOOLS_URI})."
                ),
            });
        }
        let wall = self.shared.executor.wall().as_millis() as u64;
        serde_json::from_value(json!({
            "name": name,
            "description": description,
            "inputSchema": {
                "type": "object",
                "properties": {
                    "code": {
                        "type": "string",
                        "description": format!("The {} to run.", if language == Language::Python { "Python" } else { "JavaScript" }),
                    },
                    "timeoutMs": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": wall,
                        "description": format!("A wall-clock limit for this run, in ms (at most and by default {wall})."),
                    },
                },
                "required": ["code"],
                "additionalProperties": false,
            },
        }))
        .expect("the tool's definition is valid")
    }

    /// Runs one call's code, in the session's sandbox or a fresh one.
    async fn execute(
        &self,
        language: Language,
        code: String,
        timeout: Option<Duration>,
    ) -> CallToolResult {
        let (shared, session) = (self.shared.clone(), self.session.clone());
        let ran = tokio::task::spawn_blocking(move || {
            let executor = match language {
                Language::JavaScript => &shared.executor,
                Language::Python => &shared.python,
            };
            match session {
                Some(session) => session.run(executor, language, &code, timeout),
                None => {
                    let mut runtime = executor.take().map_err(|e| e.to_string())?;
                    let ran = executor.run(&mut runtime, &code, timeout);
                    executor.give_back(runtime);
                    ran.map_err(|e| e.to_string())
                }
            }
        })
        .await;
        match ran {
            Ok(Ok(execution)) => result(&execution),
            Ok(Err(why)) => CallToolResult::error(vec![ContentBlock::text(why)]),
            Err(panicked) => CallToolResult::error(vec![ContentBlock::text(format!(
                "the run failed: {panicked}"
            ))]),
        }
    }
}

/// The language the tool `name` runs.
fn language_of(name: &str) -> Option<Language> {
    match name {
        EXECUTE_JAVASCRIPT => Some(Language::JavaScript),
        EXECUTE_PYTHON => Some(Language::Python),
        _ => None,
    }
}

/// The tool result of `execution`: text for the model, the same as
/// structured content, an error unless it exited 0.
fn result(execution: &Execution) -> CallToolResult {
    let content = vec![ContentBlock::text(execution.text())];
    let mut result = if execution.exit_code == 0 {
        CallToolResult::success(content)
    } else {
        CallToolResult::error(content)
    };
    result.structured_content = Some(execution.json());
    result
}

impl ServerHandler for CodeServer {
    fn get_info(&self) -> InitializeResult {
        let mut capabilities = ServerCapabilities::default();
        capabilities.tools = Some(Default::default());
        if !self.shared.declarations.is_empty() {
            capabilities.resources = Some(Default::default());
        }
        InitializeResult::new(capabilities)
            .with_server_info(rmcp::model::Implementation::new(
                "polybox",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(format!(
                "Call {EXECUTE_JAVASCRIPT} to run JavaScript, or {EXECUTE_PYTHON} to run Python, in a sandbox that reaches nothing it was not granted."
            ))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        language_of(name).map(|language| self.tool(language))
    }

    async fn list_tools(
        &self,
        _: Option<PaginatedRequestParams>,
        _: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(vec![
            self.tool(Language::JavaScript),
            self.tool(Language::Python),
        ]))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some(language) = language_of(&request.name) else {
            return Err(ErrorData::invalid_params(
                format!(
                    "no tool {:?}; this server has {EXECUTE_JAVASCRIPT} and {EXECUTE_PYTHON}",
                    request.name
                ),
                None,
            ));
        };
        let arguments = request.arguments.unwrap_or_default();
        let Some(code) = arguments.get("code").and_then(Value::as_str) else {
            return Err(ErrorData::invalid_params("`code` must be a string", None));
        };
        let timeout = match arguments.get("timeoutMs") {
            None | Some(Value::Null) => None,
            Some(ms) => match ms.as_u64().filter(|&ms| ms > 0) {
                Some(ms) => Some(Duration::from_millis(ms)),
                None => {
                    return Err(ErrorData::invalid_params(
                        "`timeoutMs` must be a positive integer",
                        None,
                    ));
                }
            },
        };
        Ok(self
            .execute(language, code.to_owned(), timeout)
            .await
            .into())
    }

    async fn list_resources(
        &self,
        _: Option<PaginatedRequestParams>,
        _: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let resources = if self.shared.declarations.is_empty() {
            json!([])
        } else {
            json!([{
                "uri": TOOLS_URI,
                "name": "tools.d.ts",
                "description": "TypeScript declarations of the host tools guest code can call as `await tools.<name>(input)`",
                "mimeType": "text/typescript",
            }])
        };
        serde_json::from_value(json!({ "resources": resources }))
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        if request.uri != TOOLS_URI || self.shared.declarations.is_empty() {
            return Err(ErrorData::resource_not_found(
                format!("no resource {}", request.uri),
                None,
            ));
        }
        let result: ReadResourceResult = serde_json::from_value(json!({
            "contents": [{ "uri": TOOLS_URI, "mimeType": "text/typescript", "text": self.shared.declarations }],
        }))
        .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        Ok(result.into())
    }
}
