'use strict';
// @polybox/node: run JavaScript handlers in sandboxes, with the API of
// @hyperlight/js-host-api. This file gives the native addon that API's exact
// shape: chainable builder, getters, options objects, and errors carrying a
// stable `code`. Everything that touches the engine returns a Promise and runs
// off the main thread; host callbacks run on the main thread.

const native = require('./native.js');

const CODED = /^(ERR_[A-Z_]+): /;

/** An Error with a stable `code`. */
function codedError(code, message) {
  const error = new Error(message);
  error.code = code;
  return error;
}

/** Turns a native error ("ERR_CODE: message") into an Error with `code`. */
function convert(error) {
  if (!(error instanceof Error)) return codedError('ERR_INTERNAL', String(error));
  const match = CODED.exec(error.message);
  if (match) return codedError(match[1], error.message.slice(match[0].length));
  // napi-rs rejects arguments of the wrong type before our code runs.
  if (/Expected|expected|convert/.test(error.message)) return codedError('ERR_INVALID_ARG', error.message);
  return codedError('ERR_INTERNAL', error.message);
}

/** Runs `fn`, converting what it throws. */
function guard(fn) {
  try {
    return fn();
  } catch (error) {
    throw convert(error);
  }
}

/** Awaits `fn()`, converting what it throws or rejects with. */
async function guardAsync(fn) {
  try {
    return await fn();
  } catch (error) {
    throw convert(error);
  }
}

function requireString(what, value) {
  if (typeof value !== 'string') throw codedError('ERR_INVALID_ARG', `${what} must be a string, not ${typeof value}`);
  return value;
}

function requireComponent(value) {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
    throw codedError('ERR_INVALID_ARG', `a component must be a file path or a Uint8Array, not ${typeof value}`);
  }
  return value;
}

function requirePositive(what, value) {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw codedError('ERR_INVALID_ARG', `${what} must be a positive integer, not ${value}`);
  }
  return value;
}

function optionalTimeout(what, value) {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw codedError('ERR_INVALID_ARG', `${what} must be a positive number of milliseconds, not ${value}`);
  }
  return Math.ceil(value);
}

/** Creates and configures a new sandbox. Setters validate and chain. */
class SandboxBuilder {
  #options = {};

  /** Guest heap: how far guest memory may grow, in bytes. */
  setHeapSize(bytes) {
    this.#options.heapSize = requirePositive('heap size', bytes);
    return this;
  }

  /** Guest scratch size, which includes the stack: the VM's scratch region on Hyperlight, the guest stack on wasmtime. */
  setScratchSize(bytes) {
    this.#options.scratchSize = requirePositive('scratch size', bytes);
    return this;
  }

  /** Guest stack size, in bytes (the earlier name of setScratchSize). */
  setStackSize(bytes) {
    this.#options.stackSize = requirePositive('stack size', bytes);
    return this;
  }

  /** The largest event accepted, in bytes of JSON. */
  setInputBufferSize(bytes) {
    this.#options.inputBufferSize = requirePositive('input buffer size', bytes);
    return this;
  }

  /** The largest result returned, in bytes of JSON. */
  setOutputBufferSize(bytes) {
    this.#options.outputBufferSize = requirePositive('output buffer size', bytes);
    return this;
  }

  /** Count instructions so calls can take a `fuel` budget (Polybox extension). */
  setFuelMetering(enabled = true) {
    this.#options.fuelMetering = Boolean(enabled);
    return this;
  }

  /** The engine: 'wasmtime' (default) or 'hyperlight' (Polybox extension). */
  setBackend(backend) {
    if (backend !== 'wasmtime' && backend !== 'hyperlight') {
      throw codedError('ERR_INVALID_ARG', `unknown backend ${JSON.stringify(backend)}; use "wasmtime" or "hyperlight"`);
    }
    this.#options.backend = backend;
    return this;
  }

  /** Builds a proto sandbox, ready to register host functions and load the runtime. */
  async build() {
    const options = { ...this.#options };
    return new ProtoJSSandbox(await guardAsync(() => native.buildSandbox(options)));
  }
}

/** Calls a host callback with spread arguments; always resolves, never rejects. */
function hostInvoker(callback) {
  return async (argsJson) => {
    try {
      const result = await callback(...JSON.parse(argsJson));
      const json = JSON.stringify(result);
      return { ok: true, value: json === undefined ? 'null' : json };
    } catch (error) {
      return { ok: false, value: error instanceof Error ? error.message : String(error) };
    }
  };
}

/** Registers functions in one named host module. */
class HostModule {
  #native;
  #name;

  constructor(nativeProto, name) {
    this.#native = nativeProto;
    this.#name = name;
  }

  /** Registers `callback` as `functionName`; arguments are spread, the result JSON-stringified. */
  register(functionName, callback) {
    requireString('function name', functionName);
    if (typeof callback !== 'function') throw codedError('ERR_INVALID_ARG', 'the callback must be a function');
    guard(() => this.#native.register(this.#name, functionName, hostInvoker(callback)));
    return this;
  }
}

/** A sandbox before its runtime is loaded: the place to register host functions. */
class ProtoJSSandbox {
  #native;

  constructor(nativeProto) {
    this.#native = nativeProto;
  }

