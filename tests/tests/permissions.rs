//! The permissions policy through the public API: one table of scope ×
//! rules × operation × target → verdict, as every capability decides it,
//! and the same policy parsed from the JSON that Node.js and the command
//! line hand over.

use polybox::ErrorCode;
use polybox::permissions::{
    Mode, NamePattern, NetPattern, PathPattern, Permissions, Rule, Scope, ScopeName,
};

use Mode::{Allow, Deny};
use ScopeName::{Env, Fs, Network, Tool};

/// `policy`'s verdict on `operation` of `target` in `scope`: a guest path,
/// a URL (parsed, as the network capability parses a request) or a name.
fn decide(policy: &Permissions, scope: ScopeName, operation: &str, target: &str) -> Mode {
    match scope {
        Fs => policy.decide_path(operation, target, &[]),
        Network => policy.decide_url(operation, &url::Url::parse(target).unwrap()),
        Env => policy.decide_env(target, &[]),
        Tool => policy.decide_tool(target, &[]),
    }
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
        "fetch",
        "http://127.0.0.1:8080/",
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
        "a host spelled in the path is not the host",
        r#"{"network":{"rules":[{"mode":"allow","patterns":["https://*.example.com/*"]}]}}"#,
        Network,
        "fetch",
        "https://127.0.0.1:8765/x://a.example.com/",
        Deny,
    ),
    (
        "a rule without a port covers every port",
        r#"{"network":{"rules":[{"mode":"allow","patterns":["api.example.com"]}]}}"#,
        Network,
        "fetch",
        "http://api.example.com:8080/",
        Allow,
    ),
    (
        "a path prefix is matched by whole segments",
        r#"{"network":{"rules":[{"mode":"allow","patterns":["https://api.example.com/v1"]}]}}"#,
        Network,
        "fetch",
        "https://api.example.com/v1beta/items",
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
        let got = decide(&policy, scope, operation, target);
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
    let mount = [Rule::new(
        Allow,
        &["read", "stat", "readdir"],
        vec![PathPattern::literal("/input")],
    )];
    let none = Permissions::default();
    assert_eq!(none.decide_path("read", "/input/a", &mount), Allow);
    assert_eq!(none.decide_path("write", "/input/a", &mount), Deny);
    let narrowed =
        Permissions::from_json(r#"{"fs":{"rules":[{"mode":"deny","paths":["/input/private"]}]}}"#)
            .unwrap();
    assert_eq!(
        narrowed.decide_path("read", "/input/private/k", &mount),
        Deny
    );
    assert_eq!(narrowed.decide_path("read", "/input/public", &mount), Allow);
    let denied = Permissions::from_json(r#"{"fs":"deny"}"#).unwrap();
    assert_eq!(denied.decide_path("read", "/input/a", &mount), Deny);
}

#[test]
fn a_partial_policy_merges_over_the_defaults() {
    let base = Permissions {
        fs: Some(Scope::rules(
            Deny,
            vec![Rule::parse(Allow, &[], &["/data"]).unwrap()],
        )),
        env: Some(Scope::Mode(Allow)),
        ..Permissions::default()
    };
    let merged =
        base.merged(&Permissions::from_json(r#"{"network":"allow","env":"deny"}"#).unwrap());
    assert_eq!(decide(&merged, Fs, "read", "/data/x"), Allow);
    assert_eq!(decide(&merged, Network, "fetch", "https://a:443/"), Allow);
    assert_eq!(decide(&merged, Env, "read", "HOME"), Deny);
}

#[test]
fn malformed_policies_are_refused_with_what_is_wrong() {
    for (json, says) in [
        (
            r#"{"fs":"maybe"}"#,
            r#"permissions.fs: expected "allow" or "deny", not "maybe""#,
        ),
        (r#"{"files":"allow"}"#, r#"unknown scope "files""#),
        (
            r#"{"fs":{"rules":[{"paths":["/a"]}]}}"#,
            "permissions.fs.rules[0].mode: missing",
        ),
        (
            r#"{"fs":{"defualt":"allow"}}"#,
            r#"permissions.fs: unknown field "defualt""#,
        ),
        (
            r#"{"fs":{"rules":[{"mode":"allow","paths":["/a/../etc"]}]}}"#,
            "permissions.fs.rules[0].paths[0]",
        ),
        (
            r#"{"fs":{"rules":[{"mode":"allow","paths":[]}]}}"#,
            "an empty list matches nothing",
        ),
        (
            r#"{"network":{"rules":[{"mode":"allow","patterns":["ok.example.com","**"]}]}}"#,
            "permissions.network.rules[0].patterns[1]",
        ),
        (
            r#"{"network":{"rules":[{"mode":"allow","patterns":["*."]}]}}"#,
            "needs a name after it",
        ),
        (
            r#"{"network":{"rules":[{"mode":"allow","patterns":["example.com:65536"]}]}}"#,
            "over 65535",
        ),
        (
            r#"{"network":{"rules":[{"mode":"allow","patterns":["ftp://example.com"]}]}}"#,
            "not a scheme fetch uses",
        ),
        (
            r#"{"network":{"rules":[{"mode":"allow","operations":["dns"]}]}}"#,
            "not an operation of the network scope",
        ),
        (
            r#"{"env":{"rules":[{"mode":"allow","patterns":[""]}]}}"#,
            "an empty name matches nothing",
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
        ("[]", "invalid permissions: expected an object"),
    ] {
        let error = Permissions::from_json(json).unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidArg, "{json}");
        assert!(error.to_string().contains(says), "{json}: {error}");
    }
}

#[test]
fn a_policy_round_trips_through_json() {
    let policy = Permissions {
        fs: Some(Scope::rules(
            Deny,
            vec![Rule::<PathPattern>::parse(Allow, &["read"], &["/a", "/b/**/c"]).unwrap()],
        )),
        network: Some(Scope::rules(
            Deny,
            vec![
                Rule::<NetPattern>::parse(
                    Allow,
                    &[],
                    &["https://*.example.com/v1", "10.0.0.0/8:8080", "[::1]"],
                )
                .unwrap(),
            ],
        )),
        tool: Some(Scope::rules(
            Allow,
            vec![Rule::<NamePattern>::parse(Deny, &[], &["rm_*"]).unwrap()],
        )),
        ..Permissions::default()
    };
    let json = serde_json::to_string(&policy).unwrap();
    assert_eq!(Permissions::from_json(&json).unwrap(), policy);
}

#[test]
fn network_decisions_agree_with_an_independent_oracle_on_hostile_urls() {
    // The fuzz target `net_rules` runs the same check on bytes libFuzzer
    // chooses; here, 200,000 seeded draws.
    let mut rng = fastrand::Rng::with_seed(30);
    let mut data = [0u8; 32];
    for _ in 0..200_000 {
        rng.fill(&mut data);
        polybox_tests::net_oracle::check(&data);
    }
}

#[test]
fn a_later_policy_layered_over_an_earlier_narrows_it_and_drops_none_of_its_denials() {
    // As the command line puts its flags and an MCP config together: merged
    // whole, `--allow-net api.example.com` once dropped the config's denial
    // of `/admin` under it.
    let config = Permissions::from_json(
        r#"{"network": {"rules": [
            {"mode": "allow", "patterns": ["https://api.example.com"]},
            {"mode": "deny", "patterns": ["https://api.example.com/admin"]}
        ]}}"#,
    )
    .unwrap();
    let flags = Permissions {
        network: Some(Scope::rules(
            Deny,
            vec![
                Rule::<NetPattern>::parse(Allow, &[], &["api.example.com", "cdn.example.com"])
                    .unwrap(),
            ],
        )),
        ..Permissions::default()
    };
    // The flags' grants come first; the config's rules still decide after.
    let merged = config.clone().merged(&flags);
    let layered = flags.layered(&config);
    let admin = "https://api.example.com/admin/users";
    assert_eq!(decide(&merged, Network, "fetch", admin), Allow);
    assert_eq!(decide(&layered, Network, "fetch", admin), Deny);
    assert_eq!(
        decide(&layered, Network, "fetch", "https://cdn.example.com/x"),
        Allow
    );
    assert_eq!(
        decide(&layered, Network, "fetch", "https://other.example.com/"),
        Deny
    );
    // A later mode decides its whole scope.
    let closed = layered.layered(&Permissions::from_json(r#"{"network": "deny"}"#).unwrap());
    assert_eq!(
        decide(&closed, Network, "fetch", "https://cdn.example.com/x"),
        Deny
    );
}
