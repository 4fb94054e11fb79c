//! `wasi:http/outgoing-handler` for user components: wasmtime-wasi-http
//! serves the interface, and every request it would send goes to the
//! sandbox's network capability instead, which decides and sends it as it
//! does a JavaScript guest's `fetch`: the same policy (each request, and
//! each address a name resolves to), the caller's handler, secrets filled in
//! on the way out, the same caps, and a stopped call cancelling its request.
//!
//! The request body is collected (up to the response cap) before it is
//! sent, and the response arrives whole: buffered, as `fetch` is. Redirects
//! are answered to the component, as a `wasi:http` client expects.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use crate::capability::Refusal;
use crate::capability::host_functions::CallContext;
use crate::capability::net::{HttpRequest, Network, Redirects};
use crate::monitor::InterruptState;

/// Where a component's requests go: the sandbox's network, if it has one.
pub(crate) struct Outgoing {
    pub network: Option<Arc<Network>>,
    pub interrupt: Arc<InterruptState>,
}

/// A future `send_request` hands back.
type Pending<T> = Box<dyn Future<Output = Result<T, Error>> + Send>;

impl WasiHttpHooks for Outgoing {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        _: Option<RequestOptions>,
        _: Pending<()>,
    ) -> Pending<(http::Response<WasiBody>, Pending<()>)> {
        let network = self.network.clone();
        let interrupt = self.interrupt.clone();
        Box::new(async move {
            let Some(network) = network else {
                return Err(Error::HttpRequestDenied);
            };
            let (parts, body) = request.into_parts();
            let limit = network.max_body_bytes();
            let body = Limited::new(body, limit)
                .collect()
                .await
                .map_err(|_| Error::HttpRequestBodySize(Some(limit as u64)))?
                .to_bytes();
            let headers = parts
                .headers
                .iter()
                .map(|(name, value)| {
                    let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                    (name.as_str().to_owned(), value)
                })
                .collect();
            let request = HttpRequest {
                method: parts.method.to_string(),
                url: parts.uri.to_string(),
                headers,
                body: body.to_vec(),
            };
            // The network blocks (on its own runtime): off this one's
            // threads.
            let fetched = tokio::task::spawn_blocking(move || {
                network.exchange(request, Redirects::Manual, &CallContext::new(&interrupt))
            })
            .await
            .map_err(|e| Error::InternalError(Some(e.to_string())))?
            .map_err(error)?;
            let received = fetched.received;
            let mut response = http::Response::builder().status(received.status);
            for (name, value) in &received.headers {
                response = response.header(name, value);
            }
            let body = Full::new(Bytes::from(received.body))
                .map_err(|never| match never {})
                .boxed_unsync();
            let response = response
                .body(body)
                .map_err(|e| Error::InternalError(Some(e.to_string())))?;
            Ok((response, Box::new(async { Ok(()) }) as Pending<()>))
        })
    }
}

/// The `wasi:http` error for a refused or failed request.
fn error(refusal: Refusal) -> Error {
    match refusal.code {
        "EACCES" => Error::HttpRequestDenied,
        "ENOTFOUND" => Error::DnsError {
            rcode: None,
            info_code: None,
        },
        "ECONNREFUSED" => Error::ConnectionRefused,
        "ENETUNREACH" => Error::DestinationUnavailable,
        "ETIMEDOUT" => Error::ConnectionTimeout,
        "EFBIG" => Error::HttpResponseBodySize(None),
        "EINVAL" => Error::HttpRequestUriInvalid,
        _ => Error::InternalError(Some(match refusal.detail {
            Some(detail) => format!("{}: {detail}", refusal.code),
            None => refusal.code.to_owned(),
        })),
    }
}
