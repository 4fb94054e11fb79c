'use strict';
// NodeRuntime: programs run as fresh processes, with the API of secure-exec's
// NodeRuntime. Every run is a new process in a sandbox of its own (restored
// from the state after the runtime started), so runs never see each other's
// state and may overlap. Output reaches onStdout/onStderr while the program
// runs; the event loop is never blocked.

const native = require('./native.js');
const { capabilities, http, tools } = require('./capabilities.js');
const { codedError, Disposable, withSignal } = require('./common.js');

// secure-exec's options that need what Polybox does not grant yet (a
// shell's commands, host ports opened to guests): refused, never silently
// ignored.
const NOT_YET = ['commandsDir', 'loopbackExemptPorts'];
// The options capabilities.js takes.
const CAPABILITIES = ['files', 'mounts', 'nodeModules', 'permissions', 'tools', 'http', 'httpHandler'];

/** The error for what @polybox/node does not do (yet); the README lists it all. */
function notSupported(what) {
  return codedError('ERR_NOT_SUPPORTED', `${what} is not supported by @polybox/node (see the README)`);
}

const { STATUS_CODES: STATUS_TEXT } = require('node:http');

/** A process NodeRuntime.spawn started (secure-exec's NodeRuntimeProcess). */
class RuntimeProcess {
  #native;

  constructor(nativeProcess) {
    this.#native = nativeProcess;
  }

  /** The process's id. */
  get pid() {
    return this.#native.pid;
  }

  /** Its exit code once it exited, else null. */
  get exitCode() {
    return this.#native.exitCode ?? null;
  }

  /** Adds `data` (a string or a Uint8Array) to its standard input. */
  writeStdin(data) {
    if (typeof data === 'string') data = Buffer.from(data, 'utf8');
    else if (data instanceof Uint8Array) data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    else throw codedError('ERR_INVALID_ARG', 'writeStdin takes a string or a Uint8Array');
    this.#native.writeStdin(data);
  }

  /** Ends its standard input. */
  closeStdin() {
    this.#native.closeStdin();
  }

  /**
   * Stops it, whatever the signal: a sandboxed process has no handlers
   * for signals, so every one ends it as SIGKILL would (exit code 137).
   */
  kill(_signal) {
    this.#native.kill();
  }

  /** Resolves to its exit code once it exits. */
  wait() {
    return this.#native.wait();
  }
}

/**
 * What hears a program's output when `options` has onStdout or onStderr:
 * the native side (`native`), and `drain()`, which hands every chunk
 * written so far to its callback (the native side calls it as chunks
 * come). Undefined when neither is given.
 */
function outputFor(options) {
  const { onStdout, onStderr } = options ?? {};
  for (const [name, callback] of [['onStdout', onStdout], ['onStderr', onStderr]]) {
    if (callback !== undefined && typeof callback !== 'function') {
      throw codedError('ERR_INVALID_ARG', `${name} must be a function, not ${callback === null ? 'null' : typeof callback}`);
    }
  }
  if (onStdout === undefined && onStderr === undefined) return undefined;
  const output = {
    drain() {
      for (const { fd, chunk } of output.native.take()) {
        try {
          (fd === 1 ? onStdout : onStderr)?.(chunk);
        } catch (error) {
          process.emitWarning(`a NodeRuntime output callback threw: ${error instanceof Error ? error.message : error}`);
        }
      }
    },
  };
  output.native = new native.NativeOutput(() => output.drain());
  return output;
}

// Only create() makes a NodeRuntime.
const CREATING = Symbol('NodeRuntime.create');

/** Runs Node.js programs, each as a fresh process in a sandbox. */
class NodeRuntime extends Disposable {
  #native;

  constructor(token, nativeRuntime) {
    if (token !== CREATING) throw codedError('ERR_INVALID_ARG', 'use NodeRuntime.create() to make a NodeRuntime');
    super(async () => nativeRuntime.dispose());
    this.#native = nativeRuntime;
  }

