//! [`Network`]: one sandbox's requests, served to guests as the internal
//! module `polybox:net`.
//!
//! `fetch` takes one argument, the request (`url`, `method`, `headers` as
//! pairs, `redirect`, `body` in base64 or null), and answers `{"ok":
//! {status, statusText, headers, url, redirected, body}}` or `{"err":
//! {code, detail}}`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use super::address::is_internal;
use super::client::{self, Received};
use super::{HttpRequest, NetConfig};
use crate::capability::host_functions::CallContext;
use crate::capability::{HostCallError, Provider, Refusal, answer};
use crate::permissions::{Mode, NetPattern, NetTarget, Permissions, Rule, ScopeName, TargetHost};

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
    implied: Vec<Rule<NetPattern>>,
    sandbox: u64,
}

impl Network {
    /// Requests under `permissions`, made as `config` says.
    pub fn new(config: NetConfig, permissions: Arc<Permissions>, sandbox: u64) -> Self {
        let implied = match config.handler {
            Some(_) => permissions.implied_by_registration(ScopeName::Network),
            None => Vec::new(),
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

    /// The policy's verdict on fetching `target` (or `target` at
    /// `address`, the address its host name resolved to).
    fn allowed(&self, target: &NetTarget, address: Option<IpAddr>) -> Result<(), Refusal> {
        let at;
        let decided = match address {
            Some(ip) => {
                at = target.at(ip);
                &at
            }
            None => target,
        };
        match self
            .permissions
            .decide_request("fetch", decided, &self.implied)
        {
            Mode::Allow => Ok(()),
            Mode::Deny => {
                let shown = decided.to_string();
                crate::metrics::denial(self.sandbox, ScopeName::Network, "fetch", &shown);
                let why = match address {
                    Some(ip) => format!(
                        "{} resolves to {ip}, which the sandbox's permissions do not grant",
                        target.host()
                    ),
                    None => format!("the sandbox's permissions deny {shown}"),
                };
                Err(Refusal::with("EACCES", why))
            }
        }
    }

    /// The guest's headers for a hop to `target`: the host's own left out,
    /// secrets put in where its host may have them.
    fn headers_for(
        &self,
        target: &NetTarget,
        headers: &[(String, String)],
    ) -> Vec<(String, String)> {
        headers
            .iter()
            .filter(|(name, _)| !HOST_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
            .map(|(name, value)| {
                let mut value = value.clone();
                for secret in &self.config.secrets {
                    if value.contains(&secret.placeholder)
                        && secret.hosts.iter().any(|host| host.covers(target.host()))
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
        target: &NetTarget,
        method: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        context: &CallContext<'_>,
    ) -> Result<Received, Refusal> {
        let port = target.port();
        let runtime = client::runtime()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let _on_stop = context.on_stop(move || {
            let _ = stop.send(());
        });
        let work = async {
            // A name under `localhost` is loopback by definition (RFC 6761):
            // it is never looked up, and the user who granted it granted
            // loopback. Any other name's internal addresses need a grant.
            let (addresses, named_local) = match target.host() {
                TargetHost::Addr(ip) => (vec![SocketAddr::new(*ip, port)], false),
                TargetHost::Name(name) if is_localhost(name) => (
                    vec![
                        SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port),
                        SocketAddr::new(Ipv6Addr::LOCALHOST.into(), port),
                    ],
                    true,
                ),
                TargetHost::Name(name) => (client::resolve(name, port).await?, false),
            };
            let mut denied = None;
            for address in addresses {
                if !named_local
                    && is_internal(address.ip())
                    && let Err(error) = self.allowed(target, Some(address.ip()))
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
            let target = NetTarget::of(&url).map_err(|why| Refusal::with("EINVAL", why))?;
            self.allowed(&target, None)?;
            let headers = self.headers_for(&target, &request.headers);
            let received = match &self.config.handler {
                Some(handler) => {
                    let request = HttpRequest {
                        method: method.clone(),
                        url: url.to_string(),
                        headers,
                        // Kept: a 307 or 308 sends it again.
                        body: body.clone(),
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
                None => self.send(&url, &target, &method, &headers, body.clone(), context)?,
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

/// Whether `name` is `localhost` or a name under it, which always means
/// this machine's loopback.
fn is_localhost(name: &str) -> bool {
    name == "localhost" || name.ends_with(".localhost")
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
