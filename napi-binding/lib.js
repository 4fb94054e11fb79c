'use strict';
// @polybox/node: run JavaScript handlers in sandboxes, with the API of
// @hyperlight/js-host-api (this file), and programs with the API of
// secure-exec's NodeRuntime (node-runtime.js). The native addon checks every
// argument and gives every error its stable `code`; this file gives the
// addon that API's exact shape: chainable builder, getters, options objects,
// events as JSON, host callbacks awaited, AbortSignal. Everything that touches the engine returns a
// Promise and runs off the main thread; host callbacks run on the main thread.

const { isMainThread } = require('node:worker_threads');
const native = require('./native.js');
const { codedError, Disposable, reply, withSignal } = require('./common.js');
const { NodeRuntime } = require('./node-runtime.js');

// A running call cannot outlive the process: every running call is stopped
// on the way out, so none is cut off midway by the process's teardown. Only
// the main thread's exit ends the process (a worker_threads Worker's does
// not, and must not stop other threads' calls).
if (isMainThread) process.on('exit', () => native.killAll());

// The host call whose callback is running its synchronous part now, if one
// is. (Not an AsyncLocalStorage: in Node.js 20 that would add a cost to
// every promise of the embedding application.)
let currentHostCall;

/**
 * The AbortSignal of the host call in progress, for its host callback to call
 * before its first `await` (keep the signal to use later): aborted when the
 * sandbox call it serves is stopped by a timeout, kill() or its own signal.
 * `undefined` outside host callbacks.
 */
function hostCallSignal() {
  const call = currentHostCall;
  if (call === undefined) return undefined;
  if (call.controller === undefined) {
    call.controller = new AbortController();
    if (call.aborted) call.controller.abort();
  }
  return call.controller.signal;
}

/** Hands the guest output a sandbox wrote to its log sink, if it has one, in order. */
function deliverLog(family) {
  const log = family.log;
  if (log === undefined) return;
  for (const { level, message } of log.buffer.take()) {
    try {
      log.sink(level, message);
    } catch (error) {
      process.emitWarning(`the @polybox/node log sink threw: ${error instanceof Error ? error.message : error}`);
    }
  }
}

/** Creates and configures a new sandbox. Setters validate and chain; build() consumes the builder. */
class SandboxBuilder {
  #native = new native.NativeSandboxBuilder();
  // What the sandbox built here shares through its life: its log sink and
  // the host callbacks running for it.
  #family = { log: undefined, hostCalls: new Set() };

  /** Guest heap: how far guest memory may grow, in bytes. */
  setHeapSize(bytes) {
    this.#native.setHeapSize(bytes);
    return this;
  }

  /** Guest scratch size, which includes the stack: the VM's scratch region on Hyperlight, the guest stack on wasmtime. */
  setScratchSize(bytes) {
    this.#native.setScratchSize(bytes);
    return this;
  }

  /** Guest stack size, in bytes (the earlier name of setScratchSize). */
  setStackSize(bytes) {
    this.#native.setStackSize(bytes);
    return this;
  }

  /** The largest event accepted, in bytes of JSON. */
  setInputBufferSize(bytes) {
    this.#native.setInputBufferSize(bytes);
    return this;
  }

  /** The largest result returned, in bytes of JSON. */
  setOutputBufferSize(bytes) {
    this.#native.setOutputBufferSize(bytes);
    return this;
  }

  /** Count instructions so calls can take a `fuel` budget (Polybox extension). */
  setFuelMetering(enabled = true) {
    this.#native.setFuelMetering(Boolean(enabled));
    return this;
  }

  /** The engine: 'wasmtime' (default) or 'hyperlight' (Polybox extension). */
  setBackend(backend) {
    this.#native.setBackend(backend);
    return this;
  }

  /**
   * The language of handlers, modules and programs: 'javascript' (default)
   * or 'python' (Polybox extension; Python needs the wasmtime backend).
   */
  setLanguage(language) {
    this.#native.setLanguage(language);
    return this;
  }

