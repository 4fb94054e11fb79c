// `fetch`, for every guest: the request is handed to the host (the
// internal module `polybox:net`), which decides it by the sandbox's
// permissions, sends it (or has the caller's handler answer it) and returns
// the whole response. While a request is in flight the guest waits: the
// host ends the wait at once when the call is stopped. Bodies are buffered
// both ways.
//
// Evaluated once as a function of the natives: `call(argsJson)` (the host
// call), `encode(bytes, "base64")` and `decode(text, "base64")`.
(function (natives) {
  "use strict";

  // A failed fetch is a TypeError, as in browsers and Node; the host's
  // reason is its `cause` (`code`: EACCES when the policy denied it).
  function failure(error) {
    const failed = new TypeError(`fetch failed: ${error.detail ?? error.code}`);
    failed.cause = Object.assign(new Error(error.detail ?? error.code), { code: error.code });
    return failed;
  }

  async function fetch(input, init = undefined) {
    const request = new Request(input, init);
    const signal = init?.signal ?? request.signal;
    const aborted = () => signal?.reason ?? Object.assign(new Error("This operation was aborted"), { name: "AbortError" });
    if (signal?.aborted) throw aborted();
    const method = request.method.toUpperCase();
    const body = method === "GET" || method === "HEAD" || request._bodyInit == null ? null : new Uint8Array(await request.arrayBuffer());
    const headers = [];
    request.headers.forEach((value, name) => headers.push([name, value]));
    const redirect = init?.redirect ?? request.redirect ?? "follow";
    // Put together around the body's base64, which needs no escaping.
    const args = `[{"url":${JSON.stringify(request.url)},"method":${JSON.stringify(method)},` +
      `"headers":${JSON.stringify(headers)},"redirect":${JSON.stringify(String(redirect))},` +
      `"body":${body === null ? "null" : `"${natives.encode(body, "base64")}"`}}]`;
    const answer = JSON.parse(natives.call(args));
    if (signal?.aborted) throw aborted();
    if ("err" in answer) throw failure(answer.err);
    const got = answer.ok;
    const nullBody = method === "HEAD" || got.status === 204 || got.status === 304;
    const response = new Response(nullBody ? null : natives.decode(got.body, "base64"), {
      status: got.status,
      statusText: got.statusText,
      headers: got.headers,
      url: got.url,
    });
    Object.defineProperty(response, "redirected", { value: got.redirected, enumerable: true });
    return response;
  }

  Object.defineProperty(globalThis, "fetch", { value: fetch, writable: true, configurable: true });
})
