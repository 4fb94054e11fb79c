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
//! caller's later rules can still narrow it).
//!
//! # Why typed patterns
//!
//! A rule's targets are parsed once, when the policy is, into values of
//! the scope's own kind: [`PathPattern`] (segments), [`NetPattern`]
//! (scheme, host, port, path prefix) and [`NamePattern`]. Each decision
//! compares parts with parts: a request's parsed URL, a normalised path, a
//! name. Matching strings lets one part be spelled inside another (a
//! granted host inside a URL's path), which is how sandboxes get escaped.
//! A pattern that could never match, or that means something other than it
//! seems to (`..` in a path, `*` inside a label), is an error when the
//! policy is read, not a rule that silently does nothing.

mod glob;
mod json;
mod name;
mod net;
mod path;

pub use name::NamePattern;
pub use net::{HostPattern, NetPattern, NetTarget, Scheme, TargetHost};
pub use path::PathPattern;

use crate::error::{Error, Result};

/// A scope's verdict on one access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// The access is granted.
    Allow,
    /// The access is refused.
    Deny,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Deny => "deny",
        }
    }
}

/// The kinds of access a policy decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
    /// Every scope, in the order a policy lists them.
    pub const ALL: [Self; 4] = [Self::Fs, Self::Network, Self::Env, Self::Tool];

    /// The operations a rule of this scope may name.
    pub fn operations(self) -> &'static [&'static str] {
        match self {
            Self::Fs => &[
                "read", "write", "stat", "readdir", "mkdir", "rm", "rename", "symlink", "readlink",
                "truncate",
            ],
            Self::Network => &["fetch"],
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

/// What a rule's targets are, for one scope: parsed once from the policy's
/// text, compared with a parsed target at each decision.
pub trait Pattern: Clone + std::fmt::Display + Sized {
    /// What a decision is about (a path, a request, a name).
    type Target: ?Sized;

    /// Parses one pattern as the policy's text writes it.
    fn parse(text: &str) -> std::result::Result<Self, String>;

    /// Whether this surely covers `target`: an allowing rule applies only
    /// then.
    fn covers(&self, target: &Self::Target) -> bool;

    /// Whether this covers `target` under some reading of it: a denying
    /// rule applies then. The same as [`covers`](Self::covers) where a
    /// target has one reading.
    fn might_cover(&self, target: &Self::Target) -> bool {
        self.covers(target)
    }
}

impl Pattern for PathPattern {
    type Target = str;
    fn parse(text: &str) -> std::result::Result<Self, String> {
        PathPattern::parse(text)
    }
    fn covers(&self, path: &str) -> bool {
        PathPattern::covers(self, path)
    }
}

impl Pattern for NetPattern {
    type Target = NetTarget;
    fn parse(text: &str) -> std::result::Result<Self, String> {
        NetPattern::parse(text)
    }
    fn covers(&self, target: &NetTarget) -> bool {
        NetPattern::covers(self, target)
    }
    fn might_cover(&self, target: &NetTarget) -> bool {
        NetPattern::might_cover(self, target)
    }
}

/// Env and tool rules: names.
impl Pattern for NamePattern {
    type Target = str;
    fn parse(text: &str) -> std::result::Result<Self, String> {
        NamePattern::parse(text)
    }
    fn covers(&self, name: &str) -> bool {
        NamePattern::covers(self, name)
    }
}

/// One rule of a scope: `mode` applies to the accesses it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule<P> {
    /// What this rule decides.
    pub mode: Mode,
    /// The operations it applies to; all of the scope's when `None`.
    pub operations: Option<Vec<String>>,
    /// What it applies to (`paths` or `patterns` in the policy's text);
    /// everything when `None`.
    pub targets: Option<Vec<P>>,
}

impl<P: Pattern> Rule<P> {
    /// A rule that gives `mode` to every access of its scope.
    pub fn all(mode: Mode) -> Self {
        Self {
            mode,
            operations: None,
            targets: None,
        }
    }

    /// A rule giving `mode` to `operations` (all when empty) on `targets`.
    pub fn new(mode: Mode, operations: &[&str], targets: Vec<P>) -> Self {
        Self {
            mode,
            operations: (!operations.is_empty())
                .then(|| operations.iter().map(|&o| o.to_owned()).collect()),
            targets: Some(targets),
        }
    }

    /// [`Rule::new`] with targets parsed from the policy's text form
    /// (`ERR_INVALID_ARG` naming the pattern and what is wrong).
    pub fn parse(mode: Mode, operations: &[&str], targets: &[&str]) -> Result<Self> {
        let targets = targets
            .iter()
            .map(|text| P::parse(text))
            .collect::<std::result::Result<_, _>>()
            .map_err(Error::invalid_arg)?;
        Ok(Self::new(mode, operations, targets))
    }

    fn applies(&self, operation: &str, target: &P::Target) -> bool {
        let covered = |pattern: &P| match self.mode {
            Mode::Allow => pattern.covers(target),
            Mode::Deny => pattern.might_cover(target),
        };
        self.operations
            .as_ref()
            .is_none_or(|ops| ops.iter().any(|o| o == operation))
            && self
                .targets
                .as_ref()
                .is_none_or(|targets| targets.iter().any(covered))
    }
}

/// A scope: one mode for everything, or a default and rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope<P> {
    /// Every access of the scope gets this mode.
    Mode(Mode),
    /// The last matching rule decides; `default` when none matches.
    Rules {
        /// The verdict when no rule matches.
        default: Mode,
        /// The rules, in order: the last matching one wins.
        rules: Vec<Rule<P>>,
    },
}

