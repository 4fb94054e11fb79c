//! [`Network`]: one sandbox's requests, served to guests as the internal
//! module `polybox:net`.
//!
//! `fetch` takes one argument, the request (`url`, `method`, `headers` as
//! pairs, `redirect`, `body` in base64 or null), and answers `{"ok":
//! {status, statusText, headers, url, redirected, body}}` or `{"err":
//! {code, detail}}`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use serde_json::{Value, json};
use url::{Host, Url};

use super::address::is_internal;
use super::client::{self, Received};
use super::{HttpRequest, NetConfig};
use crate::capability::host_functions::CallContext;
use crate::capability::{HostCallError, Provider, Refusal, answer};
use crate::permissions::{Mode, Permissions, Rule, ScopeName, pattern_matches};

/// How many redirects a request follows.
const MAX_REDIRECTS: usize = 20;

/// Headers a guest may not set: the host sets them, for the hop it sends.
const HOST_HEADERS: &[&str] = &[
    "host",
    "connection",
    "content-length",
    "transfer-encoding",
    "keep-alive",
    "upgrade",
    "proxy-connection",
    "te",
    "trailer",
];

/// A request as the guest's `fetch` sends it.
#[derive(Deserialize)]
struct GuestRequest {
    url: String,
    method: String,
    headers: Vec<(String, String)>,
    redirect: String,
    body: Option<String>,
}

/// One sandbox's network access.
/// What a request does with a redirect, as `fetch`'s `redirect` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Redirects {
    /// Follow it, deciding each hop again.
    Follow,
    /// Fail with `EREDIRECT`.
    Error,
    /// Answer it as the response.
    Manual,
}

/// A request's answer: the last response, and where it came from.
pub(crate) struct Fetched {
    pub received: Received,
    /// The URL of the last hop.
    pub url: String,
    /// Whether a redirect was followed to it.
    pub redirected: bool,
}

pub(crate) struct Network {
    config: NetConfig,
    permissions: Arc<Permissions>,
    /// With a handler and no `network` scope in the policy, every request
    /// is the handler's to decide.
    implied: Vec<Rule>,
    sandbox: u64,
}

impl Network {
    /// Requests under `permissions`, made as `config` says.
    pub fn new(config: NetConfig, permissions: Arc<Permissions>, sandbox: u64) -> Self {
        let implied = if config.handler.is_some() && permissions.scope(ScopeName::Network).is_none()
        {
            vec![Rule::all(Mode::Allow)]
        } else {
            Vec::new()
        };
        Self {
            config,
            permissions,
            implied,
            sandbox,
        }
    }

    /// The largest body a request sends or receives.
    pub fn max_body_bytes(&self) -> usize {
        self.config.max_response_bytes
    }

    /// The policy's verdict on fetching `url` (or `url` at `address`).
    fn allowed(&self, url: &Url, address: Option<IpAddr>) -> Result<(), Refusal> {
        let target = target(url, address);
        match self
            .permissions
            .decide(ScopeName::Network, "fetch", &target, &self.implied)
        {
            Mode::Allow => Ok(()),
            Mode::Deny => {
                crate::metrics::denial(self.sandbox, ScopeName::Network, "fetch", &target);
                let why = match address {
                    Some(ip) => format!(
                        "{url} resolves to {ip}, which the sandbox's permissions do not grant"
                    ),
                    None => format!("the sandbox's permissions deny {target}"),
                };
                Err(Refusal::with("EACCES", why))
            }
        }
    }

