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

  // Math.random: xoshiro128** seeded from the host's secure random source
  // the first time it is called in an instance. QuickJS seeds its own from
  // the clock when a context is created, which an instance started from a
  // shared runtime image would share with every other one.
  let s0, s1, s2, s3;
  const rotl = (x, k) => (x << k) | (x >>> (32 - k));
  function next() {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  }
  const random = {
    random() {
      if (s0 === undefined) {
        do {
          [s0, s1, s2, s3] = new Int32Array(natives.randomBytes(16).buffer);
        } while ((s0 | s1 | s2 | s3) === 0);
      }
      // 53 random bits: 27 from one output, 26 from the next.
      return ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
    },
  }.random;
  define(Math, "random", random);
})
