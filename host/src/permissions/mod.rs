//! [`Permissions`]: the one policy every capability consults.
//!
//! # Why one model
//!
//! Files, the network, the environment and tools are different capabilities,
//! but a caller grants all of them the same way, from Rust, Node.js or the
//! command line, and a reviewer reads one policy to know what a sandbox can
//! reach. The shape is secure-exec's, so its users already know it:
//!
//! - four scopes: `fs`, `network`, `env`, `tool`;
//! - each scope is a mode (`"allow"`/`"deny"`) or `{ default, rules }`;
//! - a rule has a `mode` and narrows what it applies to with `operations`
//!   and `paths` (the `fs` scope) or `patterns` (the others); a rule without
//!   them applies to everything in its scope;
//! - **the last matching rule wins**, else the scope's default.
//!
//! What is not granted is denied: a scope the caller leaves out denies
//! everything. Capabilities add the grants their own configuration implies
//! *before* the caller's rules (a read-only mount grants reading it; the
//! caller's later rules can still narrow it), see [`Permissions::decide`].
//! A plain mode is a rule that matches everything, so `fs: "deny"` denies
//! even mounted directories.

mod pattern;

use serde::{Deserialize, Serialize};

pub use pattern::{path_matches, pattern_matches};

use crate::error::{Error, Result};

/// A scope's verdict on one access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The access is granted.
    Allow,
    /// The access is refused.
    Deny,
}

/// The kinds of access a policy decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopeName {
    /// Files and directories (`fs`).
    Fs,
    /// Outgoing requests (`network`).
    Network,
    /// Environment variables (`env`).
    Env,
    /// Host tools (`tool`).
    Tool,
}

impl ScopeName {
    /// The operations a rule of this scope may name.
    pub fn operations(self) -> &'static [&'static str] {
        match self {
            Self::Fs => &[
                "read", "write", "stat", "readdir", "mkdir", "rm", "rename", "symlink", "readlink",
                "truncate",
            ],
            Self::Network => &["fetch", "dns"],
            Self::Env => &["read"],
            Self::Tool => &["call"],
        }
    }

    /// The scope's name in a policy.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fs => "fs",
            Self::Network => "network",
            Self::Env => "env",
            Self::Tool => "tool",
        }
    }
}

/// One rule of a scope: `mode` applies to the accesses it matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// What this rule decides.
    pub mode: Mode,
    /// The operations it applies to; all of the scope's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<String>>,
    /// For `fs`: guest paths it applies to (a path covers everything below
    /// it; `*` matches within one path segment, `**` across segments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<String>>,
    /// For `network`, `env` and `tool`: the targets it applies to
    /// (`https://api.example.com:443/v1/*`, `API_*`, `search`); `*` matches
    /// any run of characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patterns: Option<Vec<String>>,
}

impl Rule {
    /// A rule that gives `mode` to every access of its scope.
    pub fn all(mode: Mode) -> Self {
        Self {
            mode,
            operations: None,
            paths: None,
            patterns: None,
        }
    }

    /// A rule giving `mode` to `operations` (all when empty) under `paths`.
    pub fn paths(mode: Mode, operations: &[&str], paths: &[&str]) -> Self {
        Self {
            mode,
            operations: (!operations.is_empty())
                .then(|| operations.iter().map(|&o| o.to_owned()).collect()),
            paths: Some(paths.iter().map(|&p| p.to_owned()).collect()),
            patterns: None,
        }
    }

    /// A rule giving `mode` to `operations` (all when empty) on the targets
    /// `patterns` match.
    pub fn patterns(mode: Mode, operations: &[&str], patterns: &[&str]) -> Self {
        Self {
            mode,
            operations: (!operations.is_empty())
                .then(|| operations.iter().map(|&o| o.to_owned()).collect()),
            paths: None,
            patterns: Some(patterns.iter().map(|&p| p.to_owned()).collect()),
        }
    }

    fn matches(&self, operation: &str, target: &str) -> bool {
        let operation_matches = self
            .operations
            .as_ref()
            .is_none_or(|ops| ops.iter().any(|o| o == operation));
        let path_matches = self
            .paths
            .as_ref()
            .is_none_or(|paths| paths.iter().any(|p| path_matches(p, target)));
        let pattern_matches = self
            .patterns
            .as_ref()
            .is_none_or(|patterns| patterns.iter().any(|p| pattern_matches(p, target)));
        operation_matches && path_matches && pattern_matches
    }
}

/// A scope: one mode for everything, or a default and rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scope {
    /// Every access of the scope gets this mode.
    Mode(Mode),
    /// The last matching rule decides; `default` when none matches.
    Rules {
        /// The verdict when no rule matches (deny when absent).
        #[serde(default = "deny")]
        default: Mode,
        /// The rules, in order: the last matching one wins.
        #[serde(default)]
        rules: Vec<Rule>,
    },
}

fn deny() -> Mode {
    Mode::Deny
}

impl Scope {
    fn default_mode(&self) -> Mode {
        match self {
            Self::Mode(mode) | Self::Rules { default: mode, .. } => *mode,
        }
    }

    fn rules(&self) -> std::borrow::Cow<'_, [Rule]> {
        match self {
            Self::Mode(mode) => vec![Rule::all(*mode)].into(),
            Self::Rules { rules, .. } => rules.as_slice().into(),
        }
    }
}

