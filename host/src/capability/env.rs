//! The environment capability: which of the variables a caller gave a
//! program it may see.
//!
//! Nothing of the host's own environment reaches a guest: a program sees
//! only the variables its caller set (on the `RuntimeBuilder`, per call, or
//! with `--env`/`--allow-env` on the command line). Setting one grants it;
//! the `env` scope of the sandbox's [`Permissions`] can then still hide
//! some (`{"env": {"default": "allow", "rules": [{"mode": "deny",
//! "patterns": ["AWS_*"]}]}}`) or all (`"env": "deny"`). A hidden variable
//! is counted and logged as a denial.

use crate::permissions::{Mode, Permissions, Rule, ScopeName};

/// The variables of `env` that `permissions` let sandbox `sandbox` see.
pub(crate) fn visible(
    permissions: &Permissions,
    sandbox: u64,
    env: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let given = [Rule::all(Mode::Allow)];
    env.into_iter()
        .filter(|(name, _)| {
            let mode = permissions.decide(ScopeName::Env, "read", name, &given);
            if mode == Mode::Deny {
                crate::metrics::denial(sandbox, ScopeName::Env, "read", name);
            }
            mode == Mode::Allow
        })
        .collect()
}
