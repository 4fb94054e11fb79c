//! The network capability: outgoing HTTP requests (`fetch`), denied until
//! granted.
//!
//! # Why the host sends every request
//!
//! A guest has no sockets. Its `fetch` hands the whole request to the host
//! (the internal module `polybox:net`, `provider.rs`), which decides it by
//! the sandbox's [`Permissions`](crate::permissions::Permissions) (the
//! `network` scope, operation `fetch`, the parts of the parsed URL: see
//! [`NetPattern`](crate::permissions::NetPattern)),
//! then either hands it to the caller's [`HttpHandler`] (no network at all)
//! or sends it itself (`client.rs`). Deciding on the host means:
//!
//! - **redirects** are followed by the host, and each hop is decided
//!   again: a redirect cannot lead to a host the policy denies;
//! - **no SSRF through DNS**: a host name is decided as written, and every
//!   address it resolves to that is private, loopback, link-local or
//!   otherwise not public (`address.rs`) must be allowed by the policy as
//!   well (a rule naming that address or its network); the connection goes
//!   to the address that was checked, so a second lookup cannot change it.
//!   `localhost` and names under it are the exception: they are never
//!   looked up and always mean loopback, which granting them grants;
//! - **secrets the guest never sees**: a [`Secret`] binds a placeholder
//!   (`{{API_KEY}}`) to a value for some hosts; the host puts the value into
//!   request headers only on the way out, only to those hosts;
//! - responses are capped in size and time, and a stopped call stops its
//!   request at once.
//!
//! A denial is a rejected `fetch` (`TypeError`, `cause.code` `EACCES`), a
//! `capability_denials_total` metric and a log line.

mod address;
mod client;
mod provider;

use std::sync::Arc;
use std::time::Duration;

use super::host_functions::CallContext;
use super::{Capability, Installer};
use crate::error::Result;
pub use crate::http::{HttpRequest, HttpResponse};
use crate::permissions::HostPattern;

pub(crate) use provider::{Network, Redirects};

/// The specifier guests send requests through.
pub(crate) const SPECIFIER: &str = "polybox:net";

/// The largest response body by default: 16 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// How long one request (each hop of it) may take by default.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Answers a sandbox's requests instead of the network (isola's `http`
/// handler): it sees every request the policy allows, and its answer is the
/// response (an `Err` rejects the guest's `fetch` with its message). With
/// a handler and no `network` scope in the policy, every request reaches
/// the handler.
pub trait HttpHandler: Send + Sync {
    /// Answers `request`.
    fn handle(&self, request: &HttpRequest) -> std::result::Result<HttpResponse, String>;
}

impl<F> HttpHandler for F
where
    F: Fn(&HttpRequest) -> std::result::Result<HttpResponse, String> + Send + Sync,
{
    fn handle(&self, request: &HttpRequest) -> std::result::Result<HttpResponse, String> {
        self(request)
    }
}

/// A secret the guest never sees: requests to `hosts` get `value` wherever
/// `placeholder` appears in a header value. Hosts are decided as network
/// rules' hosts are, on the request's parsed host: `api.example.com` is
/// never `api.example.com.evil.net` nor a URL that spells it in its path.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    /// What the guest writes, e.g. `{{API_KEY}}`.
    pub placeholder: String,
    /// What the host sends instead.
    pub value: String,
    /// The hosts it is sent to ([`HostPattern::parse`] reads them from
    /// text).
    pub hosts: Vec<HostPattern>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret")
            .field("placeholder", &self.placeholder)
            .field("hosts", &self.hosts)
            .finish_non_exhaustive()
    }
}

/// How a sandbox's requests are made, as the builder collects it.
#[derive(Clone)]
pub(crate) struct NetConfig {
    pub handler: Option<Handler>,
    pub secrets: Vec<Secret>,
    pub max_response_bytes: usize,
    pub timeout: Duration,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            handler: None,
            secrets: Vec::new(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

impl std::fmt::Debug for NetConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetConfig")
            .field("handler", &self.handler.is_some())
            .field("secrets", &self.secrets)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A handler as the network calls it: with the call it serves, so that a
/// handler that waits (for Node.js, say) can give up when the call stops.
pub(crate) type Handler = Arc<
    dyn Fn(&HttpRequest, &CallContext<'_>) -> std::result::Result<HttpResponse, String>
        + Send
        + Sync,
>;

/// Serves a sandbox's requests to its guests as `polybox:net`.
pub(crate) struct NetCapability(pub Arc<Network>);

impl Capability for NetCapability {
    fn install(&self, sandbox: &mut Installer<'_>) -> Result<()> {
        sandbox
            .components
            .grant(super::ComponentGrant::Network(self.0.clone()));
        sandbox.dispatcher.serve_internal(SPECIFIER, self.0.clone())
    }
}
