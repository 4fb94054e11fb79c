//! The JSON form in which a request reaches a guest's `fetch` handler and
//! its response comes back (see the guest's `builtins/serving.js`): the
//! request is the handler's event, `{method, url, headers}`, the response
//! its result, `{status, statusText, headers}`; headers as `[name, value]`
//! pairs; a body as `text` when it is UTF-8 (no encoding either way, and
//! the guest's `Response` keeps a string body as it is), else as `body` in
//! base64; neither for none.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use super::{HttpRequest, HttpResponse};
use crate::error::{Error, GuestError, GuestErrorKind, Result};

#[derive(Serialize)]
struct Event<'a> {
    method: &'a str,
    url: &'a str,
    headers: &'a [(String, String)],
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
}

/// A request event as a component host reads it.
#[derive(Deserialize)]
struct Incoming {
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    body: Option<String>,
}

/// A response as a component host writes it.
#[derive(Serialize)]
struct Outgoing<'a> {
    status: u16,
    headers: &'a [(String, String)],
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
}

#[derive(Deserialize)]
struct Answer {
    status: u16,
    #[serde(default)]
    headers: Vec<(String, String)>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    body: Option<String>,
}

/// `request` as the event of a `fetch` handler.
pub(crate) fn request_event(request: &HttpRequest) -> String {
    request_json(request).to_string()
}

/// `request` in its JSON form, as a value to add to.
pub(crate) fn request_json(request: &HttpRequest) -> serde_json::Value {
    let (text, body) = match std::str::from_utf8(&request.body) {
        _ if request.body.is_empty() => (None, None),
        Ok(text) => (Some(text), None),
        Err(_) => (None, Some(BASE64.encode(&request.body))),
    };
    let event = Event {
        method: &request.method,
        url: &request.url,
        headers: &request.headers,
        text,
        body,
    };
    serde_json::to_value(&event).expect("a request always has a JSON form")
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
    let answer: Answer = serde_json::from_str(result).map_err(|e| not_a_response(e.to_string()))?;
    if !(100..=999).contains(&answer.status) {
        return Err(not_a_response(format!(
            "status {} is not a valid status code",
            answer.status
        )));
    }
    let body = match (answer.text, answer.body) {
        (Some(text), _) => text.into_bytes(),
        (None, Some(base64)) => BASE64
            .decode(base64)
            .map_err(|_| not_a_response("its body is not base64".into()))?,
        (None, None) => Vec::new(),
    };
    Ok(HttpResponse {
        status: answer.status,
        headers: answer.headers,
        body,
    })
}

/// The request in a `fetch` handler's event, for handlers the host itself
/// runs (components in the `wasi:http/proxy` world); the reason when it is
/// not one.
pub(crate) fn request_from(event: &str) -> std::result::Result<HttpRequest, String> {
    let incoming: Incoming =
        serde_json::from_str(event).map_err(|e| format!("the event is not a request: {e}"))?;
    let body = match (incoming.text, incoming.body) {
        (Some(text), _) => text.into_bytes(),
        (None, Some(base64)) => BASE64
            .decode(base64)
            .map_err(|_| "the request's body is not base64".to_owned())?,
        (None, None) => Vec::new(),
    };
    Ok(HttpRequest {
        method: incoming.method,
        url: incoming.url,
        headers: incoming.headers,
        body,
    })
}

/// `response` as a `fetch` handler's result.
pub(crate) fn response_json(response: &HttpResponse) -> String {
    let (text, body) = match std::str::from_utf8(&response.body) {
        Ok(text) => (Some(text), None),
        Err(_) => (None, Some(BASE64.encode(&response.body))),
    };
    let outgoing = Outgoing {
        status: response.status,
        headers: &response.headers,
        text,
        body,
    };
    serde_json::to_string(&outgoing).expect("a response always has a JSON form")
}
