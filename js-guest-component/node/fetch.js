// fetch's classes for every Polybox guest, from npm's well-kept
// implementations, as one factory. scripts/build-node-polyfills.sh bundles
// this file into dist/fetch.js; the guest evaluates it the first time a
// script uses Headers, Request, Response or ReadableStream (see
// builtins/web.js), apart from web.js, which programs load at once.
//
// Headers, Request and Response as GitHub's fetch polyfill has them (its
// `fetch` is not used: the guest's own goes through the host). A Response
// body is buffered; `body` presents it as a web ReadableStream.
module.exports = function fetchClasses() {
  const { Headers, Request, Response } = require('whatwg-fetch/dist/fetch.umd.js');
  const { ReadableStream } = require('web-streams-polyfill');
  // The polyfill reads bytes as Latin-1 text and cannot turn text into
  // bytes without Blob: both go through TextDecoder and TextEncoder.
  for (const Body of [Request, Response]) {
    const { arrayBuffer, text } = Body.prototype;
    Body.prototype.text = function () {
      if (this._bodyArrayBuffer === undefined) return text.call(this);
      return this.arrayBuffer().then((bytes) => new TextDecoder().decode(bytes));
    };
    Body.prototype.arrayBuffer = function () {
      if (this._bodyArrayBuffer !== undefined || this._bodyBlob) return arrayBuffer.call(this);
      return this.text().then((text) => {
        const bytes = new TextEncoder().encode(text);
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      });
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
  return { Headers, Request, Response, ReadableStream };
};