  /**
   * Where guest output (console.*, print) goes: `sink(level, message)`, with
   * level 'debug', 'info', 'warn' or 'error', called on the main thread with
   * every line a load or call wrote, in order, before that load or call
   * settles (Polybox extension). Without a sink, guest output is discarded.
   */
  setLogSink(sink) {
    if (typeof sink !== 'function') {
      throw codedError('ERR_INVALID_ARG', `the log sink must be a function, not ${sink === null ? 'null' : typeof sink}`);
    }
    const buffer = new native.NativeLogBuffer();
    this.#native.setLogBuffer(buffer);
    this.#family.log = { buffer, sink };
    return this;
  }

  /** Builds a proto sandbox, ready to register host functions and load the runtime. */
  async build() {
    return new ProtoJSSandbox(await this.#native.build(), this.#family);
  }

  /** The native builder and the family of `builder`, for Pool.create. */
  static parts(builder) {
    if (!(builder instanceof SandboxBuilder)) throw codedError('ERR_INVALID_ARG', 'Pool.create() needs a SandboxBuilder');
    return [builder.#native, builder.#family];
  }
}

/**
 * The function the addon calls a host callback through: `invoke(argsJson)`
 * calls it with spread arguments and always resolves, never rejects. While
 * it runs it is one of `family.hostCalls`, so that a stopped call can let go
 * of it (`settled`).
 */
function hostInvoker(callback, family) {
  return async (argsJson) => {
    const call = { controller: undefined, aborted: false };
    family.hostCalls.add(call);
    try {
      return await reply(() => {
        currentHostCall = call;
        try {
          return callback(...parseJson(argsJson));
        } finally {
          currentHostCall = undefined;
        }
      }, toJson);
    } finally {
      family.hostCalls.delete(call);
    }
  };
}

/**
 * Once a load or call of the sandbox `family` has settled, no host callback
 * it started is waited for: one still running (its call was stopped) has its
 * signal aborted and is let go of. Then the sandbox's output is delivered.
 */
function settled(family) {
  for (const call of family.hostCalls) {
    call.aborted = true;
    call.controller?.abort();
  }
  family.hostCalls.clear();
  deliverLog(family);
}

/** Awaits `promise`, a load or call of the sandbox `family`, then settles it. */
function settling(family, promise) {
  return promise.finally(() => settled(family));
}

/**
 * Refuses a call on the sandbox `family` while its running call waits for
 * one of its host callbacks: made by that callback it could only deadlock
 * (the sandbox runs one call at a time), and made by anyone else it would
 * wait for the callback.
 */
function refuseWhileWaitingForHost(family, what) {
  if (family.hostCalls.size > 0) {
    throw codedError('ERR_BUSY', `${what} was called while the sandbox's running call waits for a host callback (from that callback it could only deadlock); calls on one sandbox run one at a time`);
  }
}

// Bytes in events and results, and in host callbacks' arguments and
// results: a Uint8Array (so a Buffer) or an ArrayBuffer crosses as an object
// with the single key "\u0000bytes" holding its base64, which the guests
// read and write too. JSON.stringify writes bytes as one of these shapes, so
// only a value whose text shows one is written again with the replacer
// (others pay three substring searches: a regular expression took 15 µs on
// a 64 KiB event, these 1 µs), and only a text that holds the key is parsed
// with the reviver.
const BYTES_KEY = '\u0000bytes';
const BYTES_SHAPES = ['{"0":', '{}', '{"type":"Buffer","data":['];

function bytesReplacer(key, value) {
  const original = this[key];
  if (original instanceof Uint8Array) {
    return { [BYTES_KEY]: Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64') };
  }
  if (original instanceof ArrayBuffer) return { [BYTES_KEY]: Buffer.from(original).toString('base64') };
  return value;
}

function bytesReviver(key, value) {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === BYTES_KEY && typeof value[BYTES_KEY] === 'string') {
      return Buffer.from(value[BYTES_KEY], 'base64');
    }
  }
  return value;
}

/** `value` as JSON text, its bytes as bytes values (undefined when it has none). */
function toJson(value) {
  const json = JSON.stringify(value);
  return json !== undefined && BYTES_SHAPES.some((shape) => json.includes(shape))
    ? JSON.stringify(value, bytesReplacer)
    : json;
}

/** A value from its JSON text, its bytes values as Buffers. */
function parseJson(json) {
  return json.includes('"\\u0000bytes":') ? JSON.parse(json, bytesReviver) : JSON.parse(json);
}

/** A call's event as JSON text (undefined as null); ERR_INVALID_ARG when it has none. */
function eventJson(eventData) {
  try {
    return toJson(eventData === undefined ? null : eventData);
  } catch (error) {
    throw codedError('ERR_INVALID_ARG', `the event is not JSON-serialisable: ${error.message}`);
  }
}

/** Registers functions in one named host module. */
class HostModule {
  #native;
  #name;
  #family;

