//! HTTP requests served by a loaded sandbox's handlers: the WinterTC forms
//! (`export default { fetch(request, env, ctx) }`, or `addEventListener("fetch",
//! ...)`) that Cloudflare Workers, Deno Deploy and Fastly run. A request is
//! an ordinary handler call whose event is the request and whose result is
//! the response (the form `http/wire.rs` gives), so every limit, stat, kill
//! and snapshot of a call holds for it.

use super::LoadedJSSandbox;
use crate::error::Result;
use crate::http::{self, HttpRequest, HttpResponse};
use crate::monitor::MonitorSet;

impl LoadedJSSandbox {
    /// Answers `request` with handler `name`, a module whose default export
    /// has `fetch`, or one that added a `fetch` listener. The handler gets a
    /// web `Request` and must give a `Response`.
    ///
    /// Fails as [`handle_event`](Self::handle_event) does (the request in
    /// its JSON form, with the body in base64, must fit the input buffer;
    /// the response the output buffer), and with `ERR_GUEST_ERROR` when the
    /// handler throws or gives something that is not a `Response`.
    ///
    /// ```
    /// # fn main() -> polybox::Result<()> {
    /// use polybox::{HttpRequest, SandboxBuilder};
    ///
    /// let mut sandbox = SandboxBuilder::new().build()?.load_runtime()?;
    /// sandbox.add_handler(
    ///     "app",
    ///     r#"export default {
    ///          async fetch(request) {
    ///            const { pathname } = new URL(request.url);
    ///            return Response.json({ path: pathname, method: request.method });
    ///          },
    ///        };"#,
    /// )?;
    /// let mut loaded = sandbox.get_loaded_sandbox()?;
    /// let response = loaded.fetch("app", &HttpRequest::new("GET", "http://localhost/hello"))?;
    /// assert_eq!(response.status, 200);
    /// assert_eq!(response.body, br#"{"path":"/hello","method":"GET"}"#);
    /// # Ok(()) }
    /// ```
    pub fn fetch(&mut self, name: &str, request: &HttpRequest) -> Result<HttpResponse> {
        let result = self.handle_event(name, http::request_event(request), None)?;
        http::response_from(&result)
    }

    /// [`fetch`](Self::fetch) bounded by `monitor`, as
    /// [`handle_event_with_monitor`](Self::handle_event_with_monitor) bounds
    /// a call.
    pub fn fetch_with_monitor<M: MonitorSet + ?Sized>(
        &mut self,
        name: &str,
        request: &HttpRequest,
        monitor: &M,
    ) -> Result<HttpResponse> {
        self.fetch_with(name, request, monitor, None)
    }

    /// [`fetch_with_monitor`](Self::fetch_with_monitor), with `gc` as
    /// [`handle_event`](Self::handle_event) takes it.
    pub(crate) fn fetch_with<M: MonitorSet + ?Sized>(
        &mut self,
        name: &str,
        request: &HttpRequest,
        monitor: &M,
        gc: Option<bool>,
    ) -> Result<HttpResponse> {
        let result =
            self.handle_event_with_monitor(name, http::request_event(request), monitor, gc)?;
        http::response_from(&result)
    }
}
