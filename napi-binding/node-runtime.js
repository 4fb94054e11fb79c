'use strict';
// NodeRuntime: programs run as fresh processes, with the API of secure-exec's
// NodeRuntime. Every run is a new process in a sandbox of its own (restored
// from the state after the runtime started), so runs never see each other's
// state and may overlap. Output reaches onStdout/onStderr while the program
// runs; the event loop is never blocked.

const native = require('./native.js');
const { codedError, Disposable, withSignal } = require('./common.js');

// secure-exec's options that need capabilities Polybox does not grant yet
// (files, the network, tools): refused, never silently ignored.
const NOT_YET = ['permissions', 'commandsDir', 'files', 'mounts', 'nodeModules', 'tools', 'loopbackExemptPorts'];

/** The error for what @polybox/node does not do (yet); the README lists it all. */
function notSupported(what) {
  return codedError('ERR_NOT_SUPPORTED', `${what} is not supported by @polybox/node: programs reach no files, network, processes or tools yet (see the README)`);
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
   * '/home/user'), memoryLimit (MiB of guest heap), cpuTimeLimitMs, and the
   * Polybox extensions timeout (ms, every run's wall-clock limit),
   * outputLimit (bytes kept of each stream, default 1 MiB) and backend
   * ('wasmtime' or 'hyperlight').
   */
  static async create(options) {
    if (options !== null && typeof options === 'object') {
      const refused = NOT_YET.find((name) => options[name] !== undefined);
      if (refused !== undefined) throw notSupported(`the ${refused} option`);
    }
    return new NodeRuntime(CREATING, await native.createRuntime(options));
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
    const { signal, onStdout, onStderr } = options ?? {};
    for (const [name, callback] of [['onStdout', onStdout], ['onStderr', onStderr]]) {
      if (callback !== undefined && typeof callback !== 'function') {
        throw codedError('ERR_INVALID_ARG', `${name} must be a function, not ${callback === null ? 'null' : typeof callback}`);
      }
    }
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw codedError('ERR_INVALID_ARG', 'signal must be an AbortSignal');
    if (signal?.aborted) throw signal.reason;
    let output;
    const drain = () => {
      for (const { fd, chunk } of output.take()) {
        const callback = fd === 1 ? onStdout : onStderr;
        try {
          callback?.(chunk);
        } catch (error) {
          process.emitWarning(`a NodeRuntime output callback threw: ${error instanceof Error ? error.message : error}`);
        }
      }
    };
    if (onStdout !== undefined || onStderr !== undefined) output = new native.NativeOutput(drain);
    let result;
    try {
      result = await withSignal(signal, (token) => this.#native.exec(code, options, token, output));
    } finally {
      if (output !== undefined) drain();
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

  /** Not supported: programs run to completion (exec, run). */
  async spawn() {
    throw notSupported('NodeRuntime.spawn()');
  }

  /** Not supported: programs cannot listen on the network. */
  async fetch() {
    throw notSupported('NodeRuntime.fetch()');
  }

  /** Not supported: programs cannot listen on the network. */
  findListener() {
    throw notSupported('NodeRuntime.findListener()');
  }

  /** Not supported: programs cannot listen on the network. */
  async waitForListener() {
    throw notSupported('NodeRuntime.waitForListener()');
  }

  /** Not supported yet: tools come with the capabilities. */
  async registerTools() {
    throw notSupported('NodeRuntime.registerTools()');
  }

  /** Not supported yet: programs have no filesystem. */
  async writeFile() {
    throw notSupported('NodeRuntime.writeFile()');
  }

  /** Not supported yet: programs have no filesystem. */
  async readFile() {
    throw notSupported('NodeRuntime.readFile()');
  }
}

module.exports = { NodeRuntime };
