//! [`NetPattern`]: the requests a `network` rule covers, decided on the
//! parts of the parsed URL the host is about to connect to.
//!
//! # Why parts, not strings
//!
//! A rule used to be a `*` glob over one composed string,
//! `scheme://host:port/path`. Its stars were not anchored to a part, so
//! the rest of the rule could match inside the path: a guest granted
//! `example.com` reached any host by asking for
//! `http://127.0.0.1:8765/x://example.com:1/`. Here a rule is parsed once
//! into a scheme, a host, a port and a path prefix, and a request is parsed
//! once (by the `url` crate, as a browser would: IDNA, percent-decoding,
//! every spelling of an IPv4 address, `..` resolved) into the same parts.
//! Each part is compared with its own kind: host names label by label,
//! addresses as numbers, paths segment by segment. The grammar is on
//! [`NetPattern`].

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use ipnet::IpNet;
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use url::{Host, Url};

/// A scheme requests are made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http`.
    Http,
    /// `https`.
    Https,
}

impl Scheme {
    fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }
}

/// The hosts a rule (or a secret) covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HostPattern {
    /// `*`: every host name and every address.
    Any,
    /// Exactly this DNS name (lower case, IDNA, no trailing dot).
    Name(String),
    /// `*.suffix`: names ending in the whole labels of `suffix`.
    Suffix(String),
    /// Exactly this address.
    Addr(IpAddr),
    /// Every address of this network.
    Net(IpNet),
}

/// The requests a `network` rule covers.
///
/// # Grammar
///
/// `*` alone covers every request. Otherwise `[SCHEME://]HOST[:PORT][/PATH]`:
///
/// - `SCHEME`: `http` or `https`; absent or `*`, both.
/// - `HOST`: a DNS name (`api.example.com`, matched exactly, case and a
///   trailing dot aside); `*.example.com`, any name that ends in whole
///   labels `.example.com` (never `example.com` itself, `evilexample.com`
///   or `example.com.evil.net`); an IPv4 address (`10.0.0.1`) or network
///   (`10.0.0.0/8`); an IPv6 address or network in brackets (`[::1]`,
///   `[fd00::/8]`); or `*`, every host and address.
/// - `PORT`: `1` to `65535`; absent or `*`, any port.
/// - `PATH`: a prefix, matched segment by segment after percent-decoding
///   (`/v1` covers `/v1` and `/v1/items`, not `/v1beta`); a final `/*` is
///   the same prefix. A request whose path has a segment that decodes to
///   `/`, `\`, `.` or `..` (which a server may read as more segments) is
///   allowed only by rules without a path, and denied by every denying rule
///   of its host, path or not.
///
/// An IPv4 address written inside IPv6 (`[::ffff:127.0.0.1]`, or NAT64's
/// `64:ff9b::/96`) is decided as the IPv4 address it reaches. When a name
/// resolves to a private, loopback or link-local address, the network
/// capability decides that address too: a rule must cover it as well
/// (`localhost` and names under it excepted: they always mean loopback).
///
/// ```
/// use polybox::permissions::{NetPattern, NetTarget};
/// use url::Url;
///
/// let api = NetPattern::parse("https://*.example.com/v1").unwrap();
/// let target = |url: &str| NetTarget::of(&Url::parse(url).unwrap()).unwrap();
/// assert!(api.covers(&target("https://api.example.com/v1/items")));
/// assert!(!api.covers(&target("https://example.com.evil.net/v1")));
/// assert!(!api.covers(&target("https://evil.net/x://api.example.com/v1")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NetPattern {
    /// `None`: http and https.
    scheme: Option<Scheme>,
    host: HostPattern,
    /// `None`: any port.
    port: Option<u16>,
    /// Decoded segments of the path prefix; empty: any path.
    path: Vec<String>,
}

/// The host a request connects to: a name, or the address it resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TargetHost {
    /// A DNS name (lower case, IDNA, no trailing dot).
    Name(String),
    /// An address (an IPv4 address written in IPv6 is the IPv4 one).
    Addr(IpAddr),
}

/// A request as decisions see it: the parts of its parsed URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetTarget {
    scheme: Scheme,
    host: TargetHost,
    port: u16,
    /// Decoded, non-empty segments; `None` when one decodes to something a
    /// server might read as more than one segment (`/`, `\`, `.`, `..`).
    path: Option<Vec<String>>,
}