  /** A builder for functions in host module `name` (imported as `host:<name>`). */
  hostModule(name) {
    requireString('module name', name);
    guard(() => this.#native.declareModule(name));
    return new HostModule(this.#native, name);
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
    requireString('module name', name);
    requireComponent(component);
    guard(() => this.#native.hostComponent(name, component));
    return this;
  }

  /** Loads the JavaScript runtime with every registered host function. */
  async loadRuntime() {
    return new JSSandbox(await guardAsync(() => this.#native.loadRuntime()));
  }
}

/** A sandbox with its runtime loaded, collecting handlers and modules. */
class JSSandbox {
  #native;

  constructor(nativeSandbox) {
    this.#native = nativeSandbox;
  }

  /** Adds a handler: ES module source defining a function named `handler`. */
  addHandler(name, code) {
    requireString('handler name', name);
    requireString('handler code', code);
    guard(() => this.#native.addHandler(name, code));
  }

  /**
   * Adds a handler written as a WebAssembly component (the `handler` world of
   * Polybox's WIT). `component` is a file path or the component's bytes.
   */
  addComponentHandler(name, component) {
    requireString('handler name', name);
    requireComponent(component);
    guard(() => this.#native.addComponentHandler(name, component));
  }

  /** Removes a handler by name. */
  removeHandler(name) {
    requireString('handler name', name);
    guard(() => this.#native.removeHandler(name));
  }

  /** Removes every handler. */
  clearHandlers() {
    guard(() => this.#native.clearHandlers());
  }

  /** Adds a module, imported as `user:<name>` or `<namespace>:<name>`. */
  addModule(name, source, namespace) {
    requireString('module name', name);
    requireString('module source', source);
    if (namespace !== undefined) requireString('module namespace', namespace);
    guard(() => this.#native.addModule(name, source, namespace));
  }

  /**
   * Adds a WebAssembly component as module `user:<name>` (or
   * `<namespace>:<name>`): scripts import its exports by camelCase name.
   * `component` is a file path or the component's bytes.
   */
  addComponentModule(name, component, namespace) {
    requireString('module name', name);
    requireComponent(component);
    if (namespace !== undefined) requireString('module namespace', namespace);
    guard(() => this.#native.addComponentModule(name, component, namespace));
  }

  /** Removes a module. */
  removeModule(name, namespace) {
    requireString('module name', name);
    if (namespace !== undefined) requireString('module namespace', namespace);
    guard(() => this.#native.removeModule(name, namespace));
  }

  /** Removes every module. */
  clearModules() {
    guard(() => this.#native.clearModules());
  }

  /** Compiles modules and handlers in the guest. On failure this sandbox stays usable. */
  async getLoadedSandbox() {
    return new LoadedJSSandbox(await guardAsync(() => this.#native.getLoadedSandbox()));
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
class LoadedJSSandbox {
  #native;

  constructor(nativeLoaded) {
    this.#native = nativeLoaded;
  }

  /**
   * Calls a handler with `eventData` (any JSON-serialisable value).
   * Options: wallClockTimeoutMs, cpuTimeoutMs, gc (default true), and the
   * Polybox extensions fuel (needs setFuelMetering) and signal (an AbortSignal).
   */
  async callHandler(handlerName, eventData, options = {}) {
    requireString('handler name', handlerName);
    if (options === null || typeof options !== 'object') throw codedError('ERR_INVALID_ARG', 'options must be an object');
    let event;
    try {
      event = JSON.stringify(eventData === undefined ? null : eventData);
    } catch (error) {
      throw codedError('ERR_INVALID_ARG', `the event is not JSON-serialisable: ${error.message}`);
    }
    const callOptions = {
      wallClockTimeoutMs: optionalTimeout('wallClockTimeoutMs', options.wallClockTimeoutMs),
      cpuTimeoutMs: optionalTimeout('cpuTimeoutMs', options.cpuTimeoutMs),
      gc: options.gc === undefined ? undefined : Boolean(options.gc),
      fuel: options.fuel === undefined ? undefined : requirePositive('fuel', options.fuel),
    };
    const { signal } = options;
    let token;
    let onAbort;
    if (signal !== undefined) {
      if (!(signal instanceof AbortSignal)) throw codedError('ERR_INVALID_ARG', 'signal must be an AbortSignal');
      if (signal.aborted) throw codedError('ERR_CANCELLED', 'the call was cancelled by its AbortSignal before it started');
      token = new native.NativeAbortToken();
      onAbort = () => token.abort();
      signal.addEventListener('abort', onAbort, { once: true });
    }
    try {
      const result = await guardAsync(() => this.#native.callHandler(handlerName, event, callOptions, token));
      return JSON.parse(result);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  /** Unloads all handlers and modules; resolves to a fresh JSSandbox. */
  async unload() {
    return new JSSandbox(await guardAsync(() => this.#native.unload()));
  }

  /** Captures the sandbox's guest state. */
  async snapshot() {
    return new Snapshot(await guardAsync(() => this.#native.snapshot()));
  }

  /** Restores guest state from a snapshot; clears poison. Host functions are unaffected. */
  async restore(snapshot) {
    const nativeSnapshot = Snapshot.native(snapshot);
    await guardAsync(() => this.#native.restore(nativeSnapshot));
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

module.exports = {
  SandboxBuilder,
  ProtoJSSandbox,
  HostModule,
  JSSandbox,
  LoadedJSSandbox,
  InterruptHandle,
  Snapshot,
};
