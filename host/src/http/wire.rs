//! The JSON form in which a request reaches a `fetch` handler and its
//! response comes back (see the guest's `builtins/serving.js`, and
//! `backend/wasmtime/component/incoming.rs` for components): the request is
//! the handler's event, `{method, url, headers}`, the response its result,
//! `{status, statusText, headers}`; headers as `[name, value]` pairs; a
//! body as `text` when it is UTF-8 (no encoding either way, and the guest's
//! `Response` keeps a string body as it is), else as `body` in base64;
//! neither for none. Both directions use the same two shapes.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use super::{HttpRequest, HttpResponse};
use crate::error::{Error, GuestError, GuestErrorKind, Result};

/// A body: as text when it is UTF-8, else in base64.
#[derive(Default, Serialize, Deserialize)]
struct Body<'a> {
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<String>,
}

impl<'a> Body<'a> {
    fn of(bytes: &'a [u8]) -> Self {
        match std::str::from_utf8(bytes) {
            _ if bytes.is_empty() => Self::default(),
            Ok(text) => Self {
                text: Some(Cow::Borrowed(text)),
                body: None,
            },
            Err(_) => Self {
                text: None,
                body: Some(BASE64.encode(bytes)),
            },
        }
    }

    fn bytes(self) -> std::result::Result<Vec<u8>, &'static str> {
        match (self.text, self.body) {
            (Some(text), _) => Ok(text.into_owned().into_bytes()),
            (None, Some(base64)) => BASE64.decode(base64).map_err(|_| "its body is not base64"),
            (None, None) => Ok(Vec::new()),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Request<'a> {
    #[serde(borrow)]
    method: Cow<'a, str>,
    #[serde(borrow)]
    url: Cow<'a, str>,
    #[serde(default)]
    headers: Cow<'a, [(String, String)]>,
    #[serde(flatten, borrow)]
    body: Body<'a>,
}

#[derive(Serialize, Deserialize)]
struct Response<'a> {
    status: u16,
    #[serde(default)]
    headers: Cow<'a, [(String, String)]>,
    #[serde(flatten, borrow)]
    body: Body<'a>,
}

/// `request` as the event of a `fetch` handler.
pub(crate) fn request_event(request: &HttpRequest) -> String {
    serde_json::to_string(&request_form(request)).expect("a request always has a JSON form")
}

/// `request` in its JSON form, as a value to add to.
pub(crate) fn request_json(request: &HttpRequest) -> serde_json::Value {
    serde_json::to_value(request_form(request)).expect("a request always has a JSON form")
}

fn request_form(request: &HttpRequest) -> Request<'_> {
    Request {
        method: Cow::Borrowed(&request.method),
        url: Cow::Borrowed(&request.url),
        headers: Cow::Borrowed(&request.headers),
        body: Body::of(&request.body),
    }
}

/// The request in a `fetch` handler's event, for handlers the host itself
/// runs (components in the `wasi:http/proxy` world); the reason when it is
/// not one.
pub(crate) fn request_from(event: &str) -> std::result::Result<HttpRequest, String> {
    let request: Request<'_> =
        serde_json::from_str(event).map_err(|e| format!("the event is not a request: {e}"))?;
    Ok(HttpRequest {
        method: request.method.into_owned(),
        url: request.url.into_owned(),
        headers: request.headers.into_owned(),
        body: request
            .body
            .bytes()
            .map_err(|why| format!("the request is not valid: {why}"))?,
    })
}

/// `response` as a `fetch` handler's result.
pub(crate) fn response_json(response: &HttpResponse) -> String {
    let form = Response {
        status: response.status,
        headers: Cow::Borrowed(&response.headers),
        body: Body::of(&response.body),
    };
    serde_json::to_string(&form).expect("a response always has a JSON form")
}

/// The response in a `fetch` handler's result; a result that is not one is
/// the guest's failure.
pub(crate) fn response_from(result: &str) -> Result<HttpResponse> {
    let not_a_response = |detail: String| {
        Error::Guest(GuestError {
            kind: GuestErrorKind::UnserializableResult,
            message: format!("the handler's result is not an HTTP response: {detail}"),
            stack: None,
        })
    };
    let response: Response<'_> =
        serde_json::from_str(result).map_err(|e| not_a_response(e.to_string()))?;
    if !(100..=999).contains(&response.status) {
        return Err(not_a_response(format!(
            "status {} is not a valid status code",
            response.status
        )));
    }
    Ok(HttpResponse {
        status: response.status,
        headers: response.headers.into_owned(),
        body: response
            .body
            .bytes()
            .map_err(|why| not_a_response(why.into()))?,
    })
}