impl NetTarget {
    /// The parts of `url`, which must be an `http` or `https` URL with a
    /// host.
    pub fn of(url: &Url) -> Result<Self, String> {
        let scheme = match url.scheme() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            other => return Err(format!("fetch supports http and https, not {other}:")),
        };
        let host = match url.host() {
            Some(Host::Domain(name)) => match name.trim_end_matches('.') {
                "" => return Err(format!("{url} has no host")),
                name => TargetHost::Name(name.to_owned()),
            },
            Some(Host::Ipv4(ip)) => TargetHost::Addr(ip.into()),
            Some(Host::Ipv6(ip)) => TargetHost::Addr(canonical(ip.into())),
            None => return Err(format!("{url} has no host")),
        };
        let port = url
            .port_or_known_default()
            .ok_or_else(|| format!("{url} has no port"))?;
        let path = url
            .path_segments()
            .map(|segments| {
                segments
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        let decoded = percent_decode_str(s).decode_utf8().ok()?;
                        let ambiguous =
                            matches!(&*decoded, "." | "..") || decoded.contains(['/', '\\']);
                        (!ambiguous).then(|| decoded.into_owned())
                    })
                    .collect::<Option<Vec<_>>>()
            })
            .unwrap_or_default();
        Ok(Self {
            scheme,
            host,
            port,
            path,
        })
    }

    /// The same request, decided for the address it is about to connect to
    /// in place of its host name.
    pub fn at(&self, address: IpAddr) -> Self {
        Self {
            host: TargetHost::Addr(canonical(address)),
            ..self.clone()
        }
    }

    /// The host it connects to.
    pub fn host(&self) -> &TargetHost {
        &self.host
    }

    /// The port it connects to.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl fmt::Display for NetTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}:{}", self.scheme.as_str(), self.host, self.port)?;
        match &self.path {
            Some(path) => write!(f, "/{}", path.join("/")),
            None => f.write_str("/…"),
        }
    }
}

impl fmt::Display for TargetHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(name) => f.write_str(name),
            Self::Addr(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Self::Addr(ip) => write!(f, "{ip}"),
        }
    }
}

impl NetPattern {
    /// A pattern covering every request.
    pub fn any() -> Self {
        Self {
            scheme: None,
            host: HostPattern::Any,
            port: None,
            path: Vec::new(),
        }
    }

    /// Parses a rule pattern (the grammar is on [`NetPattern`]);
    /// the error says what is wrong and what was expected.
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid = |why: String| format!("{text:?}: {why}");
        if text.is_empty() {
            return Err(
                "an empty pattern covers nothing: write a host, or `*` for every request".into(),
            );
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("has a space or control character".into()));
        }
        if text == "*" {
            return Ok(Self::any());
        }
        let (scheme, rest) = match text.split_once("://") {
            Some((scheme, rest)) => (parse_scheme(scheme).map_err(invalid)?, rest),
            None => (None, text),
        };
        if rest.contains('@') {
            return Err(invalid(
                "names a user (`@`): a pattern is [scheme://]host[:port][/path], and what comes before `@` in a URL is never its host".into(),
            ));
        }
        if rest.contains(['?', '#']) {
            return Err(invalid(
                "has a query or fragment: a pattern ends with a path prefix".into(),
            ));
        }
        let (host, rest) = split_host(rest).map_err(invalid)?;
        let (port, path) = match rest.strip_prefix(':') {
            Some(rest) => {
                let end = rest.find('/').unwrap_or(rest.len());
                (parse_port(&rest[..end]).map_err(invalid)?, &rest[end..])
            }
            None => (None, rest),
        };
        let path = parse_path(path).map_err(invalid)?;
        Ok(Self {
            scheme,
            host,
            port,
            path,
        })
    }

    /// Parses what `--allow-net` takes: `HOST` or `HOST:PORT` (the same
    /// hosts as [`parse`](Self::parse)), over http and https, any path.
    pub fn parse_host_port(text: &str) -> Result<Self, String> {
        let not_host = || {
            format!(
                "{text:?} is not HOST or HOST:PORT: a scheme or a path needs a permissions rule"
            )
        };
        if text.contains("://") {
            return Err(not_host());
        }
        let pattern = Self::parse(text)?;
        // A `/` belongs to a network (`10.0.0.0/8`), never to a path.
        if text.contains('/') && !matches!(pattern.host, HostPattern::Net(_))
            || !pattern.path.is_empty()
        {
            return Err(not_host());
        }
        Ok(pattern)
    }

    /// Whether this surely covers the request `target` (what an allowing
    /// rule needs): a path the server might read another way is not
    /// covered by a rule with a path.
    pub fn covers(&self, target: &NetTarget) -> bool {
        self.covers_path(target, false)
    }

    /// Whether this covers `target` under some reading of its path (what a
    /// denying rule needs): a path the server might read another way is
    /// covered by every rule with a path.
    pub fn might_cover(&self, target: &NetTarget) -> bool {
        self.covers_path(target, true)
    }

    fn covers_path(&self, target: &NetTarget, ambiguous_covered: bool) -> bool {
        self.scheme.is_none_or(|scheme| scheme == target.scheme)
            && self.port.is_none_or(|port| port == target.port)
            && self.host.covers(&target.host)
            && (self.path.is_empty()
                || match &target.path {
                    Some(path) => path.starts_with(&self.path),
                    None => ambiguous_covered,
                })
    }

    /// The hosts this covers.
    pub fn host(&self) -> &HostPattern {
        &self.host
    }
}

