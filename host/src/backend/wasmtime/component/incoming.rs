//! Requests to a component in the `wasi:http/proxy` world (as Spin and
//! `wasmtime serve` run them), through wasmtime-wasi-http's
//! `incoming-handler`: the request, in the JSON form every `fetch` handler
//! takes (`http/wire.rs`), becomes an `incoming-request`; the response the
//! component sets is read, whole, into the same form. The body is read on
//! a thread of its own while the component writes it, so a component may
//! write any number of chunks; reading stops at the output buffer's size.

use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use wasmtime::Store;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode as HttpErrorCode, Scheme};
use wasmtime_wasi_http::p2::bindings::sync::Proxy;

use super::state::AuthorState;
use crate::backend::wasmtime::bindings::{ErrorKind, GuestReport};
use crate::error::Result;
use crate::http::{self, HttpResponse};

/// How long the body may take to end once the component returned.
const BODY_GRACE: Duration = Duration::from_secs(5);

/// What one request gives: its response in JSON, or the component's
/// failure; the outer `Err` a trap.
type Answer = wasmtime::Result<std::result::Result<String, GuestReport>>;

fn report(kind: ErrorKind, message: impl Into<String>) -> GuestReport {
    GuestReport {
        kind,
        message: message.into(),
        stack: None,
    }
}

/// Serves `event` (a request) with `proxy`; `max_body` bounds the
/// response's body.
pub(super) fn serve(
    store: &mut Store<AuthorState>,
    proxy: &Proxy,
    event: &str,
    max_body: usize,
) -> Result<Answer> {
    let request = match http::request_from(event).and_then(|request| {
        let mut built = hyper::Request::builder()
            .method(request.method.as_str())
            .uri(request.url.as_str());
        for (name, value) in &request.headers {
            built = built.header(name, value);
        }
        built
            .body(
                Full::new(Bytes::from(request.body))
                    .map_err(|never| -> wasmtime_wasi_http::Error { match never {} }),
            )
            .map_err(|e| format!("the request cannot be made: {e}"))
    }) {
        Ok(request) => request,
        Err(message) => return Ok(Ok(Err(report(ErrorKind::InvalidEvent, message)))),
    };
    // The response, once set, is read on its own thread.
    let (answered, answer) = mpsc::sync_channel(1);
    let set = move |response: std::result::Result<hyper::Response<_>, HttpErrorCode>| {
        let reply = answered;
        match response {
            Err(code) => {
                let _ = reply.send(Err(format!(
                    "the component answered with the error {code:?}"
                )));
            }
            Ok(response) => {
                std::thread::spawn(move || {
                    let (parts, body) = response.into_parts();
                    let body =
                        wasmtime_wasi::runtime::in_tokio(Limited::new(body, max_body).collect());
                    let read = body
                        .map(|collected| HttpResponse {
                            status: parts.status.as_u16(),
                            headers: parts
                                .headers
                                .iter()
                                .map(|(name, value)| {
                                    (
                                        name.as_str().to_owned(),
                                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                                    )
                                })
                                .collect(),
                            body: collected.to_bytes().to_vec(),
                        })
                        .map_err(|e| format!("the response's body could not be read: {e}"));
                    let _ = reply.send(read);
                });
            }
        }
    };
    let (incoming, outparam) = {
        let mut view = store.data_mut().http();
        let incoming = match view.new_incoming_request(Scheme::Http, request) {
            Ok(incoming) => incoming,
            Err(error) => {
                return Ok(Ok(Err(report(
                    ErrorKind::InvalidEvent,
                    format!("{error:#}"),
                ))));
            }
        };
        match view.new_response_outparam_from_callback(set) {
            Ok(outparam) => (incoming, outparam),
            Err(trap) => return Ok(Err(trap)),
        }
    };
    let meter = store.data().meter().clone();
    let called = meter.enter(store, |store| {
        proxy
            .wasi_http_incoming_handler()
            .call_handle(store, incoming, outparam)
    })?;
    if let Err(trap) = called {
        return Ok(Err(trap));
    }
    Ok(Ok(match answer.recv_timeout(BODY_GRACE) {
        Ok(Ok(response)) => Ok(http::response_json(&response)),
        Ok(Err(message)) => Err(report(ErrorKind::Exception, message)),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(report(
            ErrorKind::Exception,
            "the component returned without setting a response",
        )),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(report(
            ErrorKind::Exception,
            "the component returned without finishing its response's body",
        )),
    }))
}
