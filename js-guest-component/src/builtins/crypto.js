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

export function randomUUID() {
  const b = random(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export default { createHash, createHmac, randomBytes, getRandomValues, randomUUID };
