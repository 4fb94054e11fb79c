//! The environment capability: which of the variables a caller gave a
//! program or a component it may see.
//!
//! Nothing of the host's own environment reaches a guest: a program sees
//! only the variables its caller set (on the `RuntimeBuilder`, per call, or
//! with `--env`/`--allow-env` on the command line), a user component only
//! those set on the `SandboxBuilder`. Setting one grants it while the
//! sandbox's [`Permissions`] has no `env` scope; with one, the scope alone
//! decides, its default included: `{"default": "deny", "rules": [{"mode":
//! "allow", "patterns": ["API_*"]}]}` shows only `API_*`,
//! `{"default": "allow", "rules": [{"mode": "deny", "patterns":
//! ["AWS_*"]}]}` hides `AWS_*`, and `"deny"` hides all. A hidden variable
//! is counted and logged as a denial.

use super::{Capability, ComponentGrant, Installer};
use crate::error::Result;
use crate::permissions::{Mode, NamePattern, Permissions, Rule, ScopeName};

/// Grants a sandbox's user components the variables its builder set
/// ([`SandboxBuilder::env`](crate::SandboxBuilder::env)) that the policy
/// lets them see, as `wasi:cli/environment`.
pub(crate) struct EnvCapability<'a> {
    pub env: &'a [(String, String)],
    pub permissions: &'a Permissions,
}

impl Capability for EnvCapability<'_> {
    fn install(&self, sandbox: &mut Installer<'_>) -> Result<()> {
        let env = visible(
            self.permissions,
            sandbox.dispatcher.sandbox_id(),
            self.env.to_vec(),
        );
        sandbox.components.grant(ComponentGrant::Env(env));
        Ok(())
    }
}

/// The variables of `env` that `permissions` let sandbox `sandbox` see.
pub(crate) fn visible(
    permissions: &Permissions,
    sandbox: u64,
    env: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let given: Vec<Rule<NamePattern>> = permissions.implied_by_registration(ScopeName::Env);
    env.into_iter()
        .filter(|(name, _)| {
            let mode = permissions.decide_env(name, &given);
            if mode == Mode::Deny {
                crate::metrics::denial(sandbox, ScopeName::Env, "read", name);
            }
            mode == Mode::Allow
        })
        .collect()
}
