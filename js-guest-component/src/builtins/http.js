// `node:http` for programs: servers (`createServer`, `listen`, requests and
// responses with Node's common surface) on the sandbox's virtual sockets,
// which the host serves as `polybox:sockets` (host/src/capability/sockets.rs):
// `listen` takes no port on the host, and requests come only from the host
// (`Runtime` and `NodeRuntime` `fetch`). While a server listens, the
// program's event loop, when idle, waits for requests instead of sleeping
// (`idle`). Bodies are buffered both ways. Making requests is `fetch`'s
// job: `http.request` and `http.get` throw ERR_NOT_SUPPORTED.
//
// Evaluated once as a function of the natives `call(function, argsJson)`
// (the host call), `encode(bytes, "base64")` and
// `decode(text, "base64")`; returns `make({ EventEmitter, Buffer,
// setImmediate, nextTick })`, which gives the module and the loop's hooks.
(function (natives) {
  "use strict";

  return function make({ EventEmitter, Buffer, setImmediate, nextTick }) {
    const servers = new Map();

    function failure(code, message) {
      const error = new Error(message);
      error.code = code;
      return error;
    }

    function call(name, ...args) {
      const answer = JSON.parse(natives.call(name, JSON.stringify(args)));
      if ("err" in answer) {
        const { code, detail } = answer.err;
        const error = failure(code, `${name} ${code}${detail ? `: ${detail}` : ""}`);
        error.syscall = name;
        throw error;
      }
      return answer.ok;
    }

    const STATUS_CODES = {
      100: "Continue", 101: "Switching Protocols", 200: "OK", 201: "Created", 202: "Accepted",
      203: "Non-Authoritative Information", 204: "No Content", 205: "Reset Content", 206: "Partial Content",
      300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
      307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request", 401: "Unauthorized",
      402: "Payment Required", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
      406: "Not Acceptable", 408: "Request Timeout", 409: "Conflict", 410: "Gone", 411: "Length Required",
      412: "Precondition Failed", 413: "Payload Too Large", 414: "URI Too Long", 415: "Unsupported Media Type",
      416: "Range Not Satisfiable", 417: "Expectation Failed", 418: "I'm a Teapot", 422: "Unprocessable Entity",
      425: "Too Early", 426: "Upgrade Required", 428: "Precondition Required", 429: "Too Many Requests",
      431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons", 500: "Internal Server Error",
      501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
      505: "HTTP Version Not Supported",
    };
    const METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];

    // The request a server gets: headers as Node gives them, the body
    // (buffered) as `data` events, a read, or async iteration.
    class IncomingMessage extends EventEmitter {
      #body;
      #encoding = null;
      #flowing = false;
      #consumed = false;
      constructor(raw) {
        super();
        const url = new URL(raw.url);
        this.method = raw.method;
        this.url = `${url.pathname}${url.search}`;
        this.httpVersion = "1.1";
        this.httpVersionMajor = 1;
        this.httpVersionMinor = 1;
        this.headers = {};
        this.rawHeaders = [];
        for (const [name, value] of raw.headers) {
          this.rawHeaders.push(name, value);
          const key = name.toLowerCase();
          if (key === "set-cookie") (this.headers[key] ??= []).push(value);
          else this.headers[key] = key in this.headers ? `${this.headers[key]}, ${value}` : value;
        }
        this.trailers = {};
        this.rawTrailers = [];
        this.complete = false;
        this.aborted = false;
        this.readable = true;
        this.socket = this.connection = { remoteAddress: "127.0.0.1", remotePort: 0, encrypted: false, localPort: raw.port };
        this.#body =
          typeof raw.text === "string" ? Buffer.from(raw.text, "utf8")
          : raw.body != null ? Buffer.from(natives.decode(raw.body, "base64"))
          : Buffer.alloc(0);
      }
      setEncoding(encoding) {
        this.#encoding = encoding;
        return this;
      }
      #take() {
        if (this.#consumed) return null;
        this.#consumed = true;
        this.complete = true;
        this.readable = false;
        if (this.#body.length === 0) return null;
        return this.#encoding ? this.#body.toString(this.#encoding) : this.#body;
      }
      read() {
        return this.#take();
      }
      on(name, listener) {
        super.on(name, listener);
        if (name === "data" || name === "readable") this.resume();
        return this;
      }
      resume() {
        if (this.#flowing) return this;
        this.#flowing = true;
        setImmediate(() => {
          const chunk = this.#take();
          if (chunk !== null) this.emit("data", chunk);
          this.emit("end");
          this.emit("close");
        });
        return this;
      }
      pause() {
        return this;
      }
      pipe(destination) {
        this.on("data", (chunk) => destination.write(chunk));
        this.on("end", () => destination.end?.());
        return destination;
      }
      setTimeout(_ms, callback) {
        if (callback) this.once("timeout", callback);
        return this;
      }
      async *[Symbol.asyncIterator]() {
        const chunk = this.#take();
        if (chunk !== null) yield chunk;
      }
    }

    // The response a server gives: sent, whole, when it ends.
    class ServerResponse extends EventEmitter {
      #id;
      #headers = new Map();
      #chunks = [];
      constructor(id, request) {
        super();
        this.#id = id;
        this.req = request;
        this.statusCode = 200;
        this.statusMessage = undefined;
        this.headersSent = false;
        this.finished = false;
        this.writableEnded = false;
        this.writableFinished = false;
        this.sendDate = true;
        this.socket = this.connection = request.socket;
      }
      #writable(what) {
        if (this.writableEnded) throw failure("ERR_STREAM_WRITE_AFTER_END", `${what} after end`);
      }
      setHeader(name, value) {
        if (this.headersSent) throw failure("ERR_HTTP_HEADERS_SENT", "Cannot set headers after they are sent to the client");
        this.#headers.set(String(name).toLowerCase(), [String(name), value]);
        return this;
      }
      appendHeader(name, value) {
        const key = String(name).toLowerCase();
        const existing = this.#headers.get(key);
        const values = existing === undefined ? [] : [existing[1]].flat();
        return this.setHeader(existing?.[0] ?? name, [...values, ...[value].flat()]);
      }
      getHeader(name) {
        return this.#headers.get(String(name).toLowerCase())?.[1];
      }
      getHeaders() {
        const headers = Object.create(null);
        for (const [key, [, value]] of this.#headers) headers[key] = value;
        return headers;
      }
      getHeaderNames() {
        return [...this.#headers.keys()];
      }
      hasHeader(name) {
        return this.#headers.has(String(name).toLowerCase());
      }
      removeHeader(name) {
        if (this.headersSent) throw failure("ERR_HTTP_HEADERS_SENT", "Cannot remove headers after they are sent to the client");
        this.#headers.delete(String(name).toLowerCase());
      }
      writeHead(status, message, headers) {
        if (typeof message !== "string") [message, headers] = [undefined, message];
        this.statusCode = Number(status);
        if (message !== undefined) this.statusMessage = message;
        if (Array.isArray(headers)) {
          for (let i = 0; i < headers.length; i += 2) this.appendHeader(headers[i], headers[i + 1]);
        } else if (headers) {
          for (const [name, value] of Object.entries(headers)) this.setHeader(name, value);
        }
        this.headersSent = true;
        return this;
      }
      flushHeaders() {
        this.headersSent = true;
      }
      write(chunk, encoding, callback) {
        if (typeof encoding === "function") [encoding, callback] = [undefined, encoding];
        this.#writable("write");
        this.headersSent = true;
        if (chunk != null && chunk.length !== 0) this.#chunks.push(Buffer.from(chunk, encoding));
        if (callback) nextTick(callback);
        return true;
      }
      end(chunk, encoding, callback) {
        if (typeof chunk === "function") [chunk, encoding, callback] = [undefined, undefined, chunk];
        if (typeof encoding === "function") [encoding, callback] = [undefined, encoding];
        if (this.writableEnded) return this;
        if (chunk != null) this.write(chunk, encoding);
        this.headersSent = true;
        this.finished = this.writableEnded = true;
        const headers = [];
        for (const [, [name, value]] of this.#headers) {
          for (const one of [value].flat()) headers.push([name, String(one)]);
        }
        const body = Buffer.concat(this.#chunks);
        this.#chunks = [];
        const status = Number.isInteger(this.statusCode) ? this.statusCode : 500;
        call("respond", this.#id, {
          status,
          statusText: this.statusMessage ?? STATUS_CODES[status] ?? "",
          headers,
          body: natives.encode(new Uint8Array(body.buffer, body.byteOffset, body.length), "base64"),
        });
        nextTick(() => {
          this.writableFinished = true;
          this.emit("finish");
          this.emit("close");
          if (callback) callback();
        });
        return this;
      }
      setTimeout(_ms, callback) {
        if (callback) this.once("timeout", callback);
        return this;
      }
    }

    class Server extends EventEmitter {
      #port = null;
      #ref = true;
      constructor(options, listener) {
        super();
        if (typeof options === "function") listener = options;
        if (listener) this.on("request", listener);
        this.listening = false;
        this.timeout = 0;
      }
      listen(...args) {
        const callback = typeof args.at(-1) === "function" ? args.pop() : undefined;
        const [first] = args;
        const port = Number(typeof first === "object" && first !== null ? first.port ?? 0 : first ?? 0);
        if (callback) this.once("listening", callback);
        if (this.listening) throw failure("ERR_SERVER_ALREADY_LISTEN", "Listen method has been called more than once without closing.");
        try {
          this.#port = call("listen", port);
        } catch (error) {
          nextTick(() => this.emit("error", error));
          return this;
        }
        this.listening = true;
        servers.set(this.#port, this);
        nextTick(() => this.emit("listening"));
        return this;
      }
      close(callback) {
        if (!this.listening) {
          if (callback) nextTick(() => callback(failure("ERR_SERVER_NOT_RUNNING", "Server is not running.")));
          return this;
        }
        call("close", this.#port);
        servers.delete(this.#port);
        this.listening = false;
        this.#port = null;
        if (callback) this.once("close", callback);
        nextTick(() => this.emit("close"));
        return this;
      }
      address() {
        return this.listening ? { address: "::", family: "IPv6", port: this.#port } : null;
      }
      ref() {
        this.#ref = true;
        return this;
      }
      unref() {
        this.#ref = false;
        return this;
      }
      hasRef() {
        return this.#ref;
      }
      setTimeout(ms, callback) {
        this.timeout = ms;
        if (callback) this.on("timeout", callback);
        return this;
      }
      closeAllConnections() {}
      closeIdleConnections() {}
      [Symbol.asyncDispose]() {
        return new Promise((resolve) => this.close(() => resolve()));
      }
    }

    function createServer(options, listener) {
      return new Server(options, listener);
    }

    function clientless() {
      throw failure("ERR_NOT_SUPPORTED", "Polybox's node:http serves requests only: make them with fetch()");
    }

    // Hands each request that arrived to its server, in the next turn.
    function deliver(raw) {
      const server = servers.get(raw.port);
      let request;
      try {
        request = new IncomingMessage(raw);
      } catch {
        // The host sent what no server could read (a URL that does not
        // parse): answered here, never thrown into the program.
        call("respond", raw.id, { status: 400, headers: [], text: "" });
        return;
      }
      const response = new ServerResponse(raw.id, request);
      if (server === undefined) {
        response.writeHead(503).end();
        return;
      }
      setImmediate(() => server.emit("request", request, response));
    }

    return {
      module: {
        createServer,
        Server,
        IncomingMessage,
        ServerResponse,
        STATUS_CODES,
        METHODS,
        maxHeaderSize: 16384,
        request: clientless,
        get: clientless,
        Agent: class Agent {},
        globalAgent: undefined,
      },
      // Whether a server keeps the program alive.
      listening: () => [...servers.values()].some((server) => server.hasRef()),
      // Waits for requests until the monotonic clock reads `wakeNs`; false
      // when the wait was stopped.
      accept(wakeNs) {
        const arrived = call("accept", wakeNs);
        if (arrived === null) return false;
        for (const raw of arrived) deliver(raw);
        return true;
      },
    };
  };
})