impl<P: Pattern> Scope<P> {
    /// The scope `{ default, rules }`.
    pub fn rules(default: Mode, rules: Vec<Rule<P>>) -> Self {
        Self::Rules { default, rules }
    }
}

/// The verdict of `scope` (deny when absent) on `operation` of `target`,
/// `implied` grants coming before the scope's rules.
fn decide<P: Pattern>(
    scope: Option<&Scope<P>>,
    operation: &str,
    target: &P::Target,
    implied: &[Rule<P>],
) -> Mode {
    let (default, rules): (Mode, &[Rule<P>]) = match scope {
        None => (Mode::Deny, &[]),
        // A mode is a rule matching everything, after every implied one.
        Some(Scope::Mode(mode)) => return *mode,
        Some(Scope::Rules { default, rules }) => (*default, rules),
    };
    implied
        .iter()
        .chain(rules)
        .rev()
        .find(|rule| rule.applies(operation, target))
        .map_or(default, |rule| rule.mode)
}

/// The permissions policy of a sandbox. See the [module docs](self).
///
/// ```
/// use polybox::permissions::{Mode, Permissions};
///
/// let policy = Permissions::from_json(r#"{
///     "fs": { "default": "deny", "rules": [
///         { "mode": "allow", "paths": ["/data"] },
///         { "mode": "deny", "operations": ["write"], "paths": ["/data/locked"] }
///     ] },
///     "network": { "rules": [{ "mode": "allow", "patterns": ["https://*.example.com"] }] }
/// }"#).unwrap();
/// assert_eq!(policy.decide_path("write", "/data/x", &[]), Mode::Allow);
/// assert_eq!(policy.decide_path("write", "/data/locked/x", &[]), Mode::Deny);
/// let url = url::Url::parse("https://api.example.com/v1").unwrap();
/// assert_eq!(policy.decide_url("fetch", &url), Mode::Allow);
/// let url = url::Url::parse("https://evil.net/api.example.com").unwrap();
/// assert_eq!(policy.decide_url("fetch", &url), Mode::Deny);
/// assert_eq!(policy.decide_env("HOME", &[]), Mode::Deny);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Permissions {
    /// Files and directories; denied when absent.
    pub fs: Option<Scope<PathPattern>>,
    /// Outgoing requests; denied when absent.
    pub network: Option<Scope<NetPattern>>,
    /// Environment variables; denied when absent.
    pub env: Option<Scope<NamePattern>>,
    /// Host tools; denied when absent.
    pub tool: Option<Scope<NamePattern>>,
}

impl Permissions {
    /// A policy that denies everything (the default).
    pub fn deny_all() -> Self {
        Self::default()
    }

