'use strict';
// isola's Node.js API (buildTemplate → template.create → sandbox.start →
// loadScript → run / runStream), over Polybox sessions: a template is the
// JavaScript runtime started and the prelude evaluated once, captured, and
// mapped copy-on-write into every sandbox; a sandbox keeps its scripts'
// globals from call to call; `run` calls a global function by name with
// positional arguments, `Arg`s and kwargs. Code written for isola runs by
// changing the import. What differs is in the README ("isola's API").

const native = require('./native.js');
const { capabilities, http } = require('./capabilities.js');
const { codedError, reply } = require('./common.js');

const invalid = (message) => codedError('ERR_INVALID_ARG', message);
const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

/** A named argument of `run` / `runStream`: `new Arg(value, name)`. */
class Arg {
  constructor(value, name) {
    if (name !== undefined && typeof name !== 'string') throw invalid('an Arg name must be a string');
    this.value = value;
    this.name = name;
  }
}

/**
 * An argument streamed into the guest: an iterable or async iterable on
 * the host, an async iterable in the guest (`for await (const item of
 * arg)`), each item pulled when the guest asks for it. A producer that
 * throws makes the guest's loop throw, and the run fail.
 */
class StreamArg {
  constructor(source, name) {
    if (source === null || (typeof source[Symbol.asyncIterator] !== 'function' && typeof source[Symbol.iterator] !== 'function')) {
      throw invalid('a StreamArg needs an iterable or an async iterable');
    }
    if (name !== undefined && typeof name !== 'string') throw invalid('a StreamArg name must be a string');
    this.source = source;
    this.name = name;
  }
}

// The memory options, in bytes, as NodeRuntime's memoryLimit (MiB) takes them.
function memoryLimit(maxMemory) {
  if (maxMemory === undefined || maxMemory === null) return undefined;
  if (!Number.isSafeInteger(maxMemory) || maxMemory <= 0) throw invalid('maxMemory must be a positive number of bytes');
  return Math.ceil(maxMemory / (1024 * 1024));
}

function envOf(what, value) {
  if (value === undefined || value === null) return {};
  if (!isObject(value) || Object.values(value).some((v) => typeof v !== 'string')) throw invalid(`${what} must be an object of strings`);
  return value;
}

/** NodeRuntime's options and capabilities for a template or a sandbox. */
function runtimeOptions({ language, maxMemory, env, mounts, timeoutMs }) {
  const options = { env, language };
  const limit = memoryLimit(maxMemory);
  if (limit !== undefined) options.memoryLimit = limit;
  if (timeoutMs !== undefined) options.timeout = timeoutMs;
  return [options, capabilities({ mounts })];
}

const TEMPLATE_OPTIONS = ['cacheDir', 'maxMemory', 'prelude', 'mounts', 'env', 'runtimePath', 'version', 'runtimeLibDir'];
const CREATE_OPTIONS = ['maxMemory', 'mounts', 'env', 'hostcalls', 'http', 'httpHandler', 'timeoutMs'];

function checkOptions(what, options, allowed) {
  if (options === undefined || options === null) return {};
  if (!isObject(options)) throw invalid(`${what} options must be an object`);
  const unknown = Object.keys(options).find((name) => !allowed.includes(name));
  if (unknown !== undefined) throw invalid(`${what} does not take the option ${JSON.stringify(unknown)}; it takes ${allowed.join(', ')}`);
  return options;
}

/**
 * Owns template compilation (isola's SandboxContext). Templates are
 * independent of it once built; `close()` only stops it building more.
 */
class SandboxContext {
  #closed = false;

