//! Sending one request over the network: HTTP/1.1 with hyper, TLS with
//! rustls and the Mozilla roots (`webpki-roots`), to an address the caller
//! has already checked, on a small runtime of its own.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::runtime::Runtime;
use url::Url;

use crate::capability::Refusal;

/// One hop of a request, as it goes out.
pub struct Outgoing<'a> {
    pub url: &'a Url,
    pub method: &'a str,
    pub headers: &'a [(String, String)],
    pub body: Vec<u8>,
}

/// What came back.
pub struct Received {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The runtime requests run on, started with the first request.
pub fn runtime() -> Result<&'static Runtime, Refusal> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("polybox-net")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Refusal::with("EIO", format!("cannot start the network runtime: {e}")))
}

/// The addresses `host` resolves to, on `port`.
pub async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, Refusal> {
    let found: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| Refusal::with("ENOTFOUND", format!("cannot resolve {host}: {e}")))?
        .collect();
    if found.is_empty() {
        return Err(Refusal::with("ENOTFOUND", format!("{host} has no address")));
    }
    Ok(found)
}

fn tls() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots =
                rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            Arc::new(
                rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .expect("ring supports the default TLS versions")
                    .with_root_certificates(roots)
                    .with_no_client_auth(),
            )
        })
        .clone()
}

/// Sends `request` to `address`, reading at most `max_body` bytes of the
/// response, within `timeout`.
pub async fn send(
    address: SocketAddr,
    request: Outgoing<'_>,
    max_body: usize,
    timeout: Duration,
) -> Result<Received, Refusal> {
    let url = request.url;
    tokio::time::timeout(timeout, exchange(address, request, max_body))
        .await
        .map_err(|_| {
            Refusal::with(
                "ETIMEDOUT",
                format!("no response from {url} within {timeout:?}"),
            )
        })?
}

async fn exchange(
    address: SocketAddr,
    request: Outgoing<'_>,
    max_body: usize,
) -> Result<Received, Refusal> {
    let url = request.url;
    let stream = TcpStream::connect(address).await.map_err(|e| {
        use std::io::ErrorKind as K;
        let code = match e.kind() {
            K::ConnectionRefused => "ECONNREFUSED",
            K::TimedOut => "ETIMEDOUT",
            K::NetworkUnreachable => "ENETUNREACH",
            K::HostUnreachable => "EHOSTUNREACH",
            K::AddrNotAvailable => "EADDRNOTAVAIL",
            _ => "ECONNRESET",
        };
        Refusal::with(code, format!("cannot connect to {address}: {e}"))
    })?;
    let host = url.host_str().unwrap_or_default().to_owned();
    if url.scheme() == "https" {
        let name =
            rustls::pki_types::ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
                .map_err(|e| {
                    Refusal::with("EINVAL", format!("{host} is not a TLS server name: {e}"))
                })?;
        let stream = tokio_rustls::TlsConnector::from(tls())
            .connect(name, stream)
            .await
            .map_err(|e| Refusal::with("EPROTO", format!("TLS with {host} failed: {e}")))?;
        over(stream, request, max_body).await
    } else {
        over(stream, request, max_body).await
    }
}

async fn over<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    stream: S,
    Outgoing {
        url,
        method,
        headers,
        body,
    }: Outgoing<'_>,
    max_body: usize,
) -> Result<Received, Refusal> {
    let protocol =
        |e: hyper::Error| Refusal::with("EPROTO", format!("HTTP with {url} failed: {e}"));
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(protocol)?;
    tokio::spawn(connection);
    let authority = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    };
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    let mut request = Request::builder()
        .method(method)
        .uri(target)
        .header(hyper::header::HOST, authority);
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = request
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| Refusal::with("EINVAL", format!("invalid request: {e}")))?;
    let response = sender.send_request(request).await.map_err(protocol)?;
    let status = response.status();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = Limited::new(response.into_body(), max_body)
        .collect()
        .await
        .map_err(|e| match e.downcast::<http_body_util::LengthLimitError>() {
            Ok(_) => Refusal::with(
                "EFBIG",
                format!("the response from {url} is larger than {max_body} bytes"),
            ),
            Err(e) => Refusal::with(
                "EPROTO",
                format!("reading the response from {url} failed: {e}"),
            ),
        })?
        .to_bytes()
        .to_vec();
    Ok(Received {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or_default().to_owned(),
        headers,
        body,
    })
}
