//! The hostile-input matrix's network part: requests a guest builds to get
//! past a network rule (another host spelled inside the URL, userinfo,
//! encodings, look-alike names, every spelling of an address, dot segments
//! plain and encoded, ports omitted and explicit), each decided through the
//! public API exactly as a program's `fetch` is. The table's requests go to
//! a caller's handler (no network, so public names can be decided too); the
//! cases after it go to a server on loopback, for what only a real
//! connection shows (redirects, addresses a name resolves to).

use polybox::permissions::{HostPattern, Permissions};
use polybox::{ExecOptions, HttpResponse, Runtime, SandboxBuilder, Secret};
use polybox_tests::http_server::HttpServer;

/// What a request must come to.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// The handler answers it, having been sent the secret only when `true`.
    Reached(bool),
    /// The policy refuses it (`EACCES`).
    Denied,
    /// The URL is no URL a request can be made to (refused before the
    /// policy: `TypeError` in the guest, or `EINVAL` from the host).
    Invalid,
}

use Expect::{Denied, Invalid, Reached};

/// A rule allowing `pattern`, under default deny.
fn allow(pattern: &str) -> String {
    format!(r#"{{"network":{{"rules":[{{"mode":"allow","patterns":[{pattern:?}]}}]}}}}"#)
}

/// A rule denying `pattern`, under default allow.
fn deny(pattern: &str) -> String {
    format!(
        r#"{{"network":{{"default":"allow","rules":[{{"mode":"deny","patterns":[{pattern:?}]}}]}}}}"#
    )
}

/// (what the case shows, policy, URL, outcome). The secret `{{KEY}}` is
/// bound to `api.example.com` in every case.
fn table() -> Vec<(&'static str, String, &'static str, Expect)> {
    let host = allow("example.com");
    let suffix = allow("*.example.com");
    let path = allow("https://api.example.com/v1");
    let port = allow("https://api.example.com:443/*");
    let address = allow("127.0.0.1");
    let network = allow("10.0.0.0/8");
    let v6 = allow("[::1]");
    let metadata = deny("169.254.169.254");
    let admin = deny("https://api.example.com/admin");
    let secret = allow("*");
    vec![
        (
            "the granted host",
            host.clone(),
            "http://example.com/",
            Reached(false),
        ),
        (
            "upper case is the same name",
            host.clone(),
            "https://EXAMPLE.com/",
            Reached(false),
        ),
        (
            "a trailing dot is the same name",
            host.clone(),
            "http://example.com./",
            Reached(false),
        ),
        (
            "a rule without a port covers any",
            host.clone(),
            "http://example.com:8443/",
            Reached(false),
        ),
        (
            "the granted host in the path",
            host.clone(),
            "http://127.0.0.1:8765/x://example.com:1/",
            Denied,
        ),
        (
            "the granted host as the path",
            host.clone(),
            "http://evil.net/example.com",
            Denied,
        ),
        (
            "the granted host as userinfo",
            host.clone(),
            "http://example.com@evil.net/",
            Denied,
        ),
        (
            "userinfo before the granted host",
            host.clone(),
            "http://evil.net@example.com/",
            Reached(false),
        ),
        (
            "userinfo with a port before another host",
            host.clone(),
            "http://example.com:80@evil.net/",
            Denied,
        ),
        (
            "the granted name as a label",
            host.clone(),
            "http://example.com.evil.net/",
            Denied,
        ),
        (
            "the granted name as a suffix of a label",
            host.clone(),
            "http://evilexample.com/",
            Denied,
        ),
        (
            "a percent-encoded host is decoded",
            host.clone(),
            "http://exa%6Dple.com/",
            Reached(false),
        ),
        (
            "a Cyrillic look-alike is another name",
            host.clone(),
            "http://ex\u{430}mple.com/",
            Denied,
        ),
        (
            "an ideographic full stop is a dot (IDNA)",
            host.clone(),
            "http://example\u{3002}com/",
            Reached(false),
        ),
        (
            "backslashes are slashes",
            host.clone(),
            "http:\\\\example.com\\x",
            Reached(false),
        ),
        (
            "a backslash ends the host",
            host.clone(),
            "http://evil.net\\@example.com/",
            Denied,
        ),
        (
            "an encoded NUL is no host",
            host.clone(),
            "http://example.com%00.evil.net/",
            Invalid,
        ),
        (
            "a suffix covers a name below it",
            suffix.clone(),
            "https://a.example.com/",
            Reached(false),
        ),
        (
            "a suffix covers names deeper down",
            suffix.clone(),
            "https://a.b.example.com/",
            Reached(false),
        ),
        (
            "a suffix is not the name itself",
            suffix.clone(),
            "https://example.com/",
            Denied,
        ),
        (
            "a suffix matches whole labels",
            suffix.clone(),
            "https://aexample.com/",
            Denied,
        ),
        (
            "a suffix followed by more labels",
            suffix.clone(),
            "https://a.example.com.evil.net/",
            Denied,
        ),
        (
            "a suffix spelled in the path",
            suffix,
            "http://127.0.0.1/a.example.com",
            Denied,
        ),
        (
            "a path prefix covers below it",
            path.clone(),
            "https://api.example.com/v1/items",
            Reached(true),
        ),
        (
            "a path prefix covers itself",
            path.clone(),
            "https://api.example.com/v1",
            Reached(true),
        ),
        (
            "a path prefix is whole segments",
            path.clone(),
            "https://api.example.com/v1beta",
            Denied,
        ),
        (
            "dot segments are resolved first",
            path.clone(),
            "https://api.example.com/v1/../admin",
            Denied,
        ),
        (
            "encoded dot segments are resolved first",
            path.clone(),
            "https://api.example.com/v1/%2e%2e/admin",
            Denied,
        ),
        (
            "an encoded slash is not under the prefix",
            path.clone(),
            "https://api.example.com/v1/..%2fadmin",
            Denied,
        ),
        (
            "the scheme is part of the rule",
            path.clone(),
            "http://api.example.com/v1",
            Denied,
        ),
        (
            "a path rule without a port covers any",
            path,
            "https://api.example.com:8443/v1",
            Reached(true),
        ),
        (
            "an omitted port is the default",
            port.clone(),
            "https://api.example.com/x",
            Reached(true),
        ),
        (
            "an explicit default port",
            port.clone(),
            "https://api.example.com:443/x",
            Reached(true),
        ),
        (
            "another port",
            port.clone(),
            "https://api.example.com:8443/x",
            Denied,
        ),
        (
            "another scheme on the port",
            port,
            "http://api.example.com:443/x",
            Denied,
        ),
        (
            "an address in decimal",
            address.clone(),
            "http://2130706433/",
            Reached(false),
        ),
        (
            "an address in hex parts",
            address.clone(),
            "http://0x7f.1/",
            Reached(false),
        ),
        (
            "an address in octal",
            address.clone(),
            "http://0177.0.0.1/",
            Reached(false),
        ),
        (
            "an address mapped into IPv6",
            address.clone(),
            "http://[::ffff:127.0.0.1]/",
            Reached(false),
        ),
        (
            "another loopback address",
            address.clone(),
            "http://127.0.0.2/",
            Denied,
        ),
        (
            "IPv6 loopback is another address",
            address.clone(),
            "http://[::1]/",
            Denied,
        ),
        (
            "the unspecified address",
            address.clone(),
            "http://0.0.0.0/",
            Denied,
        ),
        (
            "a name is not an address",
            address,
            "http://localhost/",
            Denied,
        ),
        (
            "an address in a network",
            network.clone(),
            "http://10.1.2.3/",
            Reached(false),
        ),
        (
            "an address past a network",
            network.clone(),
            "http://11.0.0.1/",
            Denied,
        ),
        (
            "a mapped address in a network",
            network,
            "http://[::ffff:a01:203]/",
            Reached(false),
        ),
        (
            "IPv6 spelled in full",
            v6.clone(),
            "http://[0:0:0:0:0:0:0:1]/",
            Reached(false),
        ),
        (
            "IPv4 loopback is another address",
            v6,
            "http://127.0.0.1/",
            Denied,
        ),
        (
            "a denied address",
            metadata.clone(),
            "http://169.254.169.254/latest",
            Denied,
        ),
        (
            "a denied address mapped into IPv6",
            metadata.clone(),
            "http://[::ffff:a9fe:a9fe]/",
            Denied,
        ),
        (
            "a denied address in hex",
            metadata.clone(),
            "http://0xa9fea9fe/",
            Denied,
        ),
        (
            "a denied address in decimal",
            metadata.clone(),
            "http://2852039166/",
            Denied,
        ),
        (
            "a denied address through NAT64",
            metadata.clone(),
            "http://[64:ff9b::a9fe:a9fe]/",
            Denied,
        ),
        (
            "a name is decided as a name",
            metadata,
            "http://metadata.example/",
            Reached(false),
        ),
        (
            "a denied path spelled with an encoded slash",
            admin.clone(),
            "https://api.example.com/admin%2fkeys",
            Denied,
        ),
        (
            "a denied path reached by dot segments",
            admin.clone(),
            "https://api.example.com/x/../admin/",
            Denied,
        ),
        (
            "a path beside the denied one",
            admin,
            "https://api.example.com/public",
            Reached(true),
        ),
        (
            "a secret goes to its host",
            secret.clone(),
            "https://api.example.com/",
            Reached(true),
        ),
        (
            "a secret's host in upper case",
            secret.clone(),
            "https://API.example.com./",
            Reached(true),
        ),
        (
            "a secret's host as a label of another",
            secret.clone(),
            "https://api.example.com.evil.net/",
            Reached(false),
        ),
        (
            "a secret's host in the path",
            secret.clone(),
            "https://evil.net/api.example.com",
            Reached(false),
        ),
        (
            "a secret's host as userinfo",
            secret.clone(),
            "https://api.example.com@evil.net/",
            Reached(false),
        ),
        (
            "a secret's host under a suffix",
            secret,
            "https://x.api.example.com/",
            Reached(false),
        ),
        (
            "no scheme fetch knows",
            allow("*"),
            "ftp://example.com/",
            Invalid,
        ),
    ]
}

/// What a fetch of `url` comes to, under `policy`, to a handler that says
/// whether it was sent the secret.
fn outcome(policy: &str, url: &str) -> Result<Expect, String> {
    let sandbox = SandboxBuilder::new()
        .permissions(Permissions::from_json(policy).unwrap())
        .secret(Secret {
            placeholder: "{{KEY}}".into(),
            value: "s3cr3t".into(),
            hosts: vec![HostPattern::parse("api.example.com").unwrap()],
        })
        .http_handler(|request: &polybox::HttpRequest| {
            let sent = request
                .headers
                .iter()
                .any(|(name, value)| name == "authorization" && value.contains("s3cr3t"));
            Ok(HttpResponse::new(200, sent.to_string()))
        });
    let code = format!(
        "try {{ const r = await fetch({url:?}, {{ headers: {{ authorization: 'Bearer {{{{KEY}}}}' }} }}); console.log('reached', await r.text()); }}
         catch (e) {{ console.log('refused', e.cause?.code ?? e.name); }}"
    );
    let mut runtime = Runtime::builder().sandbox(sandbox).build().unwrap();
    let output = runtime.exec(&code, ExecOptions::default()).unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    match stdout.trim() {
        "reached true" => Ok(Reached(true)),
        "reached false" => Ok(Reached(false)),
        "refused EACCES" => Ok(Denied),
        "refused TypeError" | "refused EINVAL" => Ok(Invalid),
        other => Err(format!(
            "{other} ({})",
            String::from_utf8_lossy(&output.stderr)
        )),
    }
}

#[test]
fn every_hostile_request_gets_exactly_its_decision() {
    let table = table();
    assert!(table.len() >= 40);
    let failures: Vec<String> = table
        .iter()
        .filter_map(|(case, policy, url, expected)| match outcome(policy, url) {
            Ok(got) if got == *expected => None,
            got => Some(format!(
                "{case}: {url} under {policy}: {got:?}, expected {expected:?}"
            )),
        })
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Prints what a fetch of `url` gave: `200 <body>`, or the refusal's code.
fn fetched(sandbox: SandboxBuilder, url: &str) -> String {
    let code = format!(
        "try {{ const r = await fetch({url:?}); console.log(r.status, await r.text()); }}
         catch (e) {{ console.log(e.cause?.code ?? e.name); }}"
    );
    let mut runtime = Runtime::builder().sandbox(sandbox).build().unwrap();
    let output = runtime.exec(&code, ExecOptions::default()).unwrap();
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn a_redirect_from_a_granted_host_to_a_private_address_is_refused() {
    let server = HttpServer::start();
    let granted = polybox_tests::allowing(&[format!("http://127.0.0.1:{}", server.port)]);
    for to in [
        "http%3A%2F%2F169.254.169.254%2Flatest",
        "http%3A%2F%2F%5B%3A%3Affff%3A127.0.0.2%5D%2F",
        "http%3A%2F%2F0x7f000002%2F",
    ] {
        let url = server.url(&format!("/redirect?to={to}"));
        assert_eq!(fetched(granted.clone(), &url), "EACCES\n", "{to}");
    }
}

#[test]
fn a_307_through_a_handler_keeps_its_body_on_the_second_hop() {
    // The body went with the first hop only.
    let sandbox = SandboxBuilder::new().http_handler(|request: &polybox::HttpRequest| {
        Ok(if request.url.ends_with("/first") {
            HttpResponse {
                status: 307,
                headers: vec![("location".into(), "/second".into())],
                body: Vec::new(),
            }
        } else {
            HttpResponse::new(200, String::from_utf8_lossy(&request.body).into_owned())
        })
    });
    let mut runtime = Runtime::builder().sandbox(sandbox).build().unwrap();
    let output = runtime
        .exec(
            "const r = await fetch('https://api.test/first', { method: 'POST', body: 'payload' }); console.log(r.status, r.redirected, await r.text());",
            ExecOptions::default(),
        )
        .unwrap();
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "200 true payload\n"
    );
}
