//! The permissions policy through the public API: one table of scope ×
//! rules × operation × target → verdict, as every capability decides it,
//! and the same policy parsed from the JSON that Node.js and the command
//! line hand over.

use polybox::ErrorCode;
use polybox::permissions::{Mode, Permissions, Rule, Scope, ScopeName};

use Mode::{Allow, Deny};
use ScopeName::{Env, Fs, Network, Tool};

fn rules(default: Mode, rules: Vec<Rule>) -> Scope {
    Scope::Rules { default, rules }
}

/// (what the case shows, policy JSON, scope, operation, target, verdict)
const TABLE: &[(&str, &str, ScopeName, &str, &str, Mode)] = &[
    (
        "an empty policy denies files",
        "{}",
        Fs,
        "read",
        "/tmp/x",
        Deny,
    ),
    (
        "an empty policy denies the network",
        "{}",
        Network,
        "fetch",
        "https://example.com:443/",
        Deny,
    ),
    (
        "an empty policy denies env",
        "{}",
        Env,
        "read",
        "HOME",
        Deny,
    ),
    (
        "an empty policy denies tools",
        "{}",
        Tool,
        "call",
        "search",
        Deny,
    ),
    (
        "a scope set to allow allows",
        r#"{"network":"allow"}"#,
        Network,
        "dns",
        "example.com",
        Allow,
    ),
    (
        "a scope set to allow leaves others denied",
        r#"{"network":"allow"}"#,
        Fs,
        "stat",
        "/",
        Deny,
    ),
    (
        "a scope set to deny denies",
        r#"{"fs":"deny"}"#,
        Fs,
        "read",
        "/a",
        Deny,
    ),
    (
        "default allow without rules",
        r#"{"fs":{"default":"allow"}}"#,
        Fs,
        "rm",
        "/a",
        Allow,
    ),
    (
        "default deny without rules",
        r#"{"fs":{"default":"deny","rules":[]}}"#,
        Fs,
        "read",
        "/a",
        Deny,
    ),
    (
        "a missing default is deny",
        r#"{"env":{"rules":[]}}"#,
        Env,
        "read",
        "A",
        Deny,
    ),
    (
        "a path rule grants below its path",
        r#"{"fs":{"rules":[{"mode":"allow","paths":["/data"]}]}}"#,
        Fs,
        "read",
        "/data/a/b",
        Allow,
    ),
    (
        "a path rule grants its path",
        r#"{"fs":{"rules":[{"mode":"allow","paths":["/data"]}]}}"#,
        Fs,
        "readdir",
        "/data",
        Allow,
    ),
    (
        "a path rule is not a string prefix",
        r#"{"fs":{"rules":[{"mode":"allow","paths":["/data"]}]}}"#,
        Fs,
        "read",
        "/database",
        Deny,
    ),
    (
        "a path rule does not grant its parent",
        r#"{"fs":{"rules":[{"mode":"allow","paths":["/data/a"]}]}}"#,
        Fs,
        "read",
        "/data",
        Deny,
    ),
    (
        "operations narrow a rule",
        r#"{"fs":{"rules":[{"mode":"allow","operations":["read","stat"],"paths":["/d"]}]}}"#,
        Fs,
        "write",
        "/d/x",
        Deny,
    ),
    (
        "operations narrow a rule (listed one)",
        r#"{"fs":{"rules":[{"mode":"allow","operations":["read","stat"],"paths":["/d"]}]}}"#,
        Fs,
        "stat",
        "/d/x",
        Allow,
    ),
    (
        "the last matching rule wins (deny)",
        r#"{"fs":{"rules":[{"mode":"allow","paths":["/d"]},{"mode":"deny","paths":["/d/secret"]}]}}"#,
        Fs,
        "read",
        "/d/secret/k",
        Deny,
    ),
    (
        "the last matching rule wins (allow)",
        r#"{"fs":{"rules":[{"mode":"deny","paths":["/d/secret"]},{"mode":"allow","paths":["/d"]}]}}"#,
        Fs,
        "read",
        "/d/secret/k",
        Allow,
    ),
    (
        "a later rule that does not match changes nothing",
        r#"{"fs":{"rules":[{"mode":"allow","paths":["/d"]},{"mode":"deny","paths":["/e"]}]}}"#,
        Fs,
        "read",
        "/d/x",
        Allow,
    ),
    (
        "a star matches one segment",
        r#"{"fs":{"rules":[{"mode":"allow","paths":["/home/*/notes"]}]}}"#,
        Fs,
        "read",
        "/home/ann/notes/a",
        Allow,
    ),
    (
        "a star does not cross segments",
        r#"{"fs":{"rules":[{"mode":"allow","paths":["/home/*/notes"]}]}}"#,
        Fs,
        "read",
        "/home/ann/x/notes",
        Deny,
    ),
    (
        "a double star crosses segments",
        r#"{"fs":{"rules":[{"mode":"allow","paths":["/home/**/notes"]}]}}"#,
        Fs,
        "read",
        "/home/ann/x/notes",
        Allow,
    ),
    (
        "a file-name pattern",
        r#"{"fs":{"rules":[{"mode":"allow","paths":["/d/*.json"]}]}}"#,
        Fs,
        "read",
        "/d/a.txt",
        Deny,
    ),
    (
        "a deny rule under default allow",
        r#"{"fs":{"default":"allow","rules":[{"mode":"deny","operations":["rm"]}]}}"#,
        Fs,
        "rm",
        "/x",
        Deny,
    ),
    (
        "a deny rule under default allow leaves others",
        r#"{"fs":{"default":"allow","rules":[{"mode":"deny","operations":["rm"]}]}}"#,
        Fs,
        "write",
        "/x",
        Allow,
    ),
    (
        "a host pattern allows its host",
        r#"{"network":{"rules":[{"mode":"allow","patterns":["https://api.example.com:443/*"]}]}}"#,
        Network,
        "fetch",
        "https://api.example.com:443/v1/items",
        Allow,
    ),
    (
        "a host pattern denies another host",
        r#"{"network":{"rules":[{"mode":"allow","patterns":["https://api.example.com:443/*"]}]}}"#,
        Network,
        "fetch",
        "https://evil.example.com:443/v1",
        Deny,
    ),
    (
        "a host pattern denies another port",
        r#"{"network":{"rules":[{"mode":"allow","patterns":["https://api.example.com:443/*"]}]}}"#,
        Network,
        "fetch",
        "https://api.example.com:8443/v1",
        Deny,
    ),
    (
        "a host pattern denies another scheme",
        r#"{"network":{"rules":[{"mode":"allow","patterns":["https://api.example.com:443/*"]}]}}"#,
        Network,
        "fetch",
        "http://api.example.com:443/v1",
        Deny,
    ),
    (
        "a wildcard subdomain",
        r#"{"network":{"rules":[{"mode":"allow","patterns":["https://*.example.com:443/*"]}]}}"#,
        Network,
        "fetch",
        "https://a.example.com:443/",
        Allow,
    ),
    (
        "a fetch rule does not grant dns",
        r#"{"network":{"rules":[{"mode":"allow","operations":["fetch"]}]}}"#,
        Network,
        "dns",
        "example.com",
        Deny,
    ),
    (
        "an env pattern",
        r#"{"env":{"rules":[{"mode":"allow","patterns":["APP_*"]}]}}"#,
        Env,
        "read",
        "APP_MODE",
        Allow,
    ),
    (
        "an env pattern is anchored",
        r#"{"env":{"rules":[{"mode":"allow","patterns":["APP_*"]}]}}"#,
        Env,
        "read",
        "MY_APP_MODE",
        Deny,
    ),
    (
        "a tool by name",
        r#"{"tool":{"rules":[{"mode":"allow","patterns":["search"]}]}}"#,
        Tool,
        "call",
        "search",
        Allow,
    ),
    (
        "another tool",
        r#"{"tool":{"rules":[{"mode":"allow","patterns":["search"]}]}}"#,
        Tool,
        "call",
        "delete_everything",
        Deny,
    ),
    (
        "all tools but one",
        r#"{"tool":{"default":"allow","rules":[{"mode":"deny","patterns":["delete_*"]}]}}"#,
        Tool,
        "call",
        "delete_everything",
        Deny,
    ),
];

