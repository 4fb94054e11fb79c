// Globals installed in every context: `console`, `print`, `TextEncoder`,
// `TextDecoder`, and a replacement `Math.random`. Evaluated once as a function
// of the native helpers, which stay private to these closures.
(function (natives) {
  "use strict";

  function show(value) {
    if (typeof value === "string") return value;
    if (value instanceof Error) {
      const head = `${value.name}: ${value.message}`;
      return value.stack ? `${head}\n${value.stack}` : head;
    }
    if (typeof value === "object" && value !== null) {
      try {
        return JSON.stringify(value);
      } catch {
        return String(value);
      }
    }
    return String(value);
  }

  const logger = (level) => (...args) => natives.log(level, args.map(show).join(" "));
  const define = (target, name, value) =>
    Object.defineProperty(target, name, { value, writable: true, configurable: true });

  define(globalThis, "console", {
    debug: logger("debug"),
    log: logger("info"),
    info: logger("info"),
    warn: logger("warn"),
    error: logger("error"),
  });
  define(globalThis, "print", logger("info"));

  function bytesOf(input) {
    if (input === undefined) return new Uint8Array(0);
    if (input instanceof Uint8Array) return input;
    if (input instanceof ArrayBuffer) return new Uint8Array(input);
    if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    throw new TypeError("The input must be an ArrayBuffer, a typed array or a DataView");
  }

  class TextEncoder {
    get encoding() {
      return "utf-8";
    }
    encode(input = "") {
      return natives.utf8Encode(String(input).toWellFormed());
    }
  }

  class TextDecoder {
    #fatal;
    constructor(label = "utf-8", options = {}) {
      const name = String(label).trim().toLowerCase();
      if (name !== "utf-8" && name !== "utf8" && name !== "unicode-1-1-utf-8") {
        throw new RangeError(`The encoding "${label}" is not supported (only utf-8 is)`);
      }
      this.#fatal = Boolean(options && options.fatal);
    }
    get encoding() {
      return "utf-8";
    }
    get fatal() {
      return this.#fatal;
    }
    decode(input) {
      return natives.utf8Decode(bytesOf(input), this.#fatal);
    }
  }

  define(globalThis, "TextEncoder", TextEncoder);
  define(globalThis, "TextDecoder", TextDecoder);

  // Math.random: native (random.rs), seeded from the host's secure random
  // source afresh in every call into the instance.
  define(Math, "random", natives.random);
})
