//! HTTP messages between JavaScript and a sandbox, as the addon passes
//! them: a request from its parts, a response as `{ status, headers,
//! body }` (`lib.js` and `node-runtime.js` make them web or secure-exec
//! shapes).

use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use polybox::{HttpRequest, HttpResponse};

use crate::error::{Result, invalid_arg};

/// A request from its parts; headers as `[name, value]` pairs.
pub fn request(
    method: String,
    url: String,
    headers: Vec<Vec<String>>,
    body: &[u8],
) -> Result<HttpRequest> {
    let mut request = HttpRequest::new(method, url);
    for pair in headers {
        let [name, value]: [String; 2] = pair
            .try_into()
            .map_err(|_| invalid_arg("headers must be [name, value] pairs"))?;
        request = request.header(&name, value);
    }
    Ok(request.body(body.to_vec()))
}

/// The answer `NodeRuntime.fetch` resolves to.
#[napi(object)]
pub struct FetchResponse {
    pub status: u32,
    pub headers: Vec<Vec<String>>,
    pub body: Buffer,
}

impl From<HttpResponse> for FetchResponse {
    fn from(response: HttpResponse) -> Self {
        Self {
            status: u32::from(response.status),
            headers: response
                .headers
                .into_iter()
                .map(|(name, value)| vec![name, value])
                .collect(),
            body: response.body.into(),
        }
    }
}