  /**
   * Creates a runtime. Options: env (object of strings), cwd (default
   * '/home/user'), memoryLimit (MiB of guest heap), cpuTimeLimitMs, files
   * (guest path → string or bytes), mounts ({ guestPath, hostPath,
   * readOnly }), nodeModules (a host node_modules, mounted read-only at
   * /node_modules), permissions (the policy: nothing beyond what these
   * grant is reachable), tools (name → { description, inputSchema, handler
   * }: guests call `await tools.name(input)`; the input is checked against
   * the schema before the handler runs), http (isola's: `true`, requests go
   * out as the `network` policy allows, or an async (request) => response
   * that answers them instead; httpHandler is its older name), and the
   * Polybox extensions timeout (ms, every run's wall-clock limit),
   * outputLimit (bytes kept of each stream, default 1 MiB), backend
   * ('wasmtime' or 'hyperlight') and language ('javascript' or 'python':
   * what exec and run take).
   */
  static async create(options) {
    let granted = null;
    let nativeTools = null;
    let handler = null;
    if (options !== null && typeof options === 'object') {
      const refused = NOT_YET.find((name) => options[name] !== undefined);
      if (refused !== undefined) throw notSupported(`the ${refused} option`);
      granted = capabilities(options);
      nativeTools = tools(options.tools);
      handler = http(options.http ?? options.httpHandler);
      options = Object.fromEntries(Object.entries(options).filter(([name]) => !CAPABILITIES.includes(name)));
    }
    return new NodeRuntime(CREATING, await native.createRuntime(options, granted, nativeTools, handler));
  }

