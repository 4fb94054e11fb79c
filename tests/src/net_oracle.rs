//! Network rules and hostile URLs drawn from bytes, and an oracle, written
//! apart from `polybox::permissions`, that says which requests a rule
//! covers. The fuzz target `net_rules` and the test `net_rules_oracle`
//! both hold the policy's decisions to it.
//!
//! The oracle knows each rule as the generator made it (never by parsing
//! its text) and reads a URL through `url::Url` alone: its scheme, the text
//! of its host (addresses parsed by `std`), its port and its raw path
//! (decoded here by hand).

use std::net::IpAddr;

use polybox::permissions::{Mode, NetPattern, Permissions};
use url::Url;

/// Reads bytes as choices; past the end, every choice is the first.
pub struct Choices<'a>(pub &'a [u8]);

impl Choices<'_> {
    /// The next byte.
    pub fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    /// One of `from`.
    pub fn pick<'s>(&mut self, from: &[&'s str]) -> &'s str {
        from[usize::from(self.byte()) % from.len()]
    }

    /// Whether the bytes are used up.
    pub fn done(&self) -> bool {
        self.0.is_empty()
    }
}

/// A rule's host, as the generator chose it.
#[derive(Debug, Clone)]
pub enum RuleHost {
    Any,
    Name(&'static str),
    Suffix(&'static str),
    V4(u32, u8),
    V6(u128, u8),
}

/// A rule as the generator chose it, and its text.
#[derive(Debug, Clone)]
pub struct OracleRule {
    pub scheme: Option<&'static str>,
    pub host: RuleHost,
    pub port: Option<u16>,
    pub path: Vec<&'static str>,
    pub text: String,
}

const NAMES: &[&str] = &[
    "example.com",
    "a.example.com",
    "evil.net",
    "localhost",
    "xn--bcher-kva.example",
    "com",
];
const V4: &[(u32, u8)] = &[
    (0x7f00_0001, 32),
    (0x7f00_0000, 8),
    (0x0a00_0001, 32),
    (0x0a00_0000, 8),
    (0x5db8_d822, 32),
    (0, 32),
    (0, 0),
    (0xa9fe_a9fe, 32),
    (0xa9fe_0000, 16),
];
const V6: &[(u128, u8)] = &[
    (1, 128),
    (0xfd00 << 112, 8),
    (0xfd00 << 112 | 1, 128),
    (0, 0),
];
const PATHS: &[&[&str]] = &[&[], &["a"], &["a", "b"], &["v1"], &["x:"], &["a b"]];

/// A rule from the grammar the crate documents.
pub fn rule(choices: &mut Choices<'_>) -> OracleRule {
    let scheme = [None, Some("http"), Some("https"), None][usize::from(choices.byte() % 4)];
    let scheme_text = match (scheme, choices.byte() % 2) {
        (None, 0) => String::new(),
        (None, _) => "*://".to_owned(),
        (Some(s), _) => format!("{s}://"),
    };
    let (host, host_text) = match choices.byte() % 6 {
        0 => (RuleHost::Any, "*".to_owned()),
        1 | 2 => {
            let name = choices.pick(NAMES);
            (RuleHost::Name(name), name.to_owned())
        }
        3 => {
            let name = choices.pick(NAMES);
            (RuleHost::Suffix(name), format!("*.{name}"))
        }
        4 => {
            let (address, bits) = V4[usize::from(choices.byte()) % V4.len()];
            let text = std::net::Ipv4Addr::from(address).to_string();
            let text = if bits == 32 && choices.byte().is_multiple_of(2) {
                text
            } else {
                format!("{text}/{bits}")
            };
            (RuleHost::V4(address, bits), text)
        }
        _ => {
            let (address, bits) = V6[usize::from(choices.byte()) % V6.len()];
            let ip = std::net::Ipv6Addr::from(address);
            let text = if bits == 128 {
                format!("[{ip}]")
            } else {
                format!("[{ip}/{bits}]")
            };
            (RuleHost::V6(address, bits), text)
        }
    };
    let port = [None, Some(80), Some(443), Some(8080), None][usize::from(choices.byte() % 5)];
    let path: Vec<&'static str> = PATHS[usize::from(choices.byte()) % PATHS.len()].to_vec();
    let port_text = match port {
        Some(port) => format!(":{port}"),
        None if !path.is_empty() || choices.byte().is_multiple_of(3) => ":*".to_owned(),
        None => String::new(),
    };
    let mut path_text: String = path
        .iter()
        .map(|s| format!("/{}", s.replace(' ', "%20").replace(':', "%3A")))
        .collect();
    if choices.byte().is_multiple_of(3) {
        path_text.push_str("/*");
    }
    let text = format!("{scheme_text}{host_text}{port_text}{path_text}");
    OracleRule {
        scheme,
        host,
        port,
        path,
        text,
    }
}

/// A URL a hostile guest might build: hosts in every spelling, userinfo,
/// other hosts spelled in the path, dot segments plain and encoded.
pub fn url(choices: &mut Choices<'_>) -> String {
    if choices.byte().is_multiple_of(16) {
        // Now and then, raw bytes.
        let n = usize::from(choices.byte() % 48);
        let raw: Vec<u8> = (0..n).map(|_| choices.byte()).collect();
        return String::from_utf8_lossy(&raw).into_owned();
    }
    let scheme = choices.pick(&["http", "https", "HTTP", "hTtPs", "ftp", "ws", "file"]);
    let slashes = choices.pick(&["://", "://", ":\\\\", ":/", ":"]);
    let userinfo = choices.pick(&[
        "",
        "",
        "",
        "user@",
        "example.com@",
        "a.example.com:443@",
        "u:p@",
        "127.0.0.1@",
    ]);
    let host = choices.pick(&[
        "example.com",
        "EXAMPLE.com",
        "example.com.",
        "example.com..",
        "exa%6Dple.com",
        "a.example.com",
        "b.a.example.com",
        "evilexample.com",
        "example.com.evil.net",
        "ex\u{430}mple.com",
        "example\u{3002}com",
        "EXAMPLE\u{ff0e}COM",
        "b\u{fc}cher.example",
        "xn--bcher-kva.example",
        "localhost",
        "LOCALHOST.",
        "evil.net",
        "com",
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f000001",
        "0x7f.1",
        "0177.0.0.1",
        "127.0.0.1.",
        "10.0.0.1",
        "10.1.2.3",
        "93.184.216.34",
        "0.0.0.0",
        "0",
        "169.254.169.254",
        "[::1]",
        "[0:0:0:0:0:0:0:1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::ffff:a9fe:a9fe]",
        "[64:ff9b::7f00:1]",
        "[fd00::1]",
        "[fd00::1%25eth0]",
        "[::]",
        "",
    ]);
    let port = choices.pick(&[
        "", "", ":80", ":443", ":8080", ":0080", ":", ":65536", ":8443",
    ]);
    let path = choices.pick(&[
        "",
        "/",
        "/a",
        "/a/b",
        "/A",
        "/v1",
        "/v1beta",
        "/v1/../admin",
        "/a/../b",
        "/a/%2e%2e/b",
        "/a/%2E./b",
        "/a%2fb",
        "/a%2Fb/c",
        "/a%5cb",
        "/%61",
        "/%61/b",
        "\\a\\b",
        "/a/./b",
        "//a",
        "/a%20b",
        "/a b",
        "/x%3A",
        "/x://example.com:1/",
        "/x://127.0.0.1:80/",
        "/@example.com",
        "/%ff",
        "/a/%2e",
    ]);
    let tail = choices.pick(&["", "", "?q=example.com", "#example.com", "?x=/a/b#c"]);
    format!("{scheme}{slashes}{userinfo}{host}{port}{path}{tail}")
}

/// How the oracle reads a URL: what it connects to, and its path.
struct Parts {
    scheme: String,
    host: Host,
    port: u16,
    /// Decoded segments; `None` when one could be read as several.
    path: Option<Vec<String>>,
}

enum Host {
    Name(String),
    V4(u32),
    V6(u128),
}

fn parts(url: &Url) -> Option<Parts> {
    let scheme = url.scheme().to_owned();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let text = url.host_str()?;
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    let host = match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => Host::V4(u32::from(ip)),
        Ok(IpAddr::V6(ip)) => {
            let bits = u128::from(ip);
            if bits >> 32 == 0xffff || bits >> 32 == 0x0064_ff9b_0000_0000_0000_0000 {
                Host::V4(bits as u32)
            } else {
                Host::V6(bits)
            }
        }
        Err(_) => {
            let name = text.trim_end_matches('.').to_ascii_lowercase();
            if name.is_empty() {
                return None;
            }
            Host::Name(name)
        }
    };
    let port = url.port_or_known_default()?;
    let mut path = Some(Vec::new());
    for raw in url.path().split('/').filter(|s| !s.is_empty()) {
        match decode(raw) {
            Some(s) if s != "." && s != ".." && !s.contains('/') && !s.contains('\\') => {
                if let Some(p) = path.as_mut() {
                    p.push(s);
                }
            }
            _ => path = None,
        }
    }
    Some(Parts {
        scheme,
        host,
        port,
        path,
    })
}

/// `%XX` decoding, by hand; `None` when the bytes are not UTF-8.
fn decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn host_covered(rule: &RuleHost, host: &Host) -> bool {
    match (rule, host) {
        (RuleHost::Any, _) => true,
        (RuleHost::Name(own), Host::Name(name)) => own == name,
        (RuleHost::Suffix(suffix), Host::Name(name)) => {
            name.len() > suffix.len() + 1
                && name.ends_with(suffix)
                && name.as_bytes()[name.len() - suffix.len() - 1] == b'.'
        }
        (RuleHost::V4(net, bits), Host::V4(ip)) => {
            *bits == 0 || (net ^ ip) >> (32 - u32::from(*bits)) == 0
        }
        (RuleHost::V6(net, bits), Host::V6(ip)) => {
            *bits == 0 || (net ^ ip) >> (128 - u32::from(*bits)) == 0
        }
        _ => false,
    }
}

/// Whether `rule` covers a request to `url`: surely (`ambiguous_covered`
/// false, what an allowing rule needs) or under some reading of its path
/// (true, what a denying rule needs). `None` when no request can be made
/// to `url` at all.
pub fn covers(rule: &OracleRule, url: &Url, ambiguous_covered: bool) -> Option<bool> {
    let parts = parts(url)?;
    let path_ok = rule.path.is_empty()
        || match &parts.path {
            None => ambiguous_covered,
            Some(path) => {
                path.len() >= rule.path.len()
                    && rule
                        .path
                        .iter()
                        .zip(path)
                        .all(|(own, seg)| *own == seg.as_str())
            }
        };
    Some(
        rule.scheme.is_none_or(|s| s == parts.scheme)
            && rule.port.is_none_or(|p| p == parts.port)
            && host_covered(&rule.host, &parts.host)
            && path_ok,
    )
}

/// Draws a rule and some URLs from `data` and holds the policy to the
/// oracle: a rule alone under default deny allows exactly what it surely
/// covers; alone under default allow, denies exactly what it might cover
/// (and every URL no request can be made to). Its text must parse, and
/// read back as itself. Panics on any disagreement.
pub fn check(data: &[u8]) {
    let mut choices = Choices(data);
    let rule = rule(&mut choices);
    let pattern = NetPattern::parse(&rule.text)
        .unwrap_or_else(|e| panic!("the grammar's rule {:?} was refused: {e}", rule.text));
    assert_eq!(
        NetPattern::parse(&pattern.to_string()).as_ref(),
        Ok(&pattern),
        "{:?} shown as {pattern}",
        rule.text
    );
    let policy = |default: &str, mode: &str| {
        let json = serde_json::json!({ "network": { "default": default, "rules": [{ "mode": mode, "patterns": [rule.text] }] } });
        Permissions::from_json(&json.to_string()).unwrap()
    };
    let (allowing, denying) = (policy("deny", "allow"), policy("allow", "deny"));
    for _ in 0..4 {
        let text = url(&mut choices);
        let Ok(url) = Url::parse(&text) else {
            continue;
        };
        let allowed = allowing.decide_url("fetch", &url) == Mode::Allow;
        let surely = covers(&rule, &url, false).unwrap_or(false);
        assert_eq!(
            allowed, surely,
            "allow {:?} for {text:?} ({url})",
            rule.text
        );
        let denied = denying.decide_url("fetch", &url) == Mode::Deny;
        let might = covers(&rule, &url, true).unwrap_or(true);
        assert_eq!(denied, might, "deny {:?} for {text:?} ({url})", rule.text);
        if choices.done() {
            break;
        }
    }
}