  /**
   * Builds a template: `runtime` is 'js' or 'python'. Options: cacheDir (where built templates are kept,
   * keyed by their inputs; the default is Polybox's cache directory, null
   * disables it), maxMemory (bytes), prelude (code every sandbox has
   * evaluated before its scripts), mounts, env. runtimePath, version and
   * runtimeLibDir are accepted and unused: the runtime is built in.
   */
  async buildTemplate(runtime, options) {
    if (this.#closed) throw codedError('ERR_CONSUMED', 'the SandboxContext was closed');
    if (runtime !== 'js' && runtime !== 'python') throw invalid(`unknown runtime ${JSON.stringify(runtime)}; use 'js' or 'python'`);
    const { cacheDir, maxMemory, prelude, mounts, env } = checkOptions('buildTemplate', options, TEMPLATE_OPTIONS);
    if (prelude !== undefined && prelude !== null && typeof prelude !== 'string') throw invalid('prelude must be a string');
    if (cacheDir !== undefined && cacheDir !== null && typeof cacheDir !== 'string') throw invalid('cacheDir must be a path or null');
    const settings = { language: runtime === 'python' ? 'python' : 'javascript', maxMemory, env: envOf('env', env), mounts };
    const [nativeOptions, granted] = runtimeOptions(settings);
    const dir = cacheDir === undefined ? native.defaultTemplateCacheDir() : cacheDir;
    const template = await native.buildSessionTemplate(nativeOptions, granted, prelude ?? null, dir ?? null);
    if (template.cacheStatus === 'unusable') {
      process.emitWarning(`the template cache is unusable, so the template was built without it: ${template.cacheProblem}`, { code: 'POLYBOX_TEMPLATE_CACHE' });
    }
    return new SandboxTemplate(TEMPLATE_TOKEN, template, settings);
  }

  /** Stops this context building templates. */
  close() {
    this.#closed = true;
  }
}

const TEMPLATE_TOKEN = Symbol('SandboxTemplate');

/** Builds a template with a context of its own (see SandboxContext.buildTemplate). */
async function buildTemplate(runtime, options) {
  return new SandboxContext().buildTemplate(runtime, options);
}

/** Instantiates sandboxes from a built template. */
class SandboxTemplate {
  #native;
  #settings;

  constructor(token, nativeTemplate, settings) {
    if (token !== TEMPLATE_TOKEN) throw invalid('use buildTemplate() to make a SandboxTemplate');
    this.#native = nativeTemplate;
    this.#settings = settings;
  }