impl HostPattern {
    /// Parses a host alone (as a secret's hosts are given): `*`,
    /// `*.suffix`, a name, an address or a network.
    pub fn parse(text: &str) -> Result<Self, String> {
        match split_host(text) {
            Ok((host, "")) => Ok(host),
            Ok(_) => Err(format!(
                "{text:?} is not a host: write a name, `*.suffix`, an address or a network, without a port or path"
            )),
            Err(why) => Err(format!("{text:?}: {why}")),
        }
    }

    /// Whether this covers `host`.
    pub fn covers(&self, host: &TargetHost) -> bool {
        match (self, host) {
            (Self::Any, _) => true,
            (Self::Name(own), TargetHost::Name(name)) => own == name,
            (Self::Suffix(suffix), TargetHost::Name(name)) => name
                .strip_suffix(suffix.as_str())
                .and_then(|label| label.strip_suffix('.'))
                .is_some_and(|label| !label.is_empty()),
            (Self::Addr(own), TargetHost::Addr(ip)) => own == ip,
            (Self::Net(net), TargetHost::Addr(ip)) => net.contains(ip),
            _ => false,
        }
    }
}

fn parse_scheme(scheme: &str) -> Result<Option<Scheme>, String> {
    match scheme.to_ascii_lowercase().as_str() {
        "http" => Ok(Some(Scheme::Http)),
        "https" => Ok(Some(Scheme::Https)),
        "*" => Ok(None),
        other => Err(format!(
            "{other}: is not a scheme fetch uses: write http, https or * (both)"
        )),
    }
}

/// The host at the start of `text`, and what follows it.
fn split_host(text: &str) -> Result<(HostPattern, &str), String> {
    if let Some(inner) = text.strip_prefix('[') {
        let (inside, after) = inner
            .split_once(']')
            .ok_or("an IPv6 address opened with `[` is not closed")?;
        let v6 = |addr: &str| {
            addr.parse::<Ipv6Addr>()
                .map_err(|_| format!("[{inside}] is not an IPv6 address"))
        };
        let host = match inside.split_once('/') {
            Some((addr, length)) => network(v6(addr)?.into(), length)?,
            None => HostPattern::Addr(canonical(v6(inside)?.into())),
        };
        return Ok((host, after));
    }
    let end = text.find([':', '/']).unwrap_or(text.len());
    let (name, after) = text.split_at(end);
    if name.is_empty() {
        return Err(if text.matches(':').count() > 1 {
            "write an IPv6 address in brackets, as [::1]".into()
        } else {
            "names no host".into()
        });
    }
    if name == "*" {
        return Ok((HostPattern::Any, after));
    }
    if let Some(suffix) = name.strip_prefix("*.") {
        if suffix.trim_end_matches('.').is_empty() {
            return Err("`*.` needs a name after it (`*.example.com`)".into());
        }
        if suffix.contains('*') {
            return Err(
                "`*` stands for whole labels, and only at the start (`*.example.com`)".into(),
            );
        }
        return match Host::parse(suffix) {
            Ok(Host::Domain(domain)) => match domain.trim_end_matches('.') {
                "" => Err("`*.` needs a name after it (`*.example.com`)".into()),
                domain => Ok((HostPattern::Suffix(domain.to_owned()), after)),
            },
            Ok(_) => Err("`*.` is followed by a name, not an address: for addresses write a network (`10.0.0.0/8`)".into()),
            Err(e) => Err(format!("{suffix:?} is not a host name ({e})")),
        };
    }
    if name.contains('*') {
        return Err("`*` stands for whole labels, and only at the start (`*.example.com`)".into());
    }
    match Host::parse(name) {
        Ok(Host::Domain(domain)) => match domain.trim_end_matches('.') {
            "" => Err("names no host".into()),
            domain => Ok((HostPattern::Name(domain.to_owned()), after)),
        },
        Ok(Host::Ipv4(ip)) => {
            // `ADDRESS/LENGTH` is a network; a path needs a port first.
            if let Some(rest) = after.strip_prefix('/') {
                let digits = rest
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len());
                if digits > 0 && matches!(rest[digits..].chars().next(), None | Some(':' | '/')) {
                    let host = network(ip.into(), &rest[..digits]).map_err(|why| {
                        format!(
                            "{why}; for a path under an address, give the port first ({ip}:*/{})",
                            &rest[..digits]
                        )
                    })?;
                    return Ok((host, &rest[digits..]));
                }
            }
            Ok((HostPattern::Addr(ip.into()), after))
        }
        Ok(Host::Ipv6(ip)) => Ok((HostPattern::Addr(canonical(ip.into())), after)),
        Err(e) => Err(format!("{name:?} is not a host name ({e})")),
    }
}

