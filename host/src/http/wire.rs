//! The JSON form in which a request reaches a guest's `fetch` handler and
//! its response comes back (see the guest's `builtins/serving.js`): the
//! request is the handler's event, `{method, url, headers, body}`, the
//! response its result, `{status, statusText, headers, body}`; headers as
//! `[name, value]` pairs, bodies in base64 (null for none).

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
    body: Option<String>,
}

#[derive(Deserialize)]
struct Answer {
    status: u16,
    #[serde(default)]
    headers: Vec<(String, String)>,
    #[serde(default)]
    body: Option<String>,
}

/// `request` as the event of a `fetch` handler.
pub(crate) fn request_event(request: &HttpRequest) -> String {
    let body = (!request.body.is_empty()).then(|| BASE64.encode(&request.body));
    let event = Event {
        method: &request.method,
        url: &request.url,
        headers: &request.headers,
        body,
    };
    serde_json::to_string(&event).expect("a request always has a JSON form")
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
    let body = match answer.body {
        Some(text) => BASE64
            .decode(text)
            .map_err(|_| not_a_response("its body is not base64".into()))?,
        None => Vec::new(),
    };
    Ok(HttpResponse {
        status: answer.status,
        headers: answer.headers,
        body,
    })
}
