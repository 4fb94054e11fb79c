//! `--metrics-port`: Polybox's metrics (sandboxes, calls, denials) and the
//! server's (requests by status, their durations) in Prometheus's text
//! format, from `metrics-exporter-prometheus`'s recorder, served on
//! loopback by the same kind of HTTP server.

use std::convert::Infallible;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Response, header};
use hyper_util::rt::TokioIo;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::failure::Failure;

/// Installs the recorder; returns the handle that renders its metrics.
pub fn install() -> Result<PrometheusHandle, Failure> {
    PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| Failure::Sandbox(polybox::Error::InvalidArg(format!("--metrics-port: {e}"))))
}

/// Serves `handle`'s metrics on `listener` until the process ends.
pub async fn serve(listener: TcpListener, handle: PrometheusHandle) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let handle = handle.clone();
        tokio::spawn(async move {
            let service = service_fn(move |_| {
                let body = handle.render();
                async move {
                    let mut response = Response::new(Full::new(Bytes::from(body)));
                    response.headers_mut().insert(
                        header::CONTENT_TYPE,
                        header::HeaderValue::from_static("text/plain; version=0.0.4"),
                    );
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