    /// Parses a policy from JSON text, checking every rule and parsing
    /// every pattern (`ERR_INVALID_ARG` naming the field and what was
    /// expected, as `permissions.network.rules[0].patterns[1]: ...`).
    pub fn from_json(json: &str) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| Error::invalid_arg(format!("invalid permissions: {e}")))?;
        Self::from_value(&value)
    }

    /// [`from_json`](Self::from_json), from a parsed JSON value.
    pub fn from_value(value: &serde_json::Value) -> Result<Self> {
        json::read(value).map_err(Error::invalid_arg)
    }

    /// The policy as JSON, as [`from_json`](Self::from_json) reads it.
    pub fn to_json(&self) -> serde_json::Value {
        json::write(self)
    }

    /// Merges `other` over this policy: each scope `other` sets replaces
    /// this one's.
    pub fn merged(mut self, other: &Self) -> Self {
        if other.fs.is_some() {
            self.fs = other.fs.clone();
        }
        if other.network.is_some() {
            self.network = other.network.clone();
        }
        if other.env.is_some() {
            self.env = other.env.clone();
        }
        if other.tool.is_some() {
            self.tool = other.tool.clone();
        }
        self
    }

    /// This policy with `later`'s rules after its own, scope by scope: a
    /// scope `later` sets keeps this one's rules and adds its own (which win,
    /// coming last) and takes `later`'s default; a mode in `later` decides
    /// its whole scope. So `later` can narrow what this policy grants without
    /// dropping what it denies, as [`merged`](Self::merged) (which replaces
    /// scopes whole) would.
    pub fn layered(self, later: &Self) -> Self {
        fn layer<P: Pattern>(
            earlier: Option<Scope<P>>,
            later: Option<&Scope<P>>,
        ) -> Option<Scope<P>> {
            let Some(later) = later else {
                return earlier;
            };
            let (default, mut rules) = match later {
                Scope::Mode(_) => return Some(later.clone()),
                Scope::Rules { default, rules } => (*default, rules.clone()),
            };
            let earlier = match earlier {
                None => Vec::new(),
                Some(Scope::Mode(mode)) => vec![Rule::all(mode)],
                Some(Scope::Rules { rules, .. }) => rules,
            };
            rules.splice(0..0, earlier);
            Some(Scope::Rules { default, rules })
        }
        Self {
            fs: layer(self.fs, later.fs.as_ref()),
            network: layer(self.network, later.network.as_ref()),
            env: layer(self.env, later.env.as_ref()),
            tool: layer(self.tool, later.tool.as_ref()),
        }
    }

    /// Whether the policy sets scope `name`.
    pub fn has(&self, name: ScopeName) -> bool {
        match name {
            ScopeName::Fs => self.fs.is_some(),
            ScopeName::Network => self.network.is_some(),
            ScopeName::Env => self.env.is_some(),
            ScopeName::Tool => self.tool.is_some(),
        }
    }

    /// What registering something of scope `name` (tools, variables,
    /// a request handler) grants: all of it when the policy has no such
    /// scope, else nothing (the scope decides).
    pub(crate) fn implied_by_registration<P: Pattern>(&self, name: ScopeName) -> Vec<Rule<P>> {
        if self.has(name) {
            Vec::new()
        } else {
            vec![Rule::all(Mode::Allow)]
        }
    }

    /// Checks that every rule names operations of its scope (patterns are
    /// valid by construction): what a policy built in Rust rather than
    /// parsed needs.
    pub fn validate(&self) -> Result<()> {
        json::check_operations(self).map_err(Error::invalid_arg)
    }

    /// The verdict on `operation` of the normalised guest path `path`.
    /// `implied` are the grants the filesystem's own configuration makes
    /// (mounts, seeded files): they come before the policy's rules, so the
    /// policy's rules can still narrow them.
    pub fn decide_path(&self, operation: &str, path: &str, implied: &[Rule<PathPattern>]) -> Mode {
        decide(self.fs.as_ref(), operation, path, implied)
    }

    /// The verdict on `operation` of the request `target`, `implied`
    /// grants first.
    pub fn decide_request(
        &self,
        operation: &str,
        target: &NetTarget,
        implied: &[Rule<NetPattern>],
    ) -> Mode {
        decide(self.network.as_ref(), operation, target, implied)
    }

    /// The verdict on `operation` of a request to `url`; deny for a URL
    /// no request can be made to (not http or https, no host).
    pub fn decide_url(&self, operation: &str, url: &url::Url) -> Mode {
        match NetTarget::of(url) {
            Ok(target) => self.decide_request(operation, &target, &[]),
            Err(_) => Mode::Deny,
        }
    }

    /// The verdict on reading the variable `name`, `implied` grants first.
    pub fn decide_env(&self, name: &str, implied: &[Rule<NamePattern>]) -> Mode {
        decide(self.env.as_ref(), "read", name, implied)
    }

    /// The verdict on calling the tool `name`, `implied` grants first.
    pub fn decide_tool(&self, name: &str, implied: &[Rule<NamePattern>]) -> Mode {
        decide(self.tool.as_ref(), "call", name, implied)
    }
}

impl serde::Serialize for Permissions {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Permissions {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        json::read(&value).map_err(serde::de::Error::custom)
    }
}

/// Patterns cross serde as their text, parsed on the way in (so a config
/// file holding one is checked when it is read).
macro_rules! text_serde {
    ($($pattern:ty),*) => {$(
        impl serde::Serialize for $pattern {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $pattern {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                <$pattern>::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    )*};
}

text_serde!(PathPattern, NetPattern, HostPattern, NamePattern);