    /// The guest's headers for a hop to `url`: the host's own left out,
    /// secrets put in where `url`'s host may have them.
    fn headers_for(&self, url: &Url, headers: &[(String, String)]) -> Vec<(String, String)> {
        let host = url.host_str().unwrap_or_default();
        headers
            .iter()
            .filter(|(name, _)| !HOST_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
            .map(|(name, value)| {
                let mut value = value.clone();
                for secret in &self.config.secrets {
                    if value.contains(&secret.placeholder)
                        && secret
                            .hosts
                            .iter()
                            .any(|pattern| pattern_matches(pattern, host))
                    {
                        value = value.replace(&secret.placeholder, &secret.value);
                    }
                }
                (name.to_ascii_lowercase(), value)
            })
            .collect()
    }

    /// Sends one hop over the network: the host resolved, each internal
    /// address it has checked, the connection made to a checked one.
    fn send(
        &self,
        url: &Url,
        method: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        context: &CallContext<'_>,
    ) -> Result<Received, Refusal> {
        let port = url
            .port_or_known_default()
            .ok_or_else(|| Refusal::with("EINVAL", format!("{url} has no port")))?;
        let runtime = client::runtime()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let _on_stop = context.on_stop(move || {
            let _ = stop.send(());
        });
        let work = async {
            let addresses = match url.host() {
                Some(Host::Ipv4(ip)) => vec![SocketAddr::new(ip.into(), port)],
                Some(Host::Ipv6(ip)) => vec![SocketAddr::new(ip.into(), port)],
                Some(Host::Domain(name)) => client::resolve(name, port).await?,
                None => return Err(Refusal::with("EINVAL", format!("{url} has no host"))),
            };
            let mut denied = None;
            for address in addresses {
                if is_internal(address.ip())
                    && let Err(error) = self.allowed(url, Some(address.ip()))
                {
                    denied = Some(error);
                    continue;
                }
                let request = client::Outgoing {
                    url,
                    method,
                    headers,
                    body,
                };
                return client::send(
                    address,
                    request,
                    self.config.max_response_bytes,
                    self.config.timeout,
                )
                .await;
            }
            Err(denied
                .unwrap_or_else(|| Refusal::with("ENOTFOUND", format!("no address for {url}"))))
        };
        runtime.block_on(async {
            tokio::select! {
                result = work => result,
                _ = stopped => Err(Refusal::with("ECANCELED", "the call was stopped")),
            }
        })
    }

    /// A guest's `fetch`, its request and answer as JSON.
    fn fetch(&self, request: GuestRequest, context: &CallContext<'_>) -> Result<Value, Refusal> {
        let body = match &request.body {
            Some(text) => BASE64
                .decode(text)
                .map_err(|_| Refusal::with("EINVAL", "the body is not base64"))?,
            None => Vec::new(),
        };
        let redirects = match request.redirect.as_str() {
            "follow" => Redirects::Follow,
            "error" => Redirects::Error,
            _ => Redirects::Manual,
        };
        let request = HttpRequest {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body,
        };
        let fetched = self.exchange(request, redirects, context)?;
        Ok(json!({
            "status": fetched.received.status,
            "statusText": fetched.received.reason,
            "headers": fetched.received.headers,
            "url": fetched.url,
            "redirected": fetched.redirected,
            "body": BASE64.encode(fetched.received.body),
        }))
    }

    /// Runs a guest's request to its end: each hop decided, redirects
    /// followed as `redirects` says.
    pub fn exchange(
        &self,
        request: HttpRequest,
        redirects: Redirects,
        context: &CallContext<'_>,
    ) -> Result<Fetched, Refusal> {
        let mut url = Url::parse(&request.url)
            .map_err(|e| Refusal::with("EINVAL", format!("invalid URL {:?}: {e}", request.url)))?;
        let mut method = request.method.to_ascii_uppercase();
        let mut body = request.body;
        let mut redirected = false;
        for _ in 0..=MAX_REDIRECTS {
            if !matches!(url.scheme(), "http" | "https") {
                return Err(Refusal::with(
                    "EINVAL",
                    format!("fetch supports http and https, not {}:", url.scheme()),
                ));
            }
            self.allowed(&url, None)?;
            let headers = self.headers_for(&url, &request.headers);
            let received = match &self.config.handler {
                Some(handler) => {
                    let request = HttpRequest {
                        method: method.clone(),
                        url: url.to_string(),
                        headers,
                        body: std::mem::take(&mut body),
                    };
                    let answer = handler(&request, context).map_err(|e| Refusal::with("EIO", e))?;
                    if answer.body.len() > self.config.max_response_bytes {
                        return Err(Refusal::with(
                            "EFBIG",
                            "the handler's response is too large",
                        ));
                    }
                    Received {
                        reason: reason(answer.status),
                        status: answer.status,
                        headers: answer.headers,
                        body: answer.body,
                    }
                }
                None => self.send(&url, &method, &headers, body.clone(), context)?,
            };
            let location = received
                .headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("location"))
                .map(|(_, value)| value.clone());
            let redirect = matches!(received.status, 301 | 302 | 303 | 307 | 308);
            match (redirect, location, redirects) {
                (true, Some(location), Redirects::Follow) => {
                    url = url.join(&location).map_err(|e| {
                        Refusal::with("EINVAL", format!("bad redirect {location:?}: {e}"))
                    })?;
                    if received.status == 303
                        || (matches!(received.status, 301 | 302) && method == "POST")
                    {
                        method = "GET".into();
                        body.clear();
                    }
                    redirected = true;
                }
                (true, Some(_), Redirects::Error) => {
                    return Err(Refusal::with(
                        "EREDIRECT",
                        format!("{url} redirects, and redirect is \"error\""),
                    ));
                }
                _ => {
                    return Ok(Fetched {
                        received,
                        url: url.to_string(),
                        redirected,
                    });
                }
            }
        }
        Err(Refusal::with(
            "ERR_TOO_MANY_REDIRECTS",
            format!("more than {MAX_REDIRECTS} redirects"),
        ))
    }
}

/// The policy's target for `url`: `scheme://host:port/path`, with `address`
/// in place of the host when the address is what is decided.
fn target(url: &Url, address: Option<IpAddr>) -> String {
    let host = match (address, url.host()) {
        (Some(IpAddr::V6(ip)), _) => format!("[{ip}]"),
        (Some(IpAddr::V4(ip)), _) => ip.to_string(),
        (None, Some(Host::Ipv6(ip))) => format!("[{ip}]"),
        (None, _) => url.host_str().unwrap_or_default().to_owned(),
    };
    let port = url.port_or_known_default().unwrap_or_default();
    format!("{}://{host}:{port}{}", url.scheme(), url.path())
}

fn reason(status: u16) -> String {
    hyper::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or_default()
        .to_owned()
}

impl Provider for Network {
    fn functions(&self) -> Vec<String> {
        vec!["fetch".into()]
    }

    fn call(
        &self,
        function: &str,
        args: &str,
        context: &CallContext<'_>,
    ) -> Result<String, HostCallError> {
        if function != "fetch" {
            return Err(HostCallError::Failed(format!(
                "polybox:net has no function {function:?}"
            )));
        }
        let (request,): (GuestRequest,) = serde_json::from_str(args)
            .map_err(|e| HostCallError::TypeMismatch(format!("polybox:net request: {e}")))?;
        Ok(answer(self.fetch(request, context)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_name_scheme_host_port_and_path() {
        let url = Url::parse("https://api.example.com/v1/items?q=1").unwrap();
        assert_eq!(target(&url, None), "https://api.example.com:443/v1/items");
        assert_eq!(
            target(&url, Some("10.0.0.1".parse().unwrap())),
            "https://10.0.0.1:443/v1/items"
        );
        let url = Url::parse("http://[::1]:8080/").unwrap();
        assert_eq!(target(&url, None), "http://[::1]:8080/");
    }
}
