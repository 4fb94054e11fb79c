// The `crypto` built-in module: the hashing and randomness subset of Node's `crypto`.
import { digest, encode, decode, random } from "#crypto";

const ALGORITHMS = new Map([
  ["sha256", "sha256"], ["sha-256", "sha256"],
  ["sha512", "sha512"], ["sha-512", "sha512"],
]);

function algorithm(name) {
  const alg = ALGORITHMS.get(String(name).toLowerCase());
  if (alg === undefined) {
    throw new Error(`Digest method not supported: ${name} (use sha256 or sha512)`);
  }
  return alg;
}

function toBytes(data, encoding) {
  if (typeof data === "string") {
    const enc = encoding === undefined ? "utf8" : String(encoding).toLowerCase();
    // Lone surrogates hash as U+FFFD, as in Node.
    return decode(enc === "utf8" || enc === "utf-8" ? data.toWellFormed() : data, enc);
  }
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError("data must be a string, an ArrayBuffer, a typed array or a DataView");
}

class Hash {
  #algorithm;
  #key;
  #chunks = [];
  #finished = false;

  constructor(name, key) {
    this.#algorithm = algorithm(name);
    this.#key = key === undefined ? undefined : toBytes(key);
  }

  update(data, inputEncoding) {
    if (this.#finished) throw new Error("Digest already called");
    this.#chunks.push(toBytes(data, inputEncoding));
    return this;
  }

  digest(outputEncoding) {
    if (this.#finished) throw new Error("Digest already called");
    this.#finished = true;
    const out = digest(this.#algorithm, this.#chunks, this.#key);
    return outputEncoding === undefined ? out : encode(out, String(outputEncoding));
  }
}

export function createHash(name) {
  return new Hash(name);
}

export function createHmac(name, key) {
  if (key === undefined || key === null) throw new TypeError("createHmac needs a key");
  return new Hash(name, key);
}

export function randomBytes(size) {
  if (!Number.isInteger(size) || size < 0) throw new RangeError("size must be a non-negative integer");
  return random(size);
}

const INTEGER_ARRAYS = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array,
  Int32Array, Uint32Array, BigInt64Array, BigUint64Array,
];

export function getRandomValues(array) {
  if (!INTEGER_ARRAYS.some((type) => array instanceof type)) {
    throw new TypeError("getRandomValues needs an integer typed array");
  }
  const bytes = random(array.byteLength);
  new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(bytes);
  return array;
}

// Fills `buffer` (any ArrayBuffer view, or an ArrayBuffer) from `offset`
// for `size` bytes with random bytes, as Node's randomFillSync.
export function randomFillSync(buffer, offset = 0, size) {
  const view = ArrayBuffer.isView(buffer)
    ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
    : buffer instanceof ArrayBuffer
      ? new Uint8Array(buffer)
      : null;
  if (view === null) throw new TypeError("randomFillSync needs an ArrayBuffer or a view of one");
  if (size === undefined) size = view.length - offset;
  if (!Number.isInteger(offset) || !Number.isInteger(size) || offset < 0 || size < 0 || offset + size > view.length) {
    throw new RangeError("offset and size must lie within the buffer");
  }
  view.set(random(size), offset);
  return buffer;
}

// randomFillSync, answered through `callback(error, buffer)`.
export function randomFill(buffer, ...rest) {
  const callback = rest.pop();
  if (typeof callback !== "function") throw new TypeError("randomFill needs a callback");
  let result, failure = null;
  try {
    result = randomFillSync(buffer, ...rest);
  } catch (error) {
    failure = error;
  }
  queueMicrotask(() => callback(failure, result));
}

export function randomUUID() {
  const b = random(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// An integer from [min, max) with no modulo bias, as Node's randomInt
// (`randomInt(max)` is `randomInt(0, max)`).
export function randomInt(min, max, callback) {
  if (max === undefined || typeof max === "function") {
    callback = max;
    max = min;
    min = 0;
  }
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max)) {
    throw new TypeError('The "min" and "max" arguments must be safe integers');
  }
  const range = max - min;
  if (range <= 0 || range > 2 ** 48) {
    throw new RangeError(`The value of "max" is out of range. It must be greater than the value of "min" (${min}) and at most ${min} + 2^48`);
  }
  // Draw 48-bit values, rejecting those past the largest multiple of range.
  const limit = 2 ** 48 - (2 ** 48 % range);
  let value;
  do {
    const b = random(6);
    value = b.reduce((n, byte) => n * 256 + byte, 0);
  } while (value >= limit);
  const result = min + (value % range);
  if (typeof callback === "function") {
    queueMicrotask(() => callback(null, result));
    return undefined;
  }
  return result;
}

// Compares two equally long byte sequences in time that does not depend on
// where they differ.
export function timingSafeEqual(a, b) {
  const left = toBytes(a);
  const right = toBytes(b);
  if (left.byteLength !== right.byteLength) {
    const error = new RangeError("Input buffers must have the same byte length");
    error.code = "ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH";
    throw error;
  }
  let difference = 0;
  for (let i = 0; i < left.byteLength; i++) difference |= left[i] ^ right[i];
  return difference === 0;
}

// WebCrypto's digest names, and the subset of `crypto.subtle` there is.
const SUBTLE_DIGESTS = new Map([["SHA-256", "sha256"], ["SHA-512", "sha512"]]);

export const subtle = {
  async digest(name, data) {
    const wanted = String(typeof name === "object" && name !== null ? name.name : name).toUpperCase();
    const alg = SUBTLE_DIGESTS.get(wanted);
    if (alg === undefined) {
      throw new DOMException(`Unrecognized or unsupported digest: ${wanted} (SHA-256 and SHA-512 are supported)`, "NotSupportedError");
    }
    const out = digest(alg, [toBytes(data)], undefined);
    return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
  },
};

export const webcrypto = { getRandomValues, randomUUID, subtle };

export default {
  createHash,
  createHmac,
  randomBytes,
  randomFill,
  randomFillSync,
  randomInt,
  getRandomValues,
  randomUUID,
  timingSafeEqual,
  subtle,
  webcrypto,
};