  /**
   * A sandbox of this template (call start() before anything else).
   * Options: maxMemory (bytes; the template's by default), mounts, env
   * (over the template's), hostcalls ({ name: async (payload) => value }),
   * http (true for the network policy's fetch, or an async (request) =>
   * response; httpHandler is its older name), and the Polybox extension
   * timeoutMs (every run's wall-clock limit).
   */
  async create(options) {
    const { maxMemory, mounts, env, hostcalls, timeoutMs, ...rest } = checkOptions('create', options, CREATE_OPTIONS);
    if (hostcalls !== undefined && (!isObject(hostcalls) || Object.values(hostcalls).some((f) => typeof f !== 'function'))) {
      throw invalid('hostcalls must be an object of functions');
    }
    const settings = {
      language: this.#settings.language,
      maxMemory: maxMemory ?? this.#settings.maxMemory,
      env: { ...this.#settings.env, ...envOf('env', env) },
      mounts: [...(this.#settings.mounts ?? []), ...(mounts ?? [])],
      timeoutMs,
    };
    const [nativeOptions, granted] = runtimeOptions(settings);
    const handler = http(rest.http ?? rest.httpHandler);
    return new Sandbox(SANDBOX_TOKEN, this.#native, nativeOptions, granted, hostcalls ?? {}, handler);
  }
}

const SANDBOX_TOKEN = Symbol('Sandbox');
// The hostcall the guest pulls StreamArg items with.
const STREAM_HOSTCALL = '__polybox_stream';

/** Runs guest code inside an instantiated sandbox. */
class Sandbox {
  #template;
  #options;
  #granted;
  #hostcalls;
  #http;
  #native = null;
  #closed = false;
  #streams = new Map();
  #nextStream = 1;

  constructor(token, template, options, granted, hostcalls, handler) {
    if (token !== SANDBOX_TOKEN) throw invalid('use template.create() to make a Sandbox');
    this.#template = template;
    this.#options = options;
    this.#granted = granted;
    this.#hostcalls = hostcalls;
    this.#http = handler;
  }

  /** Starts the sandbox from its template (again, after a stopped run lost its scripts). */
  async start() {
    this.#check(false);
    if (this.#native !== null) {
      await this.#native.restart();
      return;
    }
    const dispatch = (argsJson) => reply(() => {
      const [name, payload] = JSON.parse(argsJson);
      return this.#hostcall(name, payload);
    });
    this.#native = await this.#template.create(this.#options, this.#granted, dispatch, this.#http);
  }

  /** Evaluates `code` (top-level await allowed); its declarations stay for later scripts and runs. */
  async loadScript(code) {
    this.#check(true);
    if (typeof code !== 'string') throw invalid('the script must be a string');
    await this.#native.loadScript(code);
  }

  /** Calls the global function `name`; resolves to what it returned (a generator's return value). */
  async run(name, args, kwargs) {
    const [call] = this.#call(name, args, kwargs, null);
    return JSON.parse(await call);
  }

  /**
   * Calls `name`, yielding { type, data } events as they happen: 'result'
   * per value a generator yields, 'stdout' and 'stderr' as it writes, then
   * 'end' with what it returned, or 'error' with why it failed. Bad
   * arguments, an unstarted or closed sandbox throw instead.
   */
  async *runStream(name, args, kwargs) {
    const events = [];
    let wake;
    const output = new native.NativeOutput(() => {
      for (const { fd, chunk } of output.take()) events.push(event(fd, chunk));
      wake?.();
    });
    const [call, release] = this.#call(name, args, kwargs, output);
    const settled = call.then((json) => ({ json }), (error) => ({ error }));
    try {
      for (;;) {
        while (events.length > 0) yield events.shift();
        const done = await Promise.race([settled, new Promise((resolve) => { wake = resolve; })]);
        wake = undefined;
        for (const taken of output.take()) events.push(event(taken.fd, taken.chunk));
        if (done !== undefined) break;
      }
      while (events.length > 0) yield events.shift();
      const outcome = await settled;
      if (outcome.error === undefined) {
        yield { type: 'end', data: JSON.parse(outcome.json) };
      } else if (['ERR_GUEST_ERROR', 'ERR_CANCELLED'].includes(outcome.error.code)) {
        yield { type: 'error', data: outcome.error.message };
      } else {
        throw outcome.error;
      }
    } finally {
      release();
    }
  }

  /** Frees the sandbox, stopping a running call; later use rejects with ERR_CONSUMED. */
  close() {
    this.#closed = true;
    this.#native?.close();
  }

  async [Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose')]() {
    this.close();
  }

  #check(started) {
    if (this.#closed) throw codedError('ERR_CONSUMED', 'the sandbox was closed');
    if (started && this.#native === null) throw invalid('call start() before loadScript(), run() or runStream()');
  }

  // Starts a call; returns its promise (of the result's JSON) and what
  // frees its streams.
  #call(name, args, kwargs, output) {
    this.#check(true);
    if (typeof name !== 'string') throw invalid('the function name must be a string');
    if (args !== undefined && !Array.isArray(args)) {
      throw invalid('the positional arguments must be an array (wrap a single object: run(name, [value]))');
    }
    if (kwargs !== undefined && kwargs !== null && !isObject(kwargs)) throw invalid('kwargs must be an object');
    const opened = [];
    const encode = (value) => {
      if (value instanceof StreamArg) {
        const id = this.#nextStream++;
        const source = value.source;
        const iterator = typeof source[Symbol.asyncIterator] === 'function' ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
        this.#streams.set(id, iterator);
        opened.push(id);
        return id;
      }
      let json;
      try {
        json = JSON.stringify(value === undefined ? null : value);
      } catch (error) {
        throw invalid(`an argument is not JSON-serialisable: ${error.message}`);
      }
      if (json === undefined) throw invalid(`an argument is not JSON-serialisable: ${typeof value}`);
      return json;
    };
    const release = () => {
      for (const id of opened) this.#streams.delete(id);
    };
    try {
      const positional = [];
      const names = [];
      const values = [];
      for (const arg of args ?? []) {
        const named = (arg instanceof Arg || arg instanceof StreamArg) && arg.name !== undefined;
        const value = arg instanceof Arg ? encode(arg.value) : encode(arg);
        if (named) {
          names.push(arg.name);
          values.push(value);
        } else {
          positional.push(value);
        }
      }
      for (const [key, value] of Object.entries(kwargs ?? {})) {
        names.push(key);
        values.push(encode(value instanceof Arg ? value.value : value));
      }
      const call = this.#native.call(name, positional, names, values, null, output);
      return [call.finally(release), release];
    } catch (error) {
      release();
      throw error;
    }
  }

  async #hostcall(name, payload) {
    if (name === STREAM_HOSTCALL) {
      const iterator = this.#streams.get(payload?.id);
      if (iterator === undefined) throw new Error('no such stream');
      try {
        const step = await iterator.next();
        return step.done ? { done: true } : { done: false, value: step.value === undefined ? null : step.value };
      } catch (error) {
        return { error: error instanceof Error ? error.message : String(error) };
      }
    }
    const handler = Object.hasOwn(this.#hostcalls, name) ? this.#hostcalls[name] : undefined;
    if (handler === undefined) throw new Error(`no hostcall is registered as ${JSON.stringify(name)}`);
    return handler(payload);
  }
}

// A chunk of a call's output as an event: fd 1 and 2 are its streams, 3 a
// yielded value's JSON.
function event(fd, chunk) {
  const text = Buffer.from(chunk).toString('utf8');
  if (fd === 3) return { type: 'result', data: JSON.parse(text) };
  return { type: fd === 1 ? 'stdout' : 'stderr', data: text };
}

module.exports = { Arg, Sandbox, SandboxContext, SandboxTemplate, StreamArg, buildTemplate };
