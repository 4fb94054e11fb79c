//! Hostcalls: isola's guest API calls the host by name, `await
//! hostcall(name, payload)` (sessions define it, see `session/`), and one
//! handler the host registers answers every name
//! ([`SandboxBuilder::hostcall_handler`](crate::SandboxBuilder::hostcall_handler)).
//!
//! Served as the internal module `polybox:hostcall`, which guests are never
//! told about: a hostcall is looked up by name when it is made, so the
//! handlers a sandbox has do not shape its guest state, and a template
//! serves sandboxes with other hostcalls. Each name is a `tool` of the
//! permissions policy (allowed when the policy has no `tool` scope); a
//! denial, or a sandbox with no handler, fails the guest's promise and is
//! counted as a denial.

use std::sync::Arc;

use serde_json::Value;

use super::host_functions::CallContext;
use super::{Capability, HostCallError, Installer, Provider};
use crate::error::Result;
use crate::permissions::{Mode, NamePattern, Permissions, Rule, ScopeName};

/// Answers a sandbox's hostcalls: the name and payload in, the result (or
/// what went wrong, in words) out.
pub type HostcallHandler =
    Arc<dyn Fn(&str, Value, &CallContext<'_>) -> std::result::Result<Value, String> + Send + Sync>;

/// The internal module hostcalls are served as.
pub(crate) const HOSTCALL_MODULE: &str = "polybox:hostcall";

struct Hostcalls {
    handler: Option<HostcallHandler>,
    permissions: Arc<Permissions>,
    implied: Vec<Rule<NamePattern>>,
    sandbox: u64,
}

impl Provider for Hostcalls {
    fn functions(&self) -> Vec<String> {
        Vec::new()
    }

    fn call(
        &self,
        name: &str,
        args: &str,
        context: &CallContext<'_>,
    ) -> std::result::Result<String, HostCallError> {
        let denied = |why: String| {
            crate::metrics::denial(self.sandbox, ScopeName::Tool, "call", name);
            Err(HostCallError::Failed(why))
        };
        let Some(handler) = &self.handler else {
            return denied(format!(
                "EACCES: hostcall({name:?}): this sandbox was given no hostcalls"
            ));
        };
        if self.permissions.decide_tool(name, &self.implied) == Mode::Deny {
            return denied(format!(
                "EACCES: the sandbox's permissions deny the hostcall {name:?}"
            ));
        }
        let payload = match serde_json::from_str::<Vec<Value>>(args) {
            Ok(mut args) if args.len() == 1 => args.remove(0),
            _ => {
                return Err(HostCallError::TypeMismatch(
                    "a hostcall takes a name and one JSON payload".into(),
                ));
            }
        };
        let result = handler(name, payload, context).map_err(HostCallError::Failed)?;
        Ok(result.to_string())
    }
}

/// Serves a sandbox's hostcalls, or refuses them when it has no handler.
pub(crate) struct HostcallCapability<'a> {
    pub handler: Option<&'a HostcallHandler>,
    pub permissions: &'a Arc<Permissions>,
}

impl Capability for HostcallCapability<'_> {
    fn install(&self, sandbox: &mut Installer<'_>) -> Result<()> {
        let hostcalls = Hostcalls {
            handler: self.handler.cloned(),
            permissions: self.permissions.clone(),
            implied: self.permissions.implied_by_registration(ScopeName::Tool),
            sandbox: sandbox.dispatcher.sandbox_id(),
        };
        sandbox
            .dispatcher
            .serve_internal(HOSTCALL_MODULE, Arc::new(hostcalls))
    }
}