#[test]
fn the_policy_table() {
    let mut failures = Vec::new();
    for &(case, json, scope, operation, target, expected) in TABLE {
        let policy = Permissions::from_json(json).unwrap_or_else(|e| panic!("{case}: {e}"));
        let got = policy.decide(scope, operation, target, &[]);
        if got != expected {
            failures.push(format!(
                "{case}: {scope:?} {operation} {target} gave {got:?}"
            ));
        }
    }
    assert!(TABLE.len() >= 30);
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn grants_a_capability_implies_come_first_and_the_callers_rules_can_narrow_them() {
    let mount = [Rule::paths(
        Allow,
        &["read", "stat", "readdir"],
        &["/input"],
    )];
    let none = Permissions::default();
    assert_eq!(none.decide(Fs, "read", "/input/a", &mount), Allow);
    assert_eq!(none.decide(Fs, "write", "/input/a", &mount), Deny);
    let narrowed =
        Permissions::from_json(r#"{"fs":{"rules":[{"mode":"deny","paths":["/input/private"]}]}}"#)
            .unwrap();
    assert_eq!(
        narrowed.decide(Fs, "read", "/input/private/k", &mount),
        Deny
    );
    assert_eq!(narrowed.decide(Fs, "read", "/input/public", &mount), Allow);
    let denied = Permissions::from_json(r#"{"fs":"deny"}"#).unwrap();
    assert_eq!(denied.decide(Fs, "read", "/input/a", &mount), Deny);
}

#[test]
fn a_partial_policy_merges_over_the_defaults() {
    let base = Permissions::default()
        .with(Fs, rules(Deny, vec![Rule::paths(Allow, &[], &["/data"])]))
        .with(Env, Scope::Mode(Allow));
    let merged =
        base.merged(&Permissions::from_json(r#"{"network":"allow","env":"deny"}"#).unwrap());
    assert_eq!(merged.decide(Fs, "read", "/data/x", &[]), Allow);
    assert_eq!(
        merged.decide(Network, "fetch", "https://a:443/", &[]),
        Allow
    );
    assert_eq!(merged.decide(Env, "read", "HOME", &[]), Deny);
}

#[test]
fn malformed_policies_are_refused_with_what_is_wrong() {
    for (json, says) in [
        (r#"{"fs":"maybe"}"#, "invalid permissions"),
        (r#"{"files":"allow"}"#, "unknown field"),
        (
            r#"{"fs":{"rules":[{"paths":["/a"]}]}}"#,
            "invalid permissions",
        ),
        (
            r#"{"fs":{"rules":[{"mode":"allow","operations":["fetch"]}]}}"#,
            "not an operation of the fs scope",
        ),
        (
            r#"{"fs":{"rules":[{"mode":"allow","paths":["relative"]}]}}"#,
            "not an absolute guest path",
        ),
        (
            r#"{"fs":{"rules":[{"mode":"allow","patterns":["/a"]}]}}"#,
            "fs rules name `paths`",
        ),
        (
            r#"{"network":{"rules":[{"mode":"allow","paths":["/a"]}]}}"#,
            "network rules name `patterns`",
        ),
        (
            r#"{"network":{"rules":[{"mode":"allow","operations":["read"]}]}}"#,
            "not an operation of the network scope",
        ),
        ("[]", "invalid permissions"),
    ] {
        let error = Permissions::from_json(json).unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidArg, "{json}");
        assert!(error.to_string().contains(says), "{json}: {error}");
    }
}

#[test]
fn a_policy_round_trips_through_json() {
    let policy = Permissions::default()
        .with(
            Fs,
            rules(Deny, vec![Rule::paths(Allow, &["read"], &["/a"])]),
        )
        .with(Network, Scope::Mode(Allow))
        .with(
            Tool,
            rules(Allow, vec![Rule::patterns(Deny, &[], &["rm_*"])]),
        );
    let json = serde_json::to_string(&policy).unwrap();
    assert_eq!(Permissions::from_json(&json).unwrap(), policy);
}
