'use strict';
// @polybox/node: run JavaScript handlers in sandboxes, with the API of
// @hyperlight/js-host-api. The native addon checks every argument and gives
// every error its stable `code`; this file gives the addon that API's exact
// shape: chainable builder, getters, options objects, events as JSON, host
// callbacks awaited, AbortSignal. Everything that touches the engine returns a
// Promise and runs off the main thread; host callbacks run on the main thread.

const native = require('./native.js');

/** An Error with a stable `code`, for the rules this file owns. */
function codedError(code, message) {
  const error = new Error(message);
  error.code = code;
  return error;
}

/** Creates and configures a new sandbox. Setters validate and chain; build() consumes the builder. */
class SandboxBuilder {
  #native = new native.NativeSandboxBuilder();

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

  /** Builds a proto sandbox, ready to register host functions and load the runtime. */
  async build() {
    return new ProtoJSSandbox(await this.#native.build());
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
    if (typeof callback !== 'function') {
      throw codedError('ERR_INVALID_ARG', `the callback must be a function, not ${callback === null ? 'null' : typeof callback}`);
    }
    this.#native.register(this.#name, functionName, hostInvoker(callback));
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
    this.#native.declareModule(name);
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
    this.#native.hostComponent(name, component);
    return this;
  }

  /** Loads the JavaScript runtime with every registered host function. */
  async loadRuntime() {
    return new JSSandbox(await this.#native.loadRuntime());
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

  /** Compiles modules and handlers in the guest. On failure this sandbox stays usable. */
  async getLoadedSandbox() {
    return new LoadedJSSandbox(await this.#native.getLoadedSandbox());
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
   * Options: wallClockTimeoutMs and cpuTimeoutMs (1 ms to one hour), gc
   * (default true), and the Polybox extensions fuel (needs setFuelMetering)
   * and signal (an AbortSignal).
   */
  async callHandler(handlerName, eventData, options) {
    let event;
    try {
      event = JSON.stringify(eventData === undefined ? null : eventData);
    } catch (error) {
      throw codedError('ERR_INVALID_ARG', `the event is not JSON-serialisable: ${error.message}`);
    }
    const signal = options?.signal;
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
      return JSON.parse(await this.#native.callHandler(handlerName, event, options, token));
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  /** Unloads all handlers and modules; resolves to a fresh JSSandbox. */
  async unload() {
    return new JSSandbox(await this.#native.unload());
  }

  /** Captures the sandbox's guest state. */
  async snapshot() {
    return new Snapshot(await this.#native.snapshot());
  }

  /** Restores guest state from a snapshot; clears poison. Host functions are unaffected. */
  async restore(snapshot) {
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

module.exports = {
  SandboxBuilder,
  ProtoJSSandbox,
  HostModule,
  JSSandbox,
  LoadedJSSandbox,
  InterruptHandle,
  Snapshot,
};