  constructor(nativeProto, name, family) {
    this.#native = nativeProto;
    this.#name = name;
    this.#family = family;
  }

  /**
   * Registers `callback` as `functionName`; arguments are spread, the result
   * JSON-stringified. `hostCallSignal()` gives the callback the AbortSignal
   * of its call.
   */
  register(functionName, callback) {
    if (typeof callback !== 'function') {
      throw codedError('ERR_INVALID_ARG', `the callback must be a function, not ${callback === null ? 'null' : typeof callback}`);
    }
    this.#native.register(this.#name, functionName, hostInvoker(callback, this.#family));
    return this;
  }
}

/** A sandbox before its runtime is loaded: the place to register host functions. */
class ProtoJSSandbox extends Disposable {
  #native;
  #family;

  constructor(nativeProto, family) {
    super(() => nativeProto.dispose());
    this.#native = nativeProto;
    this.#family = family;
  }

  /** A builder for functions in host module `name` (imported as `host:<name>`). */
  hostModule(name) {
    this.#native.declareModule(name);
    return new HostModule(this.#native, name, this.#family);
  }

  /** Shorthand for `hostModule(moduleName).register(functionName, callback)`. */
  register(moduleName, functionName, callback) {
    this.hostModule(moduleName).register(functionName, callback);
  }

  /**
   * Makes a WebAssembly component's exported functions the host module `name`
   * (imported as `host:<name>` by every guest). `component` is a file path or
   * the component's bytes.
   */
  hostComponent(name, component) {
    this.#native.hostComponent(name, component);
    return this;
  }

  /** Loads the JavaScript runtime with every registered host function. */
  async loadRuntime() {
    return new JSSandbox(await this.#native.loadRuntime(), this.#family);
  }

}

/** A sandbox with its runtime loaded, collecting handlers and modules. */
class JSSandbox extends Disposable {
  #native;
  #family;

  constructor(nativeSandbox, family) {
    super(() => nativeSandbox.dispose());
    this.#native = nativeSandbox;
    this.#family = family;
  }

  /** Adds a handler: ES module source defining a function named `handler`. */
  addHandler(name, code) {
    this.#native.addHandler(name, code);
  }

  /**
   * Adds a handler written as a WebAssembly component (the `handler` world of
   * Polybox's WIT). `component` is a file path or the component's bytes.
   */
  addComponentHandler(name, component) {
    this.#native.addComponentHandler(name, component);
  }

  /** Removes a handler by name. */
  removeHandler(name) {
    this.#native.removeHandler(name);
  }

  /** Removes every handler. */
  clearHandlers() {
    this.#native.clearHandlers();
  }

  /** Adds a module, imported as `user:<name>` or `<namespace>:<name>`. */
  addModule(name, source, namespace) {
    this.#native.addModule(name, source, namespace);
  }

  /**
   * Adds a WebAssembly component as module `user:<name>` (or
   * `<namespace>:<name>`): scripts import its exports by camelCase name.
   * `component` is a file path or the component's bytes.
   */
  addComponentModule(name, component, namespace) {
    this.#native.addComponentModule(name, component, namespace);
  }

  /** Removes a module. */
  removeModule(name, namespace) {
    this.#native.removeModule(name, namespace);
  }

  /** Removes every module. */
  clearModules() {
    this.#native.clearModules();
  }

  /** Whether a load was stopped mid-way; the next getLoadedSandbox() starts the guest afresh. */
  get poisoned() {
    return this.#native.poisoned;
  }

  /**
   * Compiles modules and handlers in the guest, which runs their top-level
   * code. Options bound it as callHandler's do: wallClockTimeoutMs,
   * cpuTimeoutMs, fuel and signal. On failure this sandbox stays usable.
   */
  async getLoadedSandbox(options) {
    const load = withSignal(options?.signal, (token) => this.#native.getLoadedSandbox(options, token));
    return new LoadedJSSandbox(await settling(this.#family, load), this.#family);
  }

}

/** Stops the sandbox's running call; does nothing while it is idle. */
class InterruptHandle {
  #native;

  constructor(nativeHandle) {
    this.#native = nativeHandle;
  }

  kill() {
    this.#native.kill();
  }
}

/** An opaque point-in-time copy of a sandbox's guest state. */
class Snapshot {
  #native;

  constructor(nativeSnapshot) {
    this.#native = nativeSnapshot;
  }

  static native(snapshot) {
    if (!(snapshot instanceof Snapshot)) throw codedError('ERR_INVALID_ARG', 'restore() needs a Snapshot');
    return snapshot.#native;
  }
}

/** A sandbox with handlers loaded, ready to process events. */
class LoadedJSSandbox extends Disposable {
  #native;
  #family;

  constructor(nativeLoaded, family) {
    super(() => nativeLoaded.dispose());
    this.#native = nativeLoaded;
    this.#family = family;
  }

  /**
   * Calls a handler with `eventData` (any JSON-serialisable value; bytes
   * cross as bytes, see BYTES_KEY).
   * Options: wallClockTimeoutMs and cpuTimeoutMs (1 ms to one hour), gc
   * (default true), and the Polybox extensions fuel (needs setFuelMetering)
   * and signal (an AbortSignal).
   */
  async callHandler(handlerName, eventData, options) {
    refuseWhileWaitingForHost(this.#family, 'callHandler()');
    const event = eventJson(eventData);
    const call = withSignal(options?.signal, (token) => this.#native.callHandler(handlerName, event, options, token));
    return parseJson(await settling(this.#family, call));
  }

  /**
   * Answers `request` (a web Request, or a URL string) with handler
   * `handlerName`, a fetch handler (`export default { fetch }`, or
   * `addEventListener("fetch")`); resolves to a web Response. Options as
   * callHandler's. A handler that throws or gives something that is not a
   * Response rejects with ERR_GUEST_ERROR.
   */
  async fetch(handlerName, request, options) {
    refuseWhileWaitingForHost(this.#family, 'fetch()');
    if (!(request instanceof Request)) request = new Request(request);
    const headers = [...request.headers];
    const body = request.body === null ? Buffer.alloc(0) : Buffer.from(await request.arrayBuffer());
    const call = withSignal(options?.signal, (token) =>
      this.#native.fetch(handlerName, request.method, request.url, headers, body, options, token));
    const answer = await settling(this.#family, call);
    const nullBody = answer.status === 101 || answer.status === 204 || answer.status === 205 || answer.status === 304;
    return new Response(nullBody ? null : answer.body, { status: answer.status, headers: answer.headers });
  }

  /**
   * callHandler, synchronously: blocks this thread (and so the event loop)
   * until the call ends, for callers who want that (isolated-vm's
   * applySync). The same limits (wallClockTimeoutMs, cpuTimeoutMs, fuel),
   * gc and errors; a kill() from another thread stops it. No signal (the
   * thread that would abort is the one blocked), and JavaScript host
   * functions, tools and http handlers cannot run during it (each such
   * call fails in the guest at once: they would wait for this thread).
   * Throws ERR_BUSY while another call runs in this sandbox.
   */
  callHandlerSync(handlerName, eventData, options) {
    refuseWhileWaitingForHost(this.#family, 'callHandlerSync()');
    if (options?.signal !== undefined) throw codedError('ERR_INVALID_ARG', 'callHandlerSync takes no signal: nothing could abort it while it blocks this thread');
    const event = eventJson(eventData);
    return parseJson(this.#native.callHandlerSync(handlerName, event, options));
  }

  /** Unloads all handlers and modules; resolves to a fresh JSSandbox. */
  async unload() {
    refuseWhileWaitingForHost(this.#family, 'unload()');
    return new JSSandbox(await this.#native.unload(), this.#family);
  }

  /** Captures the sandbox's guest state. */
  async snapshot() {
    refuseWhileWaitingForHost(this.#family, 'snapshot()');
    return new Snapshot(await this.#native.snapshot());
  }

  /** Restores guest state from a snapshot; clears poison. Host functions are unaffected. */
  async restore(snapshot) {
    refuseWhileWaitingForHost(this.#family, 'restore()');
    await this.#native.restore(Snapshot.native(snapshot));
  }

  /** A handle to stop the running call from a timer, a signal handler or any callback. */
  get interruptHandle() {
    return new InterruptHandle(this.#native.interruptHandle);
  }

  /** Whether the sandbox is poisoned; restore a snapshot or unload to recover. */
  get poisoned() {
    return this.#native.poisoned;
  }

  /** Statistics of the most recent callHandler(), or null before the first. */
  get lastCallStats() {
    return this.#native.lastCallStats ?? null;
  }

}

/**
 * What every sandbox of a pool or a template is made of: `handlers` (name →
 * source), `modules` ([{ name, source, namespace? }]) and `hostFunctions`
 * ({ module: { name: callback } }).
 */
function blueprint({ handlers = {}, modules = [], hostFunctions = {} }, family) {
  const parts = new native.NativeBlueprint();
  for (const [name, source] of Object.entries(handlers)) parts.addHandler(name, source);
  for (const { name, source, namespace } of modules) parts.addModule(name, source, namespace ?? null);
  for (const [module, functions] of Object.entries(hostFunctions)) {
    for (const [name, callback] of Object.entries(functions)) {
      if (typeof callback !== 'function') throw codedError('ERR_INVALID_ARG', `hostFunctions.${module}.${name} must be a function`);
      parts.register(module, name, hostInvoker(callback, family));
    }
  }
  return parts;
}

const TEMPLATE_MAKING = Symbol('Template');

/**
 * A sandbox loaded once and started many times (Polybox extension; Rust's
 * `polybox::Template`): `create()` maps the captured guest memory into a
 * new sandbox, nothing compiled or evaluated. `save(path)` writes it to a
 * file that `Template.load` reads in any process.
 */
class Template {
  #native;
  #family;

  constructor(token, nativeTemplate, family) {
    if (token !== TEMPLATE_MAKING) throw codedError('ERR_INVALID_ARG', 'use Template.build() or Template.load() to make a Template');
    this.#native = nativeTemplate;
    this.#family = family;
  }

  /**
   * Loads `handlers`, `modules` and `hostFunctions` (as Pool.create takes
   * them) into a sandbox of `builder` (consumed) and captures it.
   * `cacheDir`: keep built templates there, keyed by their inputs, so the
   * same build again evaluates nothing (a directory that cannot be written
   * is skipped, with a process warning).
   */
  static async build(builder, { handlers, modules, hostFunctions, cacheDir } = {}) {
    const [nativeBuilder, family] = SandboxBuilder.parts(builder);
    const parts = blueprint({ handlers, modules, hostFunctions }, family);
    const options = cacheDir === undefined || cacheDir === null ? null : { cacheDir };
    const template = new Template(TEMPLATE_MAKING, await native.buildTemplate(nativeBuilder, parts, options), family);
    if (template.cacheStatus === 'unusable') {
      process.emitWarning(`the template cache is unusable, so the template was built without it: ${template.#native.cacheProblem}`, { code: 'POLYBOX_TEMPLATE_CACHE' });
    }
    return template;
  }

  /**
   * Reads a template file written by `save` (in any process) for sandboxes
   * of `builder` (consumed), whose settings must be those it was built
   * with, and `hostFunctions`, which must be the same functions of the same
   * modules (ERR_INVALID_ARG names what differs).
   */
  static async load(path, builder, { hostFunctions } = {}) {
    const [nativeBuilder, family] = SandboxBuilder.parts(builder);
    const parts = blueprint({ hostFunctions }, family);
    return new Template(TEMPLATE_MAKING, await native.loadTemplate(path, nativeBuilder, parts), family);
  }

  /** The native template and the family of its sandboxes, for Pool.create. */
  static parts(template) {
    return [template.#native, template.#family];
  }

  /** A new LoadedJSSandbox started from the template, its handlers loaded. */
  async create() {
    return new LoadedJSSandbox(await this.#native.create(), this.#family);
  }

  /** Writes the template to `path`, replacing the file atomically. */
  async save(path) {
    await this.#native.save(path);
  }

  /** The handlers every sandbox of the template has loaded. */
  get handlers() {
    return this.#native.handlers;
  }

  /** 'disabled' (no cacheDir), 'hit', 'stored' or 'unusable'. */
  get cacheStatus() {
    return this.#native.cacheStatus;
  }
}

const POOL_CREATING = Symbol('Pool.create');

/**
 * Calls over a fixed set of sandboxes built alike (Polybox extension; Rust's
 * `polybox::Pool`): calls run side by side, one per sandbox; at most
 * `queueLimit` wait for a free one, past that a call rejects with ERR_BUSY;
 * a sandbox a call poisoned is restored before reuse. `strategy` says what
 * a call sees of the calls before it: 'reuse' (what they left), 'restore'
 * (nothing: the default) or 'new' (nothing: a new sandbox per call).
 */
class Pool extends Disposable {
  #native;
  #family;

  constructor(token, nativePool, family) {
    if (token !== POOL_CREATING) throw codedError('ERR_INVALID_ARG', 'use Pool.create() to make a Pool');
    super(async () => {
      this.#native = null;
    });
    this.#native = nativePool;
    this.#family = family;
  }

  /**
   * Builds the pool's sandboxes from `builder` (consumed) and `handlers`
   * (name → source), `modules` ([{ name, source, namespace? }]) and
   * `hostFunctions` ({ module: { name: callback } }); or creates them from
   * a Template (then without those three). Options: size (default 2),
   * queueLimit (64), strategy, and every call's wallClockTimeoutMs,
   * cpuTimeoutMs and fuel.
   */
  static async create(source, { handlers, modules, hostFunctions, ...options } = {}) {
    if (source instanceof Template) {
      if (handlers !== undefined || modules !== undefined || hostFunctions !== undefined) {
        throw codedError('ERR_INVALID_ARG', 'a pool of a Template takes its handlers, modules and host functions from the template');
      }
      const [nativeTemplate, family] = Template.parts(source);
      return new Pool(POOL_CREATING, await native.createTemplatePool(nativeTemplate, options), family);
    }
    const [nativeBuilder, family] = SandboxBuilder.parts(source);
    const parts = blueprint({ handlers, modules, hostFunctions }, family);
    return new Pool(POOL_CREATING, await native.createPool(nativeBuilder, parts, options), family);
  }

  /** Calls handler `handlerName` with `eventData` in a free sandbox; resolves to its result. Options: wallClockTimeoutMs, cpuTimeoutMs, fuel. */
  async callHandler(handlerName, eventData, options) {
    if (this.#native === null) throw codedError('ERR_CONSUMED', 'the pool was disposed of');
    const event = eventJson(eventData);
    // Calls run side by side: only the log is delivered as each settles
    // (a stopped call's host callbacks are let go of natively).
    const call = this.#native.callHandler(handlerName, event, options ?? null);
    return parseJson(await call.finally(() => deliverLog(this.#family)));
  }

  /** How many sandboxes serve calls. */
  get size() {
    return this.#native?.size ?? 0;
  }

  /** How many calls wait for a sandbox now. */
  get queued() {
    return this.#native?.queued ?? 0;
  }
}

module.exports = {
  ...require('./isola.js'),
  Pool,
  Template,
  hostCallSignal,
  NodeRuntime,
  SandboxBuilder,
  ProtoJSSandbox,
  HostModule,
  JSSandbox,
  LoadedJSSandbox,
  InterruptHandle,
  Snapshot,
};
