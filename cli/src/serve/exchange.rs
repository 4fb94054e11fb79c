//! One request through `polybox serve`: admitted (a place among the
//! pool and the queue) before its body is read, read within the caps,
//! answered by a sandbox of the pool, the answer or the failure turned into
//! a response, and a line in the access log.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body as _, Bytes, Incoming};
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use polybox::{ErrorCode, HttpRequest, HttpResponse};
use tokio::sync::Semaphore;

use super::app::App;

/// Headers that belong to one connection, which the server sets itself.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "content-length",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// What every request shares.
pub struct Exchange {
    pub app: App,
    /// One permit per sandbox: a request holding one gets a sandbox at once.
    pub sandboxes: Semaphore,
    /// One permit per request that may be in the server at once (the pool
    /// and the queue), taken before the body is read: bodies in memory are
    /// at most that many times `max_body_bytes`, however many clients send.
    pub admitted: Semaphore,
    pub max_body_bytes: usize,
    pub body_timeout: Duration,
    pub access_log: bool,
}

impl Exchange {
    /// Answers `request` from `peer`; never fails (a failure is a response).
    pub async fn serve(
        self: Arc<Self>,
        peer: SocketAddr,
        local: SocketAddr,
        request: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
        let started = Instant::now();
        let line = format!(
            "{} {} {:?}",
            request.method(),
            request.uri(),
            request.version()
        );
        let (response, why) = match self.answer(local, request).await {
            Ok(response) => (response, None),
            Err((status, why)) => (failure(status), Some(why)),
        };
        let status = response.status().as_u16();
        metrics::counter!("polybox_http_requests_total", "status" => status.to_string())
            .increment(1);
        metrics::histogram!("polybox_http_request_seconds").record(started.elapsed());
        if self.access_log {
            // One line per request; a failure's reason on it (its first
            // line: a guest's stack stays out of the log).
            // Control characters escaped: a guest's message cannot forge
            // a line or send escape codes to the reader's terminal.
            let why = why
                .as_deref()
                .and_then(|why| why.lines().next())
                .map(|why| format!(" ({})", escaped(why)))
                .unwrap_or_default();
            eprintln!(
                "{peer} \"{line}\" {status} {} {:.3}ms{why}",
                response.body().size_hint().exact().unwrap_or(0),
                started.elapsed().as_secs_f64() * 1e3
            );
        }
        Ok(response)
    }

    async fn answer(
        &self,
        local: SocketAddr,
        request: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, (StatusCode, String)> {
        let _admitted = self.admitted.try_acquire().map_err(|_| {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "every sandbox is busy and the queue is full".to_owned(),
            )
        })?;
        let request = self.read(local, request).await?;
        let permit = self
            .sandboxes
            .acquire()
            .await
            .map_err(|_| (StatusCode::SERVICE_UNAVAILABLE, "shutting down".to_owned()))?;
        // The call runs on this worker thread, which hands its other tasks
        // to another thread meanwhile: no thread hop per request (a hop to
        // a blocking thread and back cost a quarter of the throughput),
        // and no connection waits behind a long call.
        let answered = tokio::task::block_in_place(|| {
            let _permit = permit;
            self.app.answer(&request)
        });
        match answered {
            Ok(response) if !(200..=599).contains(&response.status) => Err((
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "the app answered status {}; a response's status is 200 to 599",
                    response.status
                ),
            )),
            Ok(response) => Ok(response_from(response)),
            // The pool has restored a stopped sandbox already: the
            // crate's hint to do it is not the server's reader's.
            Err(error) => Err((
                status_for(error.code()),
                error
                    .to_string()
                    .split("; the sandbox is poisoned")
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            )),
        }
    }

    /// The request as the sandbox takes it: the body read within its cap
    /// and time, the URL made absolute.
    async fn read(
        &self,
        local: SocketAddr,
        request: Request<Incoming>,
    ) -> Result<HttpRequest, (StatusCode, String)> {
        let too_large = || {
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is over {} bytes", self.max_body_bytes),
            )
        };
        let (parts, body) = request.into_parts();
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_body_bytes as u64) {
            return Err(too_large());
        }
        let collected = tokio::time::timeout(
            self.body_timeout,
            Limited::new(body, self.max_body_bytes).collect(),
        )
        .await
        .map_err(|_| {
            (
                StatusCode::REQUEST_TIMEOUT,
                "the body did not arrive in time".into(),
            )
        })?;
        let body = match collected {
            Ok(collected) => collected.to_bytes(),
            Err(error) if error.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
            Err(error) => return Err((StatusCode::BAD_REQUEST, error.to_string())),
        };
        let authority = parts
            .headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok())
            .and_then(|host| host.parse::<hyper::http::uri::Authority>().ok())
            .map_or_else(|| local.to_string(), |a| a.to_string());
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let headers = parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        Ok(HttpRequest {
            method: parts.method.as_str().to_owned(),
            url: format!("http://{authority}{path}"),
            headers,
            body: body.to_vec(),
        })
    }
}

/// `text` with its control characters escaped (`\n`, `\u{1b}`).
fn escaped(text: &str) -> String {
    text.chars()
        .flat_map(|c| -> Box<dyn Iterator<Item = char>> {
            if c.is_control() {
                Box::new(c.escape_default())
            } else {
                Box::new(std::iter::once(c))
            }
        })
        .collect()
}

/// The status a failed request gets: 504 when a limit stopped it or a
/// program did not answer in time, 502 when a program's server went away,
/// 503 when no sandbox was free, else 500.
fn status_for(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Cancelled | ErrorCode::Timeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorCode::ConnectionReset | ErrorCode::ConnectionRefused => StatusCode::BAD_GATEWAY,
        ErrorCode::Busy => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A response with `status` and its reason as the body.
pub fn failure(status: StatusCode) -> Response<Full<Bytes>> {
    let body = format!(
        "{} {}\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or_default()
    );
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// The sandbox's response on the wire; headers that are not valid HTTP,
/// or that belong to the connection, are left out.
fn response_from(answer: HttpResponse) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in answer.headers {
        if HOP_BY_HOP.contains(&name.to_ascii_lowercase().as_str()) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::escaped;

    #[test]
    fn control_characters_are_escaped_for_the_log() {
        assert_eq!(escaped("a\u{1b}[2Jb\rc"), "a\\u{1b}[2Jb\\rc");
        assert_eq!(escaped("plain text: ok"), "plain text: ok");
    }
}