/// The network `address/length`, whose address must have no bits set past
/// the prefix (a typo otherwise grants more or less than meant).
fn network(address: IpAddr, length: &str) -> Result<HostPattern, String> {
    let bits = length
        .parse::<u8>()
        .ok()
        .and_then(|bits| IpNet::new(address, bits).ok())
        .ok_or_else(|| {
            let max = if address.is_ipv4() { 32 } else { 128 };
            format!("{address}/{length}: a prefix length is 0 to {max}")
        })?;
    if bits.trunc() != bits {
        return Err(format!(
            "{bits} has address bits set past the prefix: the network is {}",
            bits.trunc()
        ));
    }
    Ok(HostPattern::Net(bits))
}

fn parse_port(port: &str) -> Result<Option<u16>, String> {
    match port {
        "*" => Ok(None),
        "" => Err("has `:` but no port (write a port, or `*` for any)".into()),
        digits if digits.bytes().all(|b| b.is_ascii_digit()) => match digits.parse::<u32>() {
            Ok(0) => Err("port 0 is never connected to".into()),
            Ok(port @ 1..=65535) => Ok(Some(port as u16)),
            _ => Err(format!("port {digits} is over 65535")),
        },
        other => Err(format!("{other:?} is not a port (1 to 65535, or `*`)")),
    }
}

fn parse_path(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    if !path.starts_with('/') {
        return Err(format!(
            "{path:?} follows the host: after the host come `:port` and a `/path`"
        ));
    }
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if matches!(segments.last(), Some(&("*" | "**"))) {
        segments.pop();
    }
    segments
        .into_iter()
        .map(|segment| {
            if segment.contains('*') {
                return Err(
                    "`*` in a path only as its last segment: a path is a prefix, matched segment by segment".into(),
                );
            }
            let decoded = percent_decode_str(segment)
                .decode_utf8()
                .map_err(|_| format!("the path segment {segment:?} is not UTF-8 once decoded"))?;
            if matches!(&*decoded, "." | "..") || decoded.contains(['/', '\\']) {
                return Err(format!(
                    "the path segment {segment:?} is `.`, `..` or holds a slash, which a request's path never keeps: write the path it means"
                ));
            }
            Ok(decoded.into_owned())
        })
        .collect()
}

/// An address as decisions compare it: an IPv4 address carried in IPv6
/// (mapped, `::ffff:a.b.c.d`, or NAT64, `64:ff9b::a.b.c.d`) is that IPv4
/// address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match (v6.to_ipv4_mapped(), v6.segments()) {
            (Some(v4), _) => v4.into(),
            (None, [0x64, 0xff9b, 0, 0, 0, 0, ..]) => {
                let [.., a, b, c, d] = v6.octets();
                IpAddr::from([a, b, c, d])
            }
            _ => ip,
        },
        v4 => v4,
    }
}

/// What a path segment's text escapes when shown: what would not read
/// back as the same segment.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'%')
    .add(b'/')
    .add(b'\\')
    .add(b'?')
    .add(b'#')
    .add(b'*')
    .add(b'@');

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("*"),
            Self::Name(name) => f.write_str(name),
            Self::Suffix(suffix) => write!(f, "*.{suffix}"),
            Self::Addr(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Self::Addr(ip) => write!(f, "{ip}"),
            Self::Net(IpNet::V6(net)) => write!(f, "[{net}]"),
            Self::Net(net) => write!(f, "{net}"),
        }
    }
}

