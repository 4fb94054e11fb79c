//! A component in the `wasi:http/proxy` world, as Spin and `wasmtime
//! serve` run them: it answers `METHOD PATH BODY-LENGTH`, with a header
//! naming it, 404 under `/missing`, and never ends under `/spin`.

use wasip2::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Hello;

impl wasip2::exports::http::incoming_handler::Guest for Hello {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        let method = match request.method() {
            Method::Get => "GET".to_owned(),
            Method::Post => "POST".to_owned(),
            Method::Put => "PUT".to_owned(),
            other => format!("{other:?}"),
        };
        let mut body = Vec::new();
        if let Ok(incoming) = request.consume()
            && let Ok(stream) = incoming.stream()
        {
            while let Ok(chunk) = stream.blocking_read(64 * 1024) {
                body.extend(chunk);
            }
        }
        if path.starts_with("/spin") {
            #[allow(clippy::empty_loop)]
            loop {}
        }
        let headers = Fields::from_list(&[
            ("content-type".to_owned(), b"text/plain".to_vec()),
            ("x-component".to_owned(), b"http-hello".to_vec()),
        ])
        .expect("valid headers");
        let response = OutgoingResponse::new(headers);
        let status = if path.starts_with("/missing") {
            404
        } else {
            200
        };
        response.set_status_code(status).expect("a valid status");
        let outgoing = response.body().expect("the body, once");
        ResponseOutparam::set(out, Ok(response));
        let stream = outgoing.write().expect("the body's stream, once");
        stream
            .blocking_write_and_flush(format!("{method} {path} {}", body.len()).as_bytes())
            .expect("the host reads the body");
        drop(stream);
        OutgoingBody::finish(outgoing, None).expect("the body ends");
    }
}

wasip2::http::proxy::export!(Hello);
