// The process a program runs in: `process`, console output to its standard
// streams, Node's core modules, and the controls `run-program` drives its
// event loop with. Evaluated once, when the runtime is readied for programs
// (`prepare-programs`), so that it is part of the image every program
// starts from; a handler never sees any of it.
//
// Evaluated as a function of the native helpers (`natives`: write(fd,
// chunk), readStdin(), nowNs(), waitUntil(ns), exiting(), the timers'
// controls, `timers`, from timers.js, makeFs, from fs.js, and makeHttp,
// from http.js) and of the factories of the modules npm's ports
// of Node.js provide (`polyfills`, node/entry.js).
(function (natives, polyfills) {
  "use strict";

  const define = (target, name, value) =>
    Object.defineProperty(target, name, { value, writable: true, configurable: true });

  // ---- from npm's ports of Node.js's modules (polyfills.js) ----------------

  // Runs `load` with a stand-in `Atomics` global: node-inspect-extracted
  // copies Node's primordials, Atomics among them, which this runtime
  // leaves out (without threads it has no use). Nothing it copies is used.
  function withAtomics(load) {
    globalThis.Atomics = {};
    try {
      return load();
    } finally {
      delete globalThis.Atomics;
    }
  }

  // util.inspect and util.format as Node.js has them; Buffer; EventEmitter.
  const { inspect, format, formatWithOptions, stripVTControlCharacters } = withAtomics(polyfills.inspect);
  const { Buffer } = polyfills.buffer();
  nativeUtf8(Buffer);
  const EventEmitter = polyfills.events();
  // The web globals (web.js), loaded now, into the image programs start
  // from.
  const { URL, URLSearchParams } = globalThis;
  const describe = (value) => inspect(value, { depth: 0, breakLength: Infinity });

  function chunkOf(chunk, encoding) {
    if (typeof chunk === "string") return encoding === undefined || /^utf-?8$/i.test(encoding) ? chunk : Buffer.from(chunk, encoding);
    if (chunk instanceof Uint8Array) return chunk;
    if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const error = new TypeError(`The "chunk" argument must be of type string or an instance of Buffer or Uint8Array. Received ${describe(chunk)}`);
    error.code = "ERR_INVALID_ARG_TYPE";
    throw error;
  }

  // The port's UTF-8 codec is a JavaScript loop (about 2 MB/s here): Buffer
  // takes the runtime's native one (TextEncoder/TextDecoder, which keep a
  // byte-order mark as Node's Buffer does) for strings and `toString()`.
  function nativeUtf8(Buffer) {
    const UTF8 = /^utf-?8$/i;
    const isUtf8 = (encoding) => encoding === undefined || (typeof encoding === "string" && UTF8.test(encoding));
    const encoder = new TextEncoder();
    const decoder = new TextDecoder();
    const { from, byteLength } = Buffer;
    const { toString } = Buffer.prototype;
    Buffer.from = function (value, encodingOrOffset, length) {
      if (typeof value === "string" && isUtf8(encodingOrOffset)) {
        const bytes = encoder.encode(value);
        return from.call(Buffer, bytes.buffer, bytes.byteOffset, bytes.byteLength);
      }
      return from.call(Buffer, value, encodingOrOffset, length);
    };
    Buffer.byteLength = function (value, encoding) {
      return typeof value === "string" && isUtf8(encoding) ? encoder.encode(value).length : byteLength.call(Buffer, value, encoding);
    };
    Buffer.prototype.toString = function (encoding, start, end) {
      if (!isUtf8(encoding)) return toString.apply(this, arguments);
      const from = start === undefined || start < 0 ? 0 : Math.min(Math.trunc(start) || 0, this.length);
      const to = end === undefined || end > this.length ? this.length : Math.max(Math.trunc(end) || 0, from);
      return decoder.decode(this.subarray(from, to));
    };
  }

  // ---- timers (timers.js, shared with handlers) -------------------------------

  const timers = natives.timers;
  const nowMs = () => Number(natives.nowNs()) / 1e6;
  const {
    setTimeout,
    setInterval,
    setImmediate,
    clearTimeout,
    clearInterval,
    clearImmediate,
  } = timers.functions;
  const timersPromises = timers.promises;

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
      const error = new TypeError(`The "code" argument must be an integer. Received ${describe(code)}`);
      error.code = "ERR_INVALID_ARG_TYPE";
      throw error;
    }
    return code;
  }

  class Stdout extends EventEmitter {
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
  class Stdin extends EventEmitter {
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
      const chunk = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
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

  const proc = new EventEmitter();
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
    // blocks included, and nothing more is written. (The interrupt is an
    // error: no JavaScript may run while it is made.)
    state.closed = true;
    Error.prepareStackTrace = undefined;
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
  define(proc, "nextTick", timers.nextTick);
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

  // The `timers` module: the timer functions, with their promised forms.
  const timersModule = { ...timers.functions, promises: timersPromises };

  // `os`: a fixed view of a machine that reveals nothing of the host.
  const os = {
    EOL: "\n",
    devNull: "/dev/null",
    arch: () => "wasm32",
    machine: () => "wasm32",
    platform: () => "linux",
    type: () => "Linux",
    release: () => "0.0.0",
    version: () => "Polybox",
    hostname: () => "localhost",
    homedir: () => state.env.HOME ?? "/home/user",
    tmpdir: () => "/tmp",
    endianness: () => "LE",
    uptime: () => proc.uptime(),
    loadavg: () => [0, 0, 0],
    availableParallelism: () => 1,
    cpus: () => [],
    totalmem: () => 0,
    freemem: () => 0,
    networkInterfaces: () => ({}),
    userInfo: () => ({ uid: -1, gid: -1, username: "user", homedir: os.homedir(), shell: null }),
    getPriority: () => 0,
    setPriority: () => {},
    constants: { signals: {}, errno: {}, priority: {} },
  };

  // `url`: the legacy API (parse, format, resolve) with the WHATWG URL and
  // Node's file URL helpers.
  function url() {
    const legacy = polyfills.url();
    const fileURLToPath = (input) => {
      const parsed = typeof input === "string" ? new URL(input) : input;
      if (parsed.protocol !== "file:") {
        const error = new TypeError("The URL must be of scheme file");
        error.code = "ERR_INVALID_URL_SCHEME";
        throw error;
      }
      if (parsed.hostname !== "") {
        const error = new TypeError(`File URL host must be "localhost" or empty on linux`);
        error.code = "ERR_INVALID_FILE_URL_HOST";
        throw error;
      }
      return decodeURIComponent(parsed.pathname);
    };
    const pathToFileURL = (path) => {
      const absolute = polyfills.path().resolve(state.cwd, String(path));
      const encoded = absolute.split("/").map(encodeURIComponent).join("/");
      return new URL(`file://${encoded}${String(path).endsWith("/") && !encoded.endsWith("/") ? "/" : ""}`);
    };
    return { ...legacy, URL, URLSearchParams, fileURLToPath, pathToFileURL };
  }

  // `util`: the browser port's, with Node's own inspect and format, and
  // the timers' promisified forms.
  function util() {
    const base = polyfills.util();
    setTimeout[base.promisify.custom] = timersPromises.setTimeout;
    setImmediate[base.promisify.custom] = timersPromises.setImmediate;
    return {
      ...base,
      inspect,
      format,
      formatWithOptions,
      stripVTControlCharacters,
      TextEncoder,
      TextDecoder,
    };
  }

  // The core modules this runtime provides, by name: each made when a
  // program first loads it.
  const factories = new Map([
    ["assert", () => polyfills.assert()],
    ["assert/strict", () => polyfills.assert().strict],
    ["buffer", () => polyfills.buffer()],
    ["console", () => programConsole],
    ["events", () => EventEmitter],
    ["fs", () => natives.makeFs({ Buffer, path: load("path"), cwd: () => state.cwd, EventEmitter, later: setImmediate })],
    ["fs/promises", () => load("fs").promises],
    ["http", () => httpServers().module],
    ["os", () => os],
    ["path", () => polyfills.path()],
    ["path/posix", () => polyfills.path()],
    ["process", () => proc],
    ["querystring", () => polyfills.querystring()],
    ["string_decoder", () => polyfills.string_decoder()],
    ["timers", () => timersModule],
    ["timers/promises", () => timersPromises],
    ["url", url],
    ["util", util],
    ["util/types", () => load("util").types],
  ]);
  // node:http's servers and the loop's hooks (http.js), once loaded.
  let http;
  const httpServers = () => (http ??= natives.makeHttp({ EventEmitter, Buffer, setImmediate, nextTick: timers.nextTick }));

  const loaded = new Map();
  function load(name) {
    if (!loaded.has(name)) loaded.set(name, factories.get(name)());
    return loaded.get(name);
  }
  const builtins = { has: (name) => factories.has(name) };

  // Node.js core modules a sandbox does not provide: importing one fails
  // with an error that names it, rather than handing out a stub.
  const withheld = new Set([
    "async_hooks", "child_process", "cluster", "constants", "dgram",
    "diagnostics_channel", "dns", "dns/promises", "domain", "http2",
    "https", "inspector", "module", "net", "path/win32", "perf_hooks", "punycode", "readline",
    "readline/promises", "repl", "stream", "stream/consumers", "stream/promises", "stream/web",
    "sys", "test", "tls", "trace_events", "tty", "v8", "vm", "wasi", "worker_threads", "zlib",
  ]);

  // The core module `specifier` names (`x` or `node:x`), if it is one.
  function coreName(specifier) {
    const name = specifier.startsWith("node:") ? specifier.slice(5) : specifier;
    return builtins.has(name) || withheld.has(name) || specifier.startsWith("node:") ? name : undefined;
  }

  // The error for a core module this runtime does not provide.
  function moduleNotFound(specifier, code, base) {
    const from = base === undefined ? "" : ` imported from ${base}`;
    const error = new Error(
      `Cannot find module '${specifier}'${from}: Polybox does not provide the Node.js module 'node:${coreName(specifier)}'`,
    );
    error.code = code;
    return error;
  }

  // Files: `import` and `require` of the sandbox's files (modules.js).
  const modules = natives.makeModules({
    path: polyfills.path(),
    core: {
      name: coreName,
      has: builtins.has,
      load,
      notFound: moduleNotFound,
      exportsSource: (name, value) => exportsSource(name, value),
    },
  });

  const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
  const RESERVED = new Set(["default", "delete", "new", "class", "function", "this", "import", "export"]);
  // What every function has of its own, which is no module's export.
  const FUNCTION_OWN = new Set(["length", "name", "prototype", "caller", "arguments"]);

  // The source of the ES module named `name` that presents `value` (a core
  // module, a CommonJS module's exports): the value as the default export,
  // and each of its properties by name. `#node`'s `builtin(name)` gives the
  // value back.
  function exportsSource(name, value) {
    const intrinsic = typeof value === "function" ? FUNCTION_OWN : new Set();
    const names = value === null || (typeof value !== "object" && typeof value !== "function")
      ? []
      : Object.getOwnPropertyNames(value).filter(
          (key) => IDENTIFIER.test(key) && !RESERVED.has(key) && !intrinsic.has(key),
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
    // No global `require` (hyperlight-js's): an ES module has none in
    // Node.js, and a CommonJS script gets its own.
    require: undefined,
    process: proc,
    console: programConsole,
    Buffer,
    ...timers.functions,
    __return(value) {
      state.returned = value;
      state.hasReturn = true;
    },
  });
  for (const descriptor of Object.values(programGlobals)) descriptor.enumerable = false;

  // A program's `error.stack` as Node.js writes it: the error's name and
  // message, then a line per frame. (QuickJS's own has the frames only.)
  function nodeStack(error, sites) {
    let header;
    try {
      const message = String(error?.message ?? "");
      const name = String(error?.name ?? "Error");
      header = message === "" ? name : `${name}: ${message}`;
    } catch {
      header = "Error";
    }
    const frames = sites.map((site) => {
      const file = site.getFileName();
      const where = site.isNative?.() ? "native" : file ? `${file}:${site.getLineNumber()}:${site.getColumnNumber()}` : "<anonymous>";
      const name = site.getFunctionName();
      return name ? `    at ${name} (${where})` : `    at ${where}`;
    });
    return [header, ...frames].join("\n");
  }

  // ---- the controls run-program drives ---------------------------------------

  // Drops everything the program still had scheduled: it is ending, and
  // what it held may be what exhausted the heap.
  const abandon = timers.abandon;

  return {
    ExitSignal,
    inspect,
    format,

    // The name an ES module import of `specifier` (by `base`) resolves
    // to: `node:x` for a core module this runtime provides, else a file of
    // the sandbox's (see modules.js).
    resolveImport: modules.resolveImport,

    // The source of a resolved module: a core module's, or a file's.
    moduleSource(resolved) {
      if (resolved.startsWith("node:") && !resolved.startsWith(modules.CJS_PREFIX)) {
        const name = resolved.slice(5);
        return exportsSource(name, load(name));
      }
      return modules.moduleSource(resolved);
    },

    // What `#node`'s `builtin(name)` gives the modules presenting core
    // modules and CommonJS files.
    builtin(name) {
      return name.startsWith(modules.CJS_PREFIX) ? modules.requireFile(name.slice(modules.CJS_PREFIX.length)) : load(name);
    },

    // The `require` of a CommonJS program (or module) at `filename`.
    requireFor: modules.requireFor,

    // Makes `module` the core module `name` (the runtime's own `crypto`,
    // which is an ES module, for `require` too).
    provide(name, module) {
      factories.set(name, () => module);
    },

    // Installs the process for one program (or for the next run of a
    // continued process, which starts running again with no exit code).
    start(argv, env, cwd) {
      state.exiting = false;
      state.exitCode = undefined;
      state.hasReturn = false;
      state.returned = undefined;
      state.started = nowMs();
      Error.prepareStackTrace = nodeStack;
      state.argv = argv;
      state.env = env;
      state.cwd = cwd;
      Object.defineProperties(globalThis, programGlobals);
    },

    // Runs what is due (see timers.js); returns false once the program is
    // exiting.
    turn(runJobs) {
      timers.turn(runJobs, () => state.exiting);
      return !state.exiting;
    },

    // When the loop must run next (see timers.js); a listening server
    // keeps it waiting for requests when nothing else is pending.
    nextWake() {
      const wake = timers.nextWake();
      return wake === -1 && http?.listening() ? Number.MAX_SAFE_INTEGER : wake;
    },

    // Waits until the monotonic clock reads `wakeNs`, taking the requests
    // that arrive meanwhile while a server listens; false when stopped.
    idle(wakeNs) {
      return http?.listening() ? http.accept(wakeNs) : natives.waitUntil(wakeNs);
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
      // As Node.js reports it: an error by its stack (and its own
      // properties, which inspect adds), anything else as it is. An error
      // made when the stack or the heap ran out may have no frames, or no
      // stack at all.
      let report;
      if (!(error instanceof Error)) report = `Uncaught ${inspect(error)}`;
      else if (typeof error.stack !== "string") report = String(error);
      else report = error.stack.includes("\n    at ") ? inspect(error) : error.stack;
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