impl fmt::Display for NetPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Self::any() {
            return f.write_str("*");
        }
        if let Some(scheme) = self.scheme {
            write!(f, "{}://", scheme.as_str())?;
        }
        write!(f, "{}", self.host)?;
        match self.port {
            Some(port) => write!(f, ":{port}")?,
            None if !self.path.is_empty() => f.write_str(":*")?,
            None => {}
        }
        for segment in &self.path {
            write!(f, "/{}", utf8_percent_encode(segment, SEGMENT))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> NetTarget {
        NetTarget::of(&Url::parse(url).unwrap()).unwrap()
    }

    fn covers(pattern: &str, url: &str) -> bool {
        NetPattern::parse(pattern).unwrap().covers(&target(url))
    }

    #[test]
    fn a_host_inside_the_path_is_not_the_host() {
        assert!(!covers(
            "example.com",
            "http://127.0.0.1:8765/x://example.com:1/"
        ));
        assert!(!covers(
            "127.0.0.1:1",
            "http://127.0.0.1:8765/x://127.0.0.1:1/"
        ));
        assert!(!covers(
            "https://*.example.com/*",
            "https://evil.net/a.example.com/"
        ));
    }

    #[test]
    fn suffixes_match_whole_labels_only() {
        assert!(covers("*.example.com", "https://a.example.com/"));
        assert!(covers("*.example.com", "https://a.b.example.com/"));
        assert!(!covers("*.example.com", "https://example.com/"));
        assert!(!covers("*.example.com", "https://evilexample.com/"));
        assert!(!covers("*.example.com", "https://example.com.evil.net/"));
    }

    #[test]
    fn paths_are_prefixes_of_whole_decoded_segments() {
        assert!(covers("https://h/v1", "https://h/v1"));
        assert!(covers("https://h/v1/*", "https://h/v1/items"));
        assert!(!covers("https://h/v1", "https://h/v1beta"));
        assert!(!covers("https://h/v1", "https://h/v1/../admin"));
        assert!(!covers("https://h/v1", "https://h/v1/%2e%2e/admin"));
        assert!(!covers("https://h/v1", "https://h/v1/..%2fadmin"));
        assert!(covers("https://h/a%20b", "https://h/a b/c"));
        assert!(covers("https://h", "https://h/v1/..%2fadmin"));
        let admin = NetPattern::parse("https://h/admin").unwrap();
        assert!(admin.might_cover(&target("https://h/admin%2fkeys")));
        assert!(admin.might_cover(&target("https://h/x/..%2f..%2fadmin")));
        assert!(!admin.might_cover(&target("https://h/public")));
    }

    #[test]
    fn malformed_patterns_say_why() {
        for bad in [
            "",
            "**",
            "*.",
            "*example.com",
            "a.*.com",
            "ftp://x",
            "x:0",
            "x:65536",
            "x:",
            "x:http",
            "user@x",
            "x/a/*/b",
            "x:*/..",
            "x/%2e%2e",
            "10.0.0.1/8",
            "[::1",
            "::1",
            "x?y",
            "a b",
            "*.10.0.0.1",
            "[fd00::1/8]",
            "10.0.0.0/33",
        ] {
            let error = NetPattern::parse(bad).unwrap_err();
            assert!(!error.is_empty(), "{bad}");
        }
    }

    #[test]
    fn patterns_read_back_as_themselves() {
        for text in [
            "*",
            "example.com",
            "https://*.example.com",
            "http://10.0.0.0/8:8080/a",
            "[fd00::/8]",
            "[::1]:443",
            "10.0.0.1:*/8",
            "https://*/a%3Fb/c%25",
            "*://x:1",
        ] {
            let pattern = NetPattern::parse(text).unwrap();
            let again = NetPattern::parse(&pattern.to_string()).unwrap();
            assert_eq!(pattern, again, "{text} -> {pattern}");
        }
    }

    #[test]
    fn ipv4_in_any_spelling_is_the_address() {
        for url in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
        ] {
            assert!(covers("127.0.0.1", url), "{url}");
            assert!(covers("127.0.0.0/8", url), "{url}");
            assert!(!covers("localhost", url), "{url}");
        }
    }
}
