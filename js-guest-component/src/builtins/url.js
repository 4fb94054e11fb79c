// The global `URL`, as the WHATWG URL Standard defines it, over the
// natives `parse(input, base)` and `update(href, part, value)` (Rust's
// `url` crate): each gives the URL's parts as an array (see `url.rs`), or
// undefined for an invalid URL. `searchParams` is a URLSearchParams whose
// changes are written back to the URL, and which follows the URL's.
// Evaluated the first time a script reads `URL`; returns the class.
(function (natives) {
  "use strict";

  const [HREF, ORIGIN, PROTOCOL, USERNAME, PASSWORD, HOST, HOSTNAME, PORT, PATHNAME, SEARCH, HASH] =
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

  // As Node.js reports it.
  function invalid(input) {
    const error = new TypeError("Invalid URL");
    error.code = "ERR_INVALID_URL";
    error.input = input;
    return error;
  }

  function parse(url, base) {
    return natives.parse(String(url), base === undefined ? undefined : String(base));
  }

  // The URLSearchParams class, and one made from `search` that tells
  // `changed(text)` about its changes.
  let Linked;
  function linkedParams(search, changed) {
    Linked ??= class URLSearchParams extends globalThis.URLSearchParams {};
    const params = new Linked(search);
    const write = () => changed(params.toString());
    for (const method of ["append", "delete", "set", "sort"]) {
      const inherited = Linked.prototype[method];
      Object.defineProperty(params, method, {
        value(...args) {
          const result = inherited.apply(this, args);
          write();
          return result;
        },
        writable: true,
        configurable: true,
      });
    }
    // Follows the URL's query when it changes.
    params[replace] = (text) => {
      for (const key of [...Linked.prototype.keys.call(params)]) Linked.prototype.delete.call(params, key);
      for (const [key, value] of new globalThis.URLSearchParams(text)) Linked.prototype.append.call(params, key, value);
    };
    return params;
  }
  const replace = Symbol("replace");

  class URL {
    #parts;
    #params = null;

    constructor(url, base = undefined) {
      if (arguments.length === 0) throw new TypeError("The \"url\" argument must be specified");
      const parts = parse(url, base);
      if (parts === undefined) throw invalid(String(url));
      this.#parts = parts;
    }

    static canParse(url, base = undefined) {
      return parse(url, base) !== undefined;
    }

    static parse(url, base = undefined) {
      try {
        return new URL(url, base);
      } catch {
        return null;
      }
    }

    #set(part, value) {
      this.#parts = natives.update(this.#parts[HREF], part, String(value)) ?? this.#parts;
      if (part === "search") this.#params?.[replace](this.#parts[SEARCH]);
    }

    get href() { return this.#parts[HREF]; }
    set href(value) {
      const parts = parse(value);
      if (parts === undefined) throw invalid(String(value));
      this.#parts = parts;
      this.#params?.[replace](parts[SEARCH]);
    }
    get origin() { return this.#parts[ORIGIN]; }
    get protocol() { return this.#parts[PROTOCOL]; }
    set protocol(value) { this.#set("protocol", value); }
    get username() { return this.#parts[USERNAME]; }
    set username(value) { this.#set("username", value); }
    get password() { return this.#parts[PASSWORD]; }
    set password(value) { this.#set("password", value); }
    get host() { return this.#parts[HOST]; }
    set host(value) { this.#set("host", value); }
    get hostname() { return this.#parts[HOSTNAME]; }
    set hostname(value) { this.#set("hostname", value); }
    get port() { return this.#parts[PORT]; }
    set port(value) { this.#set("port", value); }
    get pathname() { return this.#parts[PATHNAME]; }
    set pathname(value) { this.#set("pathname", value); }
    get search() { return this.#parts[SEARCH]; }
    set search(value) { this.#set("search", value); }
    get hash() { return this.#parts[HASH]; }
    set hash(value) { this.#set("hash", value); }

    get searchParams() {
      this.#params ??= linkedParams(this.#parts[SEARCH], (text) => {
        this.#parts = natives.update(this.#parts[HREF], "search", text) ?? this.#parts;
      });
      return this.#params;
    }

    toString() { return this.#parts[HREF]; }
    toJSON() { return this.#parts[HREF]; }

    get [Symbol.toStringTag]() { return "URL"; }
  }

  for (const name of ["href", "origin", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash", "searchParams", "toString", "toJSON"]) {
    Object.defineProperty(URL.prototype, name, { enumerable: true });
  }

  return URL;
})
