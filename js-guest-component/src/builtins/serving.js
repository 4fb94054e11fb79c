// Handlers that answer HTTP requests, in the two forms WinterTC runtimes
// (Cloudflare Workers, Deno Deploy, Fastly) accept: a module whose default
// export has `fetch(request, env, ctx)`, and a script that calls
// `addEventListener("fetch", event => event.respondWith(...))`.
//
// Such a handler is called like any other (`call-handler`): its event is the
// request as JSON, `{method, url, headers: [[name, value]]}` with its body
// as `text` (UTF-8) or `body` (base64), and its result the response,
// `{status, statusText, headers}` with its body the same way. In between the guest deals in the web's own
// `Request` and `Response` (the classes `fetch` uses). The call ends when the
// response's body is read and every promise given to `waitUntil` settled.
//
// Evaluated once as a function of the natives `encode(bytes, "base64")` and
// `decode(text, "base64")`; returns what the runtime uses when it adds a
// handler: `begin()` before a handler's module is evaluated, and
// `handlerFor(defaultExport)` after, which gives the function to call, or
// undefined when the module serves no requests.
(function (natives) {
  "use strict";

  // The fetch listeners the module being evaluated added.
  let listeners = [];

  function addEventListener(type, listener) {
    if (String(type) !== "fetch") return;
    if (typeof listener !== "function" && typeof listener?.handleEvent !== "function") {
      throw new TypeError("addEventListener: the listener is not a function");
    }
    if (!listeners.includes(listener)) listeners.push(listener);
  }

  function removeEventListener(type, listener) {
    if (String(type) === "fetch") listeners = listeners.filter((l) => l !== listener);
  }

  for (const [name, value] of [["addEventListener", addEventListener], ["removeEventListener", removeEventListener]]) {
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true });
  }

  function describe(value) {
    if (value === null) return "null";
    if (typeof value !== "object") return typeof value;
    const name = value.constructor?.name;
    if (!name) return "an object";
    return /^[AEIOU]/.test(name) ? `an ${name}` : `a ${name}`;
  }

  function toRequest(event) {
    if (event === null || typeof event !== "object" || typeof event.url !== "string") {
      throw new TypeError("a fetch handler's event is a request: {method, url, headers, body}");
    }
    const method = String(event.method ?? "GET").toUpperCase();
    const init = { method, headers: event.headers ?? [] };
    if (method !== "GET" && method !== "HEAD") {
      if (typeof event.text === "string") init.body = event.text;
      else if (event.body != null) init.body = natives.decode(String(event.body), "base64");
    }
    return new Request(event.url, init);
  }

  async function fromResponse(response) {
    if (!(response instanceof Response)) {
      throw new TypeError(`the fetch handler returned ${describe(response)}, not a Response`);
    }
    const headers = [];
    response.headers.forEach((value, name) => headers.push([name, value]));
    const answer = { status: response.status, statusText: response.statusText, headers };
    // A body given as text crosses as text; any other as base64.
    if (typeof response._bodyInit === "string" && !response.bodyUsed) answer.text = response._bodyInit;
    else if (response._bodyInit == null) answer.text = "";
    else answer.body = natives.encode(new Uint8Array(await response.arrayBuffer()), "base64");
    return answer;
  }

  // Calls `respond(request, waitUntil)`, then waits for what it was asked
  // to wait for.
  async function serve(event, respond) {
    const pending = [];
    const waitUntil = (promise) => {
      pending.push(Promise.resolve(promise));
    };
    const answer = await fromResponse(await respond(toRequest(event), waitUntil));
    await Promise.allSettled(pending);
    return answer;
  }

  function moduleHandler(worker) {
    const env = Object.freeze(Object.create(null));
    return (event) =>
      serve(event, (request, waitUntil) =>
        worker.fetch(request, env, { waitUntil, passThroughOnException() {} }),
      );
  }

  function listenerHandler(registered) {
    return (event) =>
      serve(event, async (request, waitUntil) => {
        let answer;
        const fetchEvent = {
          type: "fetch",
          request,
          respondWith(response) {
            if (answer !== undefined) throw new Error("respondWith was already called");
            answer = Promise.resolve(response);
          },
          waitUntil,
          passThroughOnException() {},
        };
        for (const listener of registered) {
          if (typeof listener === "function") listener.call(globalThis, fetchEvent);
          else listener.handleEvent(fetchEvent);
          if (answer !== undefined) return answer;
        }
        throw new Error("no fetch listener called respondWith");
      });
  }

  // The web classes load on first use: a serving handler loads them as it
  // is added, so that a snapshot of the sandbox has them and no request
  // pays for them.
  function ready(handler) {
    void Request, Response, Headers;
    return handler;
  }

  return {
    begin() {
      listeners = [];
    },
    handlerFor(defaultExport) {
      if (typeof defaultExport?.fetch === "function") return ready(moduleHandler(defaultExport));
      if (listeners.length === 0) return undefined;
      const registered = listeners;
      listeners = [];
      return ready(listenerHandler(registered));
    },
  };
})
