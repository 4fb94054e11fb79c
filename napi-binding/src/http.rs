//! isola's `http` option of `NodeRuntime.create`: a JavaScript function
//! that answers the guests' requests instead of the network. It runs on the
//! main thread through the host functions' invoker (`host_functions.rs`):
//! the guest's `fetch` waits for it, or for its call to be stopped. The
//! sandbox's `network` policy still decides which requests reach it.
//!
//! A request crosses as `[{ method, url, headers: [[name, value]], body }]`
//! (the body base64, or null when empty), the reply as `{ status, headers,
//! body }` in the same form (`capabilities.js` builds both sides).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use polybox::{CallContext, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::host_functions::{self, Invoker};

/// The JSON of a handler's response.
#[derive(Deserialize)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

/// The handler behind `invoke`, as a sandbox takes it.
pub fn handler(
    invoke: Invoker,
) -> impl Fn(&HttpRequest, &CallContext<'_>) -> Result<HttpResponse, String> + Send + Sync + 'static
{
    let call = host_functions::raw(invoke);
    move |request, context| {
        let body = (!request.body.is_empty()).then(|| BASE64.encode(&request.body));
        let args = json!([{
            "method": request.method,
            "url": request.url,
            "headers": request.headers,
            "body": body,
        }]);
        let reply = call(&args.to_string(), context)?;
        let reply: Reply = serde_json::from_str(&reply)
            .map_err(|e| format!("the http handler's response is malformed: {e}"))?;
        let body = match reply.body {
            Some(text) => BASE64
                .decode(text)
                .map_err(|_| "the http handler's body is not base64".to_owned())?,
            None => Vec::new(),
        };
        Ok(HttpResponse {
            status: reply.status,
            headers: reply.headers,
            body,
        })
    }
}
