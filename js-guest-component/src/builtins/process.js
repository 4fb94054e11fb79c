// The process a program runs in: `process`, console output to its standard
// streams, timers, and the controls `run-program` drives its event loop with.
// Evaluated once when the runtime starts, so that it is part of the image
// every program starts from; a handler never sees any of it.
//
// Evaluated as a function of the native helpers (`natives`): write(fd,
// chunk), readStdin(), waitUntil(deadlineNs), nowNs(), exiting().
(function (natives) {
  "use strict";

  const define = (target, name, value) =>
    Object.defineProperty(target, name, { value, writable: true, configurable: true });

  // ---- inspect and format, after Node's util.inspect/util.format --------

  const BREAK_LENGTH = 72;
  const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

  function quote(text) {
    const escaped = text.replace(/[\\'\n\r\t]/g, (c) => ({ "\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t" })[c]);
    return `'${escaped}'`;
  }

  function key(name) {
    if (typeof name === "symbol") return `[${String(name)}]`;
    return identifier.test(name) ? name : quote(name);
  }

  function constructorName(value) {
    const proto = Object.getPrototypeOf(value);
    if (proto === null) return "[Object: null prototype]";
    const ctor = proto.constructor;
    return typeof ctor === "function" && typeof ctor.name === "string" ? ctor.name : "Object";
  }

  function group(prefix, entries, open, close, indent) {
    if (entries.length === 0) return `${prefix}${open}${close}`;
    const line = `${prefix}${open} ${entries.join(", ")} ${close}`;
    if (line.length <= BREAK_LENGTH && !entries.some((e) => e.includes("\n"))) return line;
    const pad = "  ".repeat(indent + 1);
    return `${prefix}${open}\n${pad}${entries.join(`,\n${pad}`)}\n${"  ".repeat(indent)}${close}`;
  }

  function inspect(value, options = {}) {
    const depth = options.depth === undefined ? 2 : options.depth === null ? Infinity : options.depth;
    return show(value, depth, 0, new Set(), false);
  }

  function show(value, depth, indent, seen, nested) {
    switch (typeof value) {
      case "string":
        return nested ? quote(value) : value;
      case "number":
        return Object.is(value, -0) ? "-0" : String(value);
      case "bigint":
        return `${value}n`;
      case "symbol":
        return String(value);
      case "undefined":
        return "undefined";
      case "boolean":
        return String(value);
      case "function": {
        const name = value.name ? `: ${value.name}` : " (anonymous)";
        const kind = /^class\b/.test(Function.prototype.toString.call(value)) ? "class" : "Function";
        return kind === "class" ? `[class ${value.name || "(anonymous)"}]` : `[Function${name}]`;
      }
    }
    if (value === null) return "null";
    if (seen.has(value)) return "[Circular *1]";
    if (value instanceof Error) {
      const stack = value.stack ? `${value.name}: ${value.message}\n${value.stack}`.trimEnd() : `${value.name}: ${value.message}`;
      return nested ? `[${stack}]` : stack;
    }
    if (value instanceof Date) return isNaN(value) ? "Invalid Date" : value.toISOString();
    if (value instanceof RegExp) return String(value);
    if (value instanceof Promise) return "Promise { <pending> }";
    if (globalThis.Buffer && value instanceof globalThis.Buffer) {
      const bytes = Array.from(value.subarray(0, 50), (b) => b.toString(16).padStart(2, "0"));
      return `<Buffer${bytes.length ? " " : ""}${bytes.join(" ")}${value.length > 50 ? ` ... ${value.length - 50} more bytes` : ""}>`;
    }
    if (depth < 0) {
      // Past the depth only empty containers are shown, as they are.
      if (Array.isArray(value)) return value.length === 0 ? "[]" : "[Array]";
      const name = constructorName(value);
      if (name === "Object" && Reflect.ownKeys(value).length === 0) return "{}";
      return `[${name}]`;
    }
    seen.add(value);
    try {
      const inner = (v) => show(v, depth - 1, indent + 1, seen, true);
      if (Array.isArray(value)) {
        const entries = value.slice(0, 100).map(inner);
        if (value.length > 100) entries.push(`... ${value.length - 100} more items`);
        return group("", entries, "[", "]", indent);
      }
      if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
        const entries = Array.from(value.slice(0, 100), (v) => inner(v));
        if (value.length > 100) entries.push(`... ${value.length - 100} more items`);
        return group(`${constructorName(value)}(${value.length}) `, entries, "[", "]", indent);
      }
      if (value instanceof Map) {
        const entries = Array.from(value, ([k, v]) => `${inner(k)} => ${inner(v)}`);
        return group(`Map(${value.size}) `, entries, "{", "}", indent);
      }
      if (value instanceof Set) {
        return group(`Set(${value.size}) `, Array.from(value, inner), "{", "}", indent);
      }
      const entries = [];
      for (const name of Reflect.ownKeys(value)) {
        const descriptor = Object.getOwnPropertyDescriptor(value, name);
        if (!descriptor.enumerable) continue;
        const shown = "value" in descriptor ? inner(descriptor.value) : descriptor.set ? "[Getter/Setter]" : "[Getter]";
        entries.push(`${key(name)}: ${shown}`);
      }
      const name = constructorName(value);
      return group(name === "Object" ? "" : `${name} `, entries, "{", "}", indent);
    } finally {
      seen.delete(value);
    }
  }

  function format(...args) {
    if (typeof args[0] !== "string") return args.map((a) => show(a, 2, 0, new Set(), false)).join(" ");
    let rest = 1;
    let text = args[0].replace(/%([sdifjoOc%])/g, (whole, spec) => {
      if (spec === "%") return "%";
      if (rest >= args.length) return whole;
      const arg = args[rest++];
      switch (spec) {
        case "s":
          return typeof arg === "string" ? arg : typeof arg === "bigint" ? `${arg}n` : typeof arg === "object" && arg !== null ? show(arg, 1, 0, new Set(), false) : String(arg);
        case "d":
          return typeof arg === "bigint" ? `${arg}n` : String(Number(arg));
        case "i":
          return typeof arg === "bigint" ? `${arg}n` : String(parseInt(arg, 10));
        case "f":
          return String(parseFloat(arg));
        case "j":
          try {
            return JSON.stringify(arg);
          } catch {
            return "[Circular]";
          }
        case "o":
        case "O":
          return show(arg, 4, 0, new Set(), true);
        case "c":
          return "";
      }
      return whole;
    });
    for (; rest < args.length; rest++) text += ` ${show(args[rest], 2, 0, new Set(), false)}`;
    return text;
  }

  // ---- bytes --------------------------------------------------------------

  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  // A Uint8Array that prints and concatenates as UTF-8 text, as Node's Buffer
  // does (stdin chunks are these).
  class Buffer extends Uint8Array {
    static from(input, encoding) {
      if (typeof input === "string") {
        if (encoding !== undefined && !/^utf-?8$/i.test(encoding)) {
          throw new TypeError(`Unknown encoding: ${encoding}`);
        }
        return new Buffer(encoder.encode(input));
      }
      return new Buffer(input);
    }
    static isBuffer(value) {
      return value instanceof Buffer;
    }
    static concat(list) {
      const out = new Buffer(list.reduce((n, b) => n + b.length, 0));
      let at = 0;
      for (const bytes of list) {
        out.set(bytes, at);
        at += bytes.length;
      }
      return out;
    }
    toString(encoding = "utf8") {
      if (!/^utf-?8$/i.test(encoding)) throw new TypeError(`Unknown encoding: ${encoding}`);
      return decoder.decode(this);
    }
  }

  function chunkOf(chunk, encoding) {
    if (typeof chunk === "string") return chunk;
    if (chunk instanceof Uint8Array) return chunk;
    if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    throw new TypeError(`The "chunk" argument must be of type string or an instance of Buffer or Uint8Array (${encoding ?? "utf8"})`);
  }

  // ---- events -------------------------------------------------------------

  // Just enough of EventEmitter for `process` and its streams.
  class Emitter {
    #listeners = new Map();
    on(name, listener) {
      if (!this.#listeners.has(name)) this.#listeners.set(name, []);
      this.#listeners.get(name).push({ listener, once: false });
      return this;
    }
    addListener(name, listener) {
      return this.on(name, listener);
    }
    once(name, listener) {
      this.on(name, listener);
      this.#listeners.get(name).at(-1).once = true;
      return this;
    }
    off(name, listener) {
      const list = this.#listeners.get(name);
      if (list) {
        const at = list.findIndex((entry) => entry.listener === listener);
        if (at >= 0) list.splice(at, 1);
      }
      return this;
    }
    removeListener(name, listener) {
      return this.off(name, listener);
    }
    removeAllListeners(name) {
      if (name === undefined) this.#listeners.clear();
      else this.#listeners.delete(name);
      return this;
    }
    listenerCount(name) {
      return this.#listeners.get(name)?.length ?? 0;
    }
    emit(name, ...args) {
      const list = this.#listeners.get(name);
      if (!list || list.length === 0) return false;
      for (const entry of [...list]) {
        if (entry.once) this.off(name, entry.listener);
        entry.listener.apply(this, args);
      }
      return true;
    }
  }

  // ---- timers ---------------------------------------------------------------

  // Pending timers in a binary heap ordered by (due time, creation order).
  // Each timer knows its place in the heap (`_index`, -1 when not in it),
  // so clearing or refreshing one takes it out at once: a cleared timer
  // holds no memory, whatever a program schedules and clears.
  const heap = [];
  let sequence = 0;
  let nextId = 1;
  // Timers whose id was taken as a number (`+timer`), by id, so that
  // `clearTimeout(id)` finds them (as in Node.js).
  const byId = new Map();
  const immediates = [];
  const ticks = [];

  const before = (a, b) => a._when < b._when || (a._when === b._when && a._seq < b._seq);
  function place(timer, i) {
    heap[i] = timer;
    timer._index = i;
  }
  function siftUp(i) {
    const timer = heap[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(timer, heap[parent])) break;
      place(heap[parent], i);
      i = parent;
    }
    place(timer, i);
  }
  function siftDown(i) {
    const timer = heap[i];
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let next = l < heap.length && before(heap[l], timer) ? l : i;
      if (r < heap.length && before(heap[r], next === i ? timer : heap[next])) next = r;
      if (next === i) break;
      place(heap[next], i);
      i = next;
    }
    place(timer, i);
  }
  function schedule(timer) {
    timer._when = nowMs() + timer._delay;
    timer._seq = sequence++;
    heap.push(timer);
    siftUp(heap.length - 1);
  }
  function unschedule(timer) {
    const i = timer._index;
    if (i < 0) return;
    timer._index = -1;
    const last = heap.pop();
    if (i < heap.length) {
      place(last, i);
      siftUp(i);
      siftDown(last._index);
    }
  }

  const nowMs = () => Number(natives.nowNs()) / 1e6;

  // What keeps the program alive while it is pending, unless `unref`ed.
  class Handle {
    constructor() {
      this._ref = true;
    }
    ref() {
      this._ref = true;
      return this;
    }
    unref() {
      this._ref = false;
      return this;
    }
    hasRef() {
      return this._ref;
    }
  }

  class Timeout extends Handle {
    constructor(callback, delay, args, repeat) {
      super();
      this._callback = callback;
      this._args = args.length > 0 ? args : undefined;
      this._delay = delay;
      this._repeat = repeat;
      this._index = -1;
      this._when = 0;
      this._seq = 0;
      this._id = 0;
      schedule(this);
    }
    refresh() {
      if (this._index >= 0) {
        unschedule(this);
        schedule(this);
      }
      return this;
    }
    close() {
      clearTimeout(this);
      return this;
    }
    [Symbol.toPrimitive]() {
      if (this._id === 0) {
        this._id = nextId++;
        byId.set(this._id, this);
      }
      return this._id;
    }
  }

  function delayOf(ms) {
    const delay = Number(ms);
    return delay >= 1 && delay <= 2147483647 ? delay : 1;
  }
  function callable(callback) {
    if (typeof callback !== "function") {
      const error = new TypeError(`The "callback" argument must be of type function. Received ${show(callback, 0, 0, new Set(), true)}`);
      error.code = "ERR_INVALID_ARG_TYPE";
      throw error;
    }
    return callback;
  }
  function setTimeout(callback, ms, ...args) {
    return new Timeout(callable(callback), delayOf(ms), args, false);
  }
  function setInterval(callback, ms, ...args) {
    return new Timeout(callable(callback), delayOf(ms), args, true);
  }
  function clearTimeout(timer) {
    const found = timer instanceof Timeout ? timer : byId.get(Number(timer));
    if (!found) return;
    unschedule(found);
    if (found._id !== 0) byId.delete(found._id);
  }
  class Immediate extends Handle {
    constructor(callback, args) {
      super();
      this._callback = callback;
      this._args = args.length > 0 ? args : undefined;
      this._cleared = false;
    }
  }
  function setImmediate(callback, ...args) {
    const immediate = new Immediate(callable(callback), args);
    immediates.push(immediate);
    return immediate;
  }
  function clearImmediate(immediate) {
    if (immediate instanceof Immediate) immediate._cleared = true;
  }
  function call(callback, args) {
    if (args === undefined) callback();
    else callback(...args);
  }

  // ---- process --------------------------------------------------------------

  class ExitSignal {}
  const state = {
    exitCode: undefined,
    exiting: false,
    closed: false,
    returned: undefined,
    hasReturn: false,
    started: 0,
    argv: [],
    env: {},
    cwd: "/",
  };

  // The exit status the process reports, as an operating system keeps it:
  // the low 8 bits of the exit code.
  const exitStatus = () => (state.exitCode ?? 0) & 0xff;

  function exitCodeOf(code) {
    if (code === undefined || code === null) return undefined;
    if (typeof code === "string" && /^-?\d+$/.test(code)) code = Number(code);
    if (!Number.isInteger(code)) {
      const error = new TypeError(`The "code" argument must be an integer. Received ${show(code, 0, 0, new Set(), true)}`);
      error.code = "ERR_INVALID_ARG_TYPE";
      throw error;
    }
    return code;
  }

  class Stdout extends Emitter {
    constructor(fd) {
      super();
      this.fd = fd;
      this.isTTY = false;
      this.writable = true;
    }
    write(chunk, encoding, callback) {
      if (typeof encoding === "function") callback = encoding;
      const data = chunkOf(chunk, encoding);
      // After `process.exit` has run the exit listeners, nothing more is
      // written (as in Node.js, where the process is gone by then).
      if (state.closed) return false;
      natives.write(this.fd, data);
      if (typeof callback === "function") queueMicrotask(callback);
      return true;
    }
    end(chunk, encoding, callback) {
      if (chunk !== undefined && chunk !== null && typeof chunk !== "function") this.write(chunk, encoding);
      const done = [chunk, encoding, callback].find((a) => typeof a === "function");
      if (done) queueMicrotask(done);
      return this;
    }
  }

  // Standard input: the bytes the caller passed, read in chunks.
  class Stdin extends Emitter {
    #encoding = undefined;
    #ended = false;
    #flowing = false;
    constructor() {
      super();
      this.fd = 0;
      this.isTTY = false;
      this.readable = true;
    }
    setEncoding(encoding) {
      this.#encoding = encoding;
      return this;
    }
    #next() {
      if (this.#ended) return null;
      const bytes = natives.readStdin();
      if (bytes.length === 0) {
        this.#ended = true;
        this.readable = false;
        return null;
      }
      const chunk = new Buffer(bytes);
      return this.#encoding ? chunk.toString(this.#encoding) : chunk;
    }
    read() {
      return this.#next();
    }
    on(name, listener) {
      super.on(name, listener);
      if (name === "data" && !this.#flowing) this.resume();
      return this;
    }
    resume() {
      if (this.#flowing) return this;
      this.#flowing = true;
      setImmediate(() => {
        for (let chunk = this.#next(); chunk !== null; chunk = this.#next()) this.emit("data", chunk);
        this.emit("end");
        this.emit("close");
      });
      return this;
    }
    pause() {
      return this;
    }
    async *[Symbol.asyncIterator]() {
      for (let chunk = this.#next(); chunk !== null; chunk = this.#next()) yield chunk;
    }
  }

  const proc = new Emitter();
  const stdout = new Stdout(1);
  const stderr = new Stdout(2);
  const stdin = new Stdin();

  function exit(code) {
    if (code !== undefined) state.exitCode = exitCodeOf(code);
    if (!state.exiting) {
      state.exiting = true;
      try {
        proc.emit("exit", state.exitCode ?? 0);
      } catch (error) {
        stderr.write(`${inspect(error)}\n`);
      }
    }
    // From here the runtime interrupts any code that runs, catch and finally
    // blocks included, and nothing more is written.
    state.closed = true;
    natives.exiting();
    throw new ExitSignal();
  }

  function hrtime(previous) {
    const ns = natives.nowNs();
    const seconds = Number(ns / 1000000000n);
    const nanos = Number(ns % 1000000000n);
    if (!Array.isArray(previous)) return [seconds, nanos];
    let s = seconds - previous[0];
    let n = nanos - previous[1];
    if (n < 0) {
      s -= 1;
      n += 1e9;
    }
    return [s, n];
  }
  hrtime.bigint = () => natives.nowNs();

  const VERSION = "v22.0.0";
  define(proc, "title", "polybox");
  define(proc, "version", VERSION);
  define(proc, "versions", { node: VERSION.slice(1), polybox: "0.1.0" });
  define(proc, "platform", "linux");
  define(proc, "arch", "wasm32");
  define(proc, "pid", 1);
  define(proc, "ppid", 0);
  define(proc, "execPath", "/usr/local/bin/polybox");
  define(proc, "execArgv", []);
  define(proc, "release", { name: "node" });
  define(proc, "stdout", stdout);
  define(proc, "stderr", stderr);
  define(proc, "stdin", stdin);
  define(proc, "exit", exit);
  define(proc, "hrtime", hrtime);
  define(proc, "nextTick", (callback, ...args) => {
    ticks.push([callable(callback), args]);
  });
  define(proc, "uptime", () => (nowMs() - state.started) / 1000);
  define(proc, "emitWarning", (warning, type = "Warning") => {
    const text = warning instanceof Error ? `${warning.name}: ${warning.message}` : `${type}: ${warning}`;
    stderr.write(`(polybox:1) ${text}\n`);
  });
  define(proc, "abort", () => exit(134));
  define(proc, "kill", () => {
    const error = new Error("process.kill is not supported in a sandbox");
    error.code = "ENOSYS";
    throw error;
  });
  define(proc, "memoryUsage", () => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }));
  // What is the program's own, set when it starts (`start`).
  const own = (name) => ({
    get: () => state[name],
    set: (value) => {
      state[name] = value;
    },
    configurable: true,
    enumerable: true,
  });
  Object.defineProperties(proc, { argv: own("argv"), env: own("env") });
  define(proc, "argv0", "polybox");
  define(proc, "cwd", () => state.cwd);
  define(proc, "chdir", (to) => {
    const path = String(to);
    state.cwd = path.startsWith("/") ? path : `${state.cwd.replace(/\/$/, "")}/${path}`;
  });
  Object.defineProperty(proc, "exitCode", {
    get: () => state.exitCode,
    set: (code) => {
      state.exitCode = exitCodeOf(code);
    },
    configurable: true,
  });

  // ---- console --------------------------------------------------------------

  const counts = new Map();
  const times = new Map();
  // `console.group` indents what follows by two spaces per level.
  let indent = "";
  const line = (text) => (indent === "" ? `${text}\n` : `${indent}${text.replaceAll("\n", `\n${indent}`)}\n`);
  const out = (...args) => stdout.write(line(format(...args)));
  const err = (...args) => stderr.write(line(format(...args)));
  const programConsole = {
    log: out,
    info: out,
    debug: out,
    error: err,
    warn: err,
    trace: (...args) => {
      const stack = (new Error().stack ?? "").split("\n").slice(1).join("\n");
      err(`Trace${args.length ? `: ${format(...args)}` : ""}\n${stack}`.trimEnd());
    },
    dir: (value, options) => out(inspect(value, options)),
    assert: (condition, ...args) => {
      if (!condition) err(`Assertion failed${args.length ? `: ${format(...args)}` : ""}`);
    },
    count: (label = "default") => {
      counts.set(label, (counts.get(label) ?? 0) + 1);
      out(`${label}: ${counts.get(label)}`);
    },
    countReset: (label = "default") => counts.delete(label),
    time: (label = "default") => times.set(label, nowMs()),
    timeEnd: (label = "default") => {
      if (times.has(label)) out(`${label}: ${(nowMs() - times.get(label)).toFixed(3)}ms`);
      times.delete(label);
    },
    timeLog: (label = "default", ...args) => {
      if (times.has(label)) out(`${label}: ${(nowMs() - times.get(label)).toFixed(3)}ms`, ...args);
    },
    // Without Node's grid: the data as util.inspect shows it.
    table: (data) => out(inspect(data)),
    group: (...args) => {
      if (args.length > 0) out(...args);
      indent += "  ";
    },
    groupCollapsed: (...args) => programConsole.group(...args),
    groupEnd: () => {
      indent = indent.slice(2);
    },
  };

  // ---- Node.js core modules ---------------------------------------------------

  function abortError(signal) {
    const error = new Error("The operation was aborted", { cause: signal.reason });
    error.name = "AbortError";
    error.code = "ABORT_ERR";
    return error;
  }

  // Settles after `delay` ms with `value`, or rejects when `signal` aborts.
  function delayed(schedule, cancel, value, options = {}) {
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        cancel(timer);
        reject(abortError(signal));
      };
      const timer = schedule(() => {
        signal?.removeEventListener?.("abort", onAbort);
        resolve(value);
      });
      if (options.ref === false) timer.unref();
      signal?.addEventListener?.("abort", onAbort, { once: true });
    });
  }

  const timersPromises = {
    setTimeout: (delay, value, options) =>
      delayed((done) => setTimeout(done, delay), clearTimeout, value, options),
    setImmediate: (value, options) => delayed((done) => setImmediate(done), clearImmediate, value, options),
    async *setInterval(delay, value, options = {}) {
      for (;;) {
        yield await timersPromises.setTimeout(delay, value, options);
      }
    },
    scheduler: {
      wait: (delay, options) => timersPromises.setTimeout(delay, undefined, options),
      yield: () => timersPromises.setImmediate(),
    },
  };

  // The timer functions, as globals and as the `timers` module.
  const timerFunctions = {
    setTimeout,
    setInterval,
    setImmediate,
    clearTimeout,
    clearInterval: clearTimeout,
    clearImmediate,
  };
  const timers = { ...timerFunctions, promises: timersPromises };

  // The core modules this runtime provides, by name.
  const builtins = new Map([
    ["process", proc],
    ["timers", timers],
    ["timers/promises", timersPromises],
  ]);

  // Node.js core modules a sandbox does not provide: importing one fails
  // with an error that names it, rather than handing out a stub.
  const withheld = new Set([
    "assert", "assert/strict", "async_hooks", "buffer", "child_process", "cluster", "console",
    "constants", "crypto", "dgram", "diagnostics_channel", "dns", "dns/promises", "domain",
    "events", "fs", "fs/promises", "http", "http2", "https", "inspector", "module", "net", "os",
    "path", "path/posix", "path/win32", "perf_hooks", "punycode", "querystring", "readline",
    "readline/promises", "repl", "stream", "stream/consumers", "stream/promises", "stream/web",
    "string_decoder", "sys", "test", "tls", "trace_events", "tty", "url", "util", "util/types",
    "v8", "vm", "wasi", "worker_threads", "zlib",
  ]);

  // The core module `specifier` names (`x` or `node:x`), if it is one.
  function coreName(specifier) {
    const name = specifier.startsWith("node:") ? specifier.slice(5) : specifier;
    return builtins.has(name) || withheld.has(name) || specifier.startsWith("node:") ? name : undefined;
  }

  function moduleNotFound(specifier, code, base) {
    const name = coreName(specifier);
    const from = base === undefined ? "" : ` imported from ${base}`;
    const error = new Error(
      name !== undefined
        ? `Cannot find module '${specifier}'${from}: Polybox does not provide the Node.js module 'node:${name}'`
        : `Cannot find module '${specifier}'${from}: a program can load only Node.js core modules`,
    );
    error.code = code;
    return error;
  }

  // `require` of a CommonJS program: the core modules above.
  function require(specifier) {
    if (typeof specifier !== "string") {
      const error = new TypeError(`The "id" argument must be of type string. Received ${show(specifier, 0, 0, new Set(), true)}`);
      error.code = "ERR_INVALID_ARG_TYPE";
      throw error;
    }
    const name = coreName(specifier);
    if (name !== undefined && builtins.has(name)) return builtins.get(name);
    throw moduleNotFound(specifier, "MODULE_NOT_FOUND");
  }

  const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
  const RESERVED = new Set(["default", "delete", "new", "class", "function", "this", "import", "export"]);

  // The source of the ES module that presents core module `name`: its
  // object as the default export, and each of its properties by name.
  function moduleSource(name) {
    const names = Object.getOwnPropertyNames(builtins.get(name)).filter(
      (key) => IDENTIFIER.test(key) && !RESERVED.has(key),
    );
    return [
      'import { builtin } from "#node";',
      `const module = builtin(${JSON.stringify(name)});`,
      "export default module;",
      names.length ? `export const { ${names.join(", ")} } = module;` : "",
    ].join("\n");
  }

  // The globals a program gets, defined in one step when it starts.
  const programGlobals = Object.getOwnPropertyDescriptors({
    process: proc,
    console: programConsole,
    Buffer,
    ...timerFunctions,
    __return(value) {
      state.returned = value;
      state.hasReturn = true;
    },
  });
  for (const descriptor of Object.values(programGlobals)) descriptor.enumerable = false;

  // ---- the controls run-program drives ---------------------------------------

  // Drops everything the program still had scheduled: it is ending, and
  // what it held may be what exhausted the heap.
  function abandon() {
    for (const timer of heap) timer._index = -1;
    heap.length = 0;
    byId.clear();
    immediates.length = 0;
    ticks.length = 0;
  }

  // Runs the callbacks `process.nextTick` queued.
  function runTicks() {
    while (ticks.length > 0) {
      const [callback, args] = ticks.shift();
      callback(...args);
    }
  }

  return {
    ExitSignal,
    inspect,
    format,
    require,

    // The name an ES module import of `specifier` (by `base`) resolves to:
    // a core module this runtime provides (`node:x`). Anything else is not
    // found.
    resolveCore(specifier, base) {
      const name = coreName(specifier);
      if (name === undefined || !builtins.has(name)) {
        throw moduleNotFound(specifier, "ERR_MODULE_NOT_FOUND", base);
      }
      return `node:${name}`;
    },
    moduleSource: (resolved) => moduleSource(resolved.slice(5)),

    // Installs the process for one program.
    start(argv, env, cwd) {
      state.started = nowMs();
      state.argv = argv;
      state.env = env;
      state.cwd = cwd;
      Object.defineProperties(globalThis, programGlobals);
    },

    // Runs what is due: queued ticks, then timers whose time has come (with
    // the ticks each queues), then the immediates queued before this turn.
    // Returns false once the program is exiting.
    turn(runJobs) {
      runTicks();
      runJobs();
      const now = nowMs();
      while (heap.length > 0 && heap[0]._when <= now && !state.exiting) {
        const timer = heap[0];
        unschedule(timer);
        if (timer._repeat) schedule(timer);
        else if (timer._id !== 0) byId.delete(timer._id);
        call(timer._callback, timer._args);
        runTicks();
        runJobs();
      }
      const due = immediates.splice(0, immediates.length);
      for (const immediate of due) {
        if (state.exiting) break;
        if (immediate._cleared) continue;
        call(immediate._callback, immediate._args);
        runTicks();
        runJobs();
      }
      return !state.exiting;
    },

    // When the program needs to run next, in monotonic nanoseconds: 0 for
    // now, -1 when nothing keeps it alive (timers that are `unref`ed do not).
    nextWake() {
      if (ticks.length > 0 || immediates.some((i) => !i._cleared && i._ref)) return 0;
      if (heap.length === 0) return -1;
      if (heap[0]._ref) return Math.ceil(heap[0]._when * 1e6);
      let wake = -1;
      for (const timer of heap) {
        if (timer._ref && (wake < 0 || timer._when < wake)) wake = timer._when;
      }
      // An unref'ed timer that is due first still runs while the program
      // is alive.
      return wake < 0 ? -1 : Math.ceil(heap[0]._when * 1e6);
    },

    // The exit code of a program that ran to its end.
    finish() {
      if (!state.exiting) {
        state.exiting = true;
        proc.emit("exit", state.exitCode ?? 0);
      }
      return exitStatus();
    },

    // Reports what nothing caught, as Node does, and ends the program: an
    // `uncaughtException` listener handles it instead, if there is one.
    uncaught(error, origin) {
      const event = origin === "unhandledRejection" ? "unhandledRejection" : "uncaughtException";
      if (proc.listenerCount(event) > 0) {
        proc.emit(event, error, origin);
        return true;
      }
      abandon();
      const report = error instanceof Error ? inspect(error) : `Uncaught ${inspect(error)}`;
      stderr.write(`${report}\n`);
      state.exitCode = 1;
      return false;
    },

    abandon,
    exitCode: exitStatus,
    setExitCode(code) {
      state.exitCode = code;
    },
    returned: () => (state.hasReturn ? [state.returned] : []),
  };
})