/// The permissions policy of a sandbox. See the [module docs](self).
///
/// ```
/// use polybox::permissions::{Mode, Permissions, Rule, Scope, ScopeName};
///
/// let policy: Permissions = serde_json::from_str(r#"{
///     "fs": { "default": "deny", "rules": [
///         { "mode": "allow", "paths": ["/data"] },
///         { "mode": "deny", "operations": ["write"], "paths": ["/data/locked"] }
///     ] },
///     "network": "allow"
/// }"#).unwrap();
/// assert_eq!(policy.decide(ScopeName::Fs, "write", "/data/x", &[]), Mode::Allow);
/// assert_eq!(policy.decide(ScopeName::Fs, "write", "/data/locked/x", &[]), Mode::Deny);
/// assert_eq!(policy.decide(ScopeName::Env, "read", "HOME", &[]), Mode::Deny);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Permissions {
    /// Files and directories; denied when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fs: Option<Scope>,
    /// Outgoing requests; denied when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<Scope>,
    /// Environment variables; denied when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Scope>,
    /// Host tools; denied when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<Scope>,
}

impl Permissions {
    /// A policy that denies everything (the default).
    pub fn deny_all() -> Self {
        Self::default()
    }

    /// Parses a policy from JSON text, checking every rule
    /// (`ERR_INVALID_ARG` with what is wrong).
    pub fn from_json(json: &str) -> Result<Self> {
        let invalid =
            |e: serde_json::Error| Error::invalid_arg(format!("invalid permissions: {e}"));
        let value: serde_json::Value = serde_json::from_str(json).map_err(invalid)?;
        if !value.is_object() {
            return Err(Error::invalid_arg("invalid permissions: not an object"));
        }
        let policy: Self = serde_json::from_value(value).map_err(invalid)?;
        policy.validate()?;
        Ok(policy)
    }

    /// Sets scope `name` to `scope`.
    pub fn with(mut self, name: ScopeName, scope: Scope) -> Self {
        *self.slot(name) = Some(scope);
        self
    }

    /// Merges `other` over this policy: each scope `other` sets replaces
    /// this one's.
    pub fn merged(mut self, other: &Self) -> Self {
        for name in [
            ScopeName::Fs,
            ScopeName::Network,
            ScopeName::Env,
            ScopeName::Tool,
        ] {
            if let Some(scope) = other.scope(name) {
                *self.slot(name) = Some(scope.clone());
            }
        }
        self
    }

    /// What registering something of scope `name` grants: all of it when
    /// the policy has no such scope, else nothing (the scope decides).
    pub(crate) fn implied_by_registration(&self, name: ScopeName) -> Vec<Rule> {
        match self.scope(name) {
            None => vec![Rule::all(Mode::Allow)],
            Some(_) => Vec::new(),
        }
    }

    /// The scope `name`, if the policy sets it.
    pub fn scope(&self, name: ScopeName) -> Option<&Scope> {
        match name {
            ScopeName::Fs => self.fs.as_ref(),
            ScopeName::Network => self.network.as_ref(),
            ScopeName::Env => self.env.as_ref(),
            ScopeName::Tool => self.tool.as_ref(),
        }
    }

    fn slot(&mut self, name: ScopeName) -> &mut Option<Scope> {
        match name {
            ScopeName::Fs => &mut self.fs,
            ScopeName::Network => &mut self.network,
            ScopeName::Env => &mut self.env,
            ScopeName::Tool => &mut self.tool,
        }
    }

    /// Checks that every rule names operations of its scope, and
    /// uses `paths` only in `fs` (absolute) and `patterns` only elsewhere.
    pub fn validate(&self) -> Result<()> {
        for name in [
            ScopeName::Fs,
            ScopeName::Network,
            ScopeName::Env,
            ScopeName::Tool,
        ] {
            let Some(Scope::Rules { rules, .. }) = self.scope(name) else {
                continue;
            };
            for (i, rule) in rules.iter().enumerate() {
                let at = format!("permissions.{}.rules[{i}]", name.as_str());
                for operation in rule.operations.iter().flatten() {
                    if !name.operations().contains(&operation.as_str()) {
                        return Err(Error::invalid_arg(format!(
                            "{at}: {operation:?} is not an operation of the {} scope (one of {})",
                            name.as_str(),
                            name.operations().join(", ")
                        )));
                    }
                }
                match (name, &rule.paths, &rule.patterns) {
                    (ScopeName::Fs, _, Some(_)) => {
                        return Err(Error::invalid_arg(format!(
                            "{at}: fs rules name `paths`, not `patterns`"
                        )));
                    }
                    (ScopeName::Fs, Some(paths), None) => {
                        if let Some(path) = paths.iter().find(|p| !p.starts_with('/')) {
                            return Err(Error::invalid_arg(format!(
                                "{at}: {path:?} is not an absolute guest path"
                            )));
                        }
                    }
                    (ScopeName::Fs, None, None) => {}
                    (_, Some(_), _) => {
                        return Err(Error::invalid_arg(format!(
                            "{at}: {} rules name `patterns`, not `paths`",
                            name.as_str()
                        )));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// The verdict on `operation` of scope `name` on `target` (a normalised
    /// guest path, a URL such as `https://host:443/path`, a variable or tool
    /// name). `implied` are the grants the capability's own configuration
    /// makes (mounts, seeded files): they come before the policy's rules,
    /// so the policy's rules can still narrow them. The last matching rule
    /// wins; with none, the scope's default; without the scope, deny.
    pub fn decide(&self, name: ScopeName, operation: &str, target: &str, implied: &[Rule]) -> Mode {
        let (default, rules) = match self.scope(name) {
            Some(scope) => (scope.default_mode(), scope.rules()),
            None => (Mode::Deny, Vec::new().into()),
        };
        implied
            .iter()
            .chain(rules.iter())
            .rev()
            .find(|rule| rule.matches(operation, target))
            .map_or(default, |rule| rule.mode)
    }
}
