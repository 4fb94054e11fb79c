// fetch's classes for every Polybox guest, from npm's well-kept
// implementations, as one factory. scripts/build-node-polyfills.sh bundles
// this file into dist/fetch.js; the guest evaluates it the first time a
// script uses Headers, Request, Response, ReadableStream, Blob, File or
// FormData (see builtins/web.js), apart from web.js, which programs load at
// once.
//
// Headers, Request and Response as GitHub's fetch polyfill has them (its
// `fetch` is not used: the guest's own goes through the host). A Response
// body is buffered; `body` presents it as a web ReadableStream.
module.exports = function fetchClasses() {
  const { Blob, File, FormData, FormDataEncoder } = require('./form-data.mjs');
  const { Headers, Request: EagerRequest, Response } = require('whatwg-fetch/dist/fetch.umd.js');
  const { ReadableStream } = require('web-streams-polyfill');
  // The polyfill reads bytes as Latin-1 text and cannot turn text into
  // bytes without Blob: both go through TextDecoder and TextEncoder.
  //
  // The polyfill takes a Blob or FormData body only where FileReader exists:
  // here a Blob body is kept as it is (and read through its own methods),
  // and FormData is encoded as multipart/form-data into one.
  const used = (body) => {
    if (body.bodyUsed) return Promise.reject(new TypeError('Already read'));
    body.bodyUsed = true;
    return null;
  };
  // A ReadableStream body is read to its end the first time the body is
  // read (bodies are buffered).
  const drain = async (stream) => {
    const chunks = [];
    let length = 0;
    for (const reader = stream.getReader(); ; ) {
      const { done, value } = await reader.read();
      if (done) break;
      const chunk =
        typeof value === 'string' ? new TextEncoder().encode(value)
        : ArrayBuffer.isView(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
        : new Uint8Array(value);
      chunks.push(chunk);
      length += chunk.byteLength;
    }
    const bytes = new Uint8Array(length);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return bytes.buffer;
  };
  // A Request's `signal` is made when it is first read. The polyfill makes
  // an AbortController for every Request, which cost QuickJS more than the
  // rest of the constructor (a server makes one per request it serves).
  const LATER = Object.freeze({});
  const Request = function Request(input, options) {
    if (new.target === undefined) {
      throw new TypeError('Please use the "new" operator, this DOM object constructor cannot be called as a function.');
    }
    const lazy = !(input instanceof EagerRequest) && !options?.signal;
    const given = options !== null && typeof options === 'object' ? options : null;
    const init = lazy ? Object.create(given, { signal: { value: LATER } }) : options;
    const request = Reflect.construct(EagerRequest, [input, init], new.target);
    if (lazy) {
      let signal;
      Object.defineProperty(request, 'signal', {
        get: () => (signal ??= new AbortController().signal),
        set: (value) => {
          signal = value;
        },
        enumerable: true,
        configurable: true,
      });
    }
    return request;
  };
  Request.prototype = EagerRequest.prototype;
  Object.defineProperty(Request.prototype, 'constructor', { value: Request, writable: true, configurable: true });
  for (const Body of [Request, Response]) {
    const { _initBody, arrayBuffer, text } = Body.prototype;
    Body.prototype._initBody = function (body) {
      if (body instanceof ReadableStream) {
        this.bodyUsed = this.bodyUsed;
        this._bodyInit = body;
        this._bodyStream = body;
        return;
      }
      if (body instanceof FormData) {
        const encoder = new FormDataEncoder(body);
        body = new Blob([...encoder.values()], { type: encoder.contentType });
      }
      if (!(body instanceof Blob)) return _initBody.call(this, body);
      this.bodyUsed = this.bodyUsed;
      this._bodyInit = body;
      this._bodyBlob = body;
      if (!this.headers.get('content-type') && body.type) this.headers.set('content-type', body.type);
    };
    Body.prototype.blob = function () {
      if (this._bodyBlob) return used(this) ?? Promise.resolve(this._bodyBlob);
      const type = this.headers.get('content-type') ?? '';
      return this.arrayBuffer().then((bytes) => new Blob([bytes], { type }));
    };
    Body.prototype.text = function () {
      if (this._bodyBlob) return used(this) ?? this._bodyBlob.text();
      if (this._bodyArrayBuffer === undefined) return text.call(this);
      return this.arrayBuffer().then((bytes) => new TextDecoder().decode(bytes));
    };
    Body.prototype.arrayBuffer = function () {
      if (this._bodyBlob) return used(this) ?? this._bodyBlob.arrayBuffer();
      if (this._bodyArrayBuffer !== undefined) return arrayBuffer.call(this);
      return this.text().then((text) => {
        const bytes = new TextEncoder().encode(text);
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      });
    };
    for (const read of ['arrayBuffer', 'text', 'blob']) {
      const buffered = Body.prototype[read];
      Body.prototype[read] = function () {
        const stream = this._bodyStream;
        if (stream === undefined) return buffered.call(this);
        if (this.bodyUsed) return Promise.reject(new TypeError('Already read'));
        this._bodyStream = undefined;
        return drain(stream).then((bytes) => {
          this._bodyArrayBuffer = bytes;
          this._bodyInit = bytes;
          return Body.prototype[read].call(this);
        });
      };
    }
  }
  if (typeof Response.json !== 'function') {
    Response.json = function json(data, init = {}) {
      const body = JSON.stringify(data);
      if (body === undefined) throw new TypeError('Response.json: the data has no JSON form');
      const response = new Response(null, init);
      if (!response.headers.has('content-type')) response.headers.set('content-type', 'application/json');
      response._initBody(body);
      return response;
    };
  }
  if (!Object.getOwnPropertyDescriptor(Response.prototype, 'body')) {
    Object.defineProperty(Response.prototype, 'body', {
      configurable: true,
      get() {
        if (this._bodyInit === undefined || this._bodyInit === null) return null;
        const response = this.clone();
        return new ReadableStream({
          async start(controller) {
            controller.enqueue(new Uint8Array(await response.arrayBuffer()));
            controller.close();
          },
        });
      },
    });
  }
  return { Blob, File, FormData, Headers, Request, Response, ReadableStream };
};