  /**
   * Runs `code` (an ES module or a CommonJS script, decided by its syntax)
   * and resolves to { stdout, stderr, exitCode } once it ends. Options: env,
   * cwd, stdin (string or Uint8Array), timeout (ms; a run stopped by it
   * exits with 124), signal (an AbortSignal: aborting rejects with its
   * reason and stops the program), onStdout and onStderr (Uint8Array chunks,
   * while it runs), and the Polybox extensions cpuTimeLimitMs, args and
   * filename.
   */
  async exec(code, options) {
    const result = await this.#run(code, options);
    return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode, stats: result.stats };
  }

  /**
   * exec(), also resolving to the program's value: what it passed to
   * `__return(value)`, else an ES module's default export (JSON-decoded;
   * undefined when there is neither).
   */
  async run(code, options) {
    const result = await this.#run(code, options);
    return {
      value: result.value === null ? undefined : JSON.parse(result.value),
      stdout: result.stdout,
      stderr: result.stderr,
      exitCode: result.exitCode,
      stats: result.stats,
    };
  }

  async #run(code, options) {
    const { signal } = options ?? {};
    const output = outputFor(options);
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw codedError('ERR_INVALID_ARG', 'signal must be an AbortSignal');
    if (signal?.aborted) throw signal.reason;
    let result;
    try {
      result = await withSignal(signal, (token) => this.#native.exec(code, options, token, output?.native));
    } finally {
      output?.drain();
    }
    if (result.stats.terminatedBy === 'signal') throw signal.reason;
    return {
      stdout: result.stdout.toString('utf8'),
      stderr: result.stderr.toString('utf8'),
      exitCode: result.exitCode,
      value: result.value,
      stats: {
        wallClockMs: result.stats.wallClockMs,
        cpuTimeMs: result.stats.cpuTimeMs,
        fuelConsumed: result.stats.fuelConsumed,
        terminatedBy: result.stats.terminatedBy,
        stdoutTruncated: result.stdoutTruncated,
        stderrTruncated: result.stderrTruncated,
      },
    };
  }

  /**
   * Starts `code` as a long-running process (a server, say) and resolves
   * to its handle at once: { pid, exitCode (null while it runs),
   * writeStdin(data), closeStdin(), kill(), wait() → exit code }. Options
   * as exec's; onStdout/onStderr hear its output while it runs. Its
   * `node:http` servers listen on the sandbox's own virtual ports (no host
   * port is taken): reach them with fetch(port, ...). Its runtime comes
   * back to this NodeRuntime once it exits and is waited for.
   */
  async spawn(code, options) {
    const output = outputFor(options);
    const nativeProcess = await this.#native.spawn(code, options, output?.native);
    return new RuntimeProcess(nativeProcess);
  }

  /**
   * Sends { method, path, headers, body } to the server listening on
   * `port` in one of this runtime's processes, and resolves to { status,
   * statusText, headers, body } (body as UTF-8 text). Rejects with
   * ERR_CONNECTION_REFUSED when nothing listens there,
   * ERR_CONNECTION_RESET when the process ends first, ERR_TIMEOUT after
   * `timeoutMs` (a Polybox extension, default 30000).
   */
  async fetch(port, input) {
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw codedError('ERR_INVALID_ARG', 'port must be an integer from 0 to 65535');
    if (input === null || typeof input !== 'object' || typeof input.path !== 'string') {
      throw codedError('ERR_INVALID_ARG', 'fetch needs { path } and optionally method, headers and body');
    }
    const headers = Object.entries(input.headers ?? {}).map(([name, value]) => [name, String(value)]);
    let body = Buffer.alloc(0);
    if (typeof input.body === 'string') body = Buffer.from(input.body, 'utf8');
    else if (input.body instanceof Uint8Array) body = Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength);
    else if (input.body !== undefined && input.body !== null) throw codedError('ERR_INVALID_ARG', 'body must be a string or a Uint8Array');
    const response = await this.#native.fetch(port, String(input.method ?? 'GET').toUpperCase(), input.path, headers, body, input.timeoutMs ?? 30000);
    const responseHeaders = {};
    for (const [name, value] of response.headers) {
      const key = name.toLowerCase();
      responseHeaders[key] = key in responseHeaders ? `${responseHeaders[key]}, ${value}` : value;
    }
    return {
      status: response.status,
      statusText: STATUS_TEXT[response.status] ?? '',
      headers: responseHeaders,
      body: response.body.toString('utf8'),
    };
  }

  /**
   * The listener on `query.port`, { processId, port }, or null when none
   * listens. `host` and `path` narrow nothing: every virtual port is the
   * sandbox's own, and unix sockets are not supported.
   */
  findListener(query) {
    const port = query?.port;
    if (!Number.isInteger(port)) throw codedError('ERR_INVALID_ARG', 'findListener needs { port }');
    if (query.path !== undefined) throw notSupported('a unix socket path');
    const pid = this.#native.findListener(port);
    return pid === null || pid === undefined ? null : { processId: String(pid), port };
  }

  /**
   * Resolves to findListener(query) once a process listens there; rejects
   * with ERR_TIMEOUT after timeoutMs (default 10000), or with the signal's
   * reason when it aborts. Polls every pollIntervalMs (default 50).
   */
  async waitForListener(query, options) {
    const { timeoutMs = 10000, signal, pollIntervalMs = 50 } = options ?? {};
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const found = this.findListener(query);
      if (found !== null) return found;
      if (Date.now() >= deadline) throw codedError('ERR_TIMEOUT', `nothing listened on port ${query.port} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(pollIntervalMs, deadline - Date.now()))));
    }
  }

  /**
   * Adds tools (name → { description, inputSchema, handler }) for the runs
   * that start from now on. Guests call them as `await tools.name(input)`.
   */
  async registerTools(definitions) {
    const gathered = tools(definitions);
    if (gathered === null) throw codedError('ERR_INVALID_ARG', 'registerTools needs an object of tool definitions');
    this.#native.addTools(gathered);
  }

  /**
   * Writes a file into the runtime's filesystem (making its directories);
   * programs may read and write it from their next run. The host's own
   * filesystem is touched only inside a writable mount.
   */
  async writeFile(filePath, content) {
    if (typeof filePath !== 'string') throw codedError('ERR_INVALID_ARG', 'filePath must be a string');
    let bytes;
    if (typeof content === 'string') bytes = Buffer.from(content, 'utf8');
    else if (content instanceof Uint8Array) bytes = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
    else throw codedError('ERR_INVALID_ARG', 'content must be a string or a Uint8Array');
    await this.#native.writeFile(filePath, bytes);
  }

  /** Reads a file of the runtime's filesystem as bytes. */
  async readFile(filePath) {
    if (typeof filePath !== 'string') throw codedError('ERR_INVALID_ARG', 'filePath must be a string');
    const bytes = await this.#native.readFile(filePath);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}

module.exports = { NodeRuntime };
