// Type declarations for @polybox/node (lib.js, node-runtime.js). The API is
// that of @hyperlight/js-host-api for handlers and of secure-exec's
// NodeRuntime for programs; Polybox extensions are marked as such.

/** Stable codes carried by every error as `error.code`. */
export type ErrorCode =
  | 'ERR_INVALID_ARG'
  | 'ERR_CONSUMED'
  | 'ERR_POISONED'
  | 'ERR_CANCELLED'
  | 'ERR_STACK_OVERFLOW'
  | 'ERR_GUEST_ABORT'
  | 'ERR_GUEST_ERROR'
  | 'ERR_HYPERVISOR_UNAVAILABLE'
  | 'ERR_INTERNAL'
  | 'ERR_BUSY'
  | 'ERR_NOT_SUPPORTED'

/** What guest code reported when it failed. */
export interface GuestError {
  /** 'exception', 'syntax', 'module-not-found', 'unserializable-result', 'out-of-memory' or 'unsettled'. */
  kind: string
  message: string
  /** The JavaScript stack, when there is one. */
  stack: string | null
}

/** An error thrown or rejected by this package. */
export interface PolyboxError extends Error {
  code: ErrorCode
  /** Polybox extension: on ERR_GUEST_ERROR, what the guest reported. */
  guestError?: GuestError
  /** Polybox extension: on ERR_CANCELLED, what stopped the call (as in CallStats). */
  terminatedBy?: string
}

/** Polybox extension: how a sandbox object is freed before garbage collection. */
export interface Disposable {
  /** Frees the sandbox now, stopping a call that is running; using it afterwards is ERR_CONSUMED. */
  dispose(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * Polybox extension: the AbortSignal of the host call in progress, for a host
 * callback to call before its first `await` (keep the signal for later). It
 * is aborted when the sandbox call the callback serves is stopped (a
 * timeout, kill(), its signal); `undefined` outside host callbacks.
 */
export declare function hostCallSignal(): AbortSignal | undefined

/** A JSON-serialisable value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** Creates and configures a new sandbox. Setters validate (ERR_INVALID_ARG) and chain. */
export declare class SandboxBuilder {
  /** How far guest memory may grow, in bytes (> 0). */
  setHeapSize(bytes: number): this
  /** Guest scratch size, including the stack, in bytes (> 0): the VM's scratch region on Hyperlight, the guest stack on wasmtime. */
  setScratchSize(bytes: number): this
  /** Guest stack size in bytes (> 0); the earlier name of setScratchSize. */
  setStackSize(bytes: number): this
  /** The largest event accepted, in bytes of JSON (> 0). */
  setInputBufferSize(bytes: number): this
  /** The largest result returned, in bytes of JSON (> 0). */
  setOutputBufferSize(bytes: number): this
  /** Polybox extension: count instructions so calls can take a `fuel` budget. */
  setFuelMetering(enabled?: boolean): this
  /** Polybox extension: the engine, 'wasmtime' (default) or 'hyperlight'. */
  setBackend(backend: 'wasmtime' | 'hyperlight'): this
  /** The language of handlers and modules: 'javascript' (default) or 'python' (wasmtime backend only). */
  setLanguage(language: 'javascript' | 'python'): this
  /**
   * Polybox extension: where guest output (console.*, print) goes, line by
   * line, in order, before the load or call that wrote it settles. Without a
   * sink, guest output is discarded.
   */
  setLogSink(sink: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void): this
  /** Builds a proto sandbox, ready for host functions and the runtime. Consumes the builder: a second build() rejects and later setters throw, with ERR_CONSUMED. */
  build(): Promise<ProtoJSSandbox>
}

/** A host callback: receives the guest's arguments spread; may return a Promise. */
export type HostCallback = (...args: any[]) => unknown

/** Registers functions in one host module, imported as `host:<name>`. */
export declare class HostModule {
  /** Registers `callback` as `functionName`. Throws ERR_INVALID_ARG for an empty name. */
  register(functionName: string, callback: HostCallback): this
}

/** A sandbox before its runtime is loaded: the place to register host functions. */
export declare class ProtoJSSandbox implements Disposable {
  dispose(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
  /** A builder for host module `name`. Throws ERR_INVALID_ARG for an empty name. */
  hostModule(name: string): HostModule
  /** Shorthand for `hostModule(moduleName).register(functionName, callback)`. */
  register(moduleName: string, functionName: string, callback: HostCallback): void
  /**
   * Makes a WebAssembly component's exported functions the host module `name`,
   * imported as `host:<name>` by every guest. `component` is a path or the bytes.
   */
  hostComponent(name: string, component: string | Uint8Array): this
  /** Loads the JavaScript runtime with every registered host function. */
  loadRuntime(): Promise<JSSandbox>
}

/** Options of getLoadedSandbox(): loading runs the handlers' top-level code. */
export interface LoadOptions {
  /** Wall-clock timeout in ms, from 1 to 3,600,000 (one hour). */
  wallClockTimeoutMs?: number
  /** CPU time timeout in ms, from 1 to 3,600,000 (one hour). */
  cpuTimeoutMs?: number
  /** A fuel budget (needs setFuelMetering on the builder). */
  fuel?: number
  /** Aborting the signal stops the load (ERR_CANCELLED). */
  signal?: AbortSignal
}

/** A sandbox with the runtime loaded, ready for handlers and modules. */
export declare class JSSandbox implements Disposable {
  dispose(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
  /** Adds a handler: source defining a function named `handler`. */
  addHandler(name: string, code: string): void
  /** Adds a handler written as a component (the `handler` world); a path or the bytes. */
  addComponentHandler(name: string, component: string | Uint8Array): void
  removeHandler(name: string): void
  clearHandlers(): void
  /** Adds a module imported as `user:<name>` (or `<namespace>:<name>`). */
  addModule(name: string, source: string, namespace?: string): void
  /** Adds a component as module `user:<name>` (or `<namespace>:<name>`); a path or the bytes. */
  addComponentModule(name: string, component: string | Uint8Array, namespace?: string): void
  removeModule(name: string, namespace?: string): void
  clearModules(): void
  /** Whether a load was stopped mid-way (false on a fresh JSSandbox); the next getLoadedSandbox() starts afresh. */
  readonly poisoned: boolean
  /** Compiles modules and handlers in the guest, bounded by `options` (Polybox extension). On failure this sandbox stays usable. */
  getLoadedSandbox(options?: LoadOptions): Promise<LoadedJSSandbox>
}

/** Options of callHandler(). */
export interface CallHandlerOptions {
  /** Wall-clock timeout in ms, from 1 to 3,600,000 (one hour). */
  wallClockTimeoutMs?: number
  /** CPU time timeout in ms, from 1 to 3,600,000 (one hour). */
  cpuTimeoutMs?: number
  /** Whether to run GC after the call (default true). */
  gc?: boolean
  /** Polybox extension: a fuel budget (needs setFuelMetering on the builder). */
  fuel?: number
  /** Polybox extension: aborting the signal cancels the call (ERR_CANCELLED, terminatedBy "signal"). */
  signal?: AbortSignal
}

/** Statistics of the most recent callHandler(). */
export interface CallStats {
  /** Wall-clock time in ms. */
  wallClockMs: number
  /** CPU time in ms. */
  cpuTimeMs: number | null
  /** Polybox extension: fuel consumed, when metered. */
  fuelConsumed: number | null
  /** What stopped the call ("wall-clock", "cpu-time", "fuel", "epoch", "killed", "signal"), or null. */
  terminatedBy: string | null
}

/** Stops the running call; does nothing while the sandbox is idle. */
export declare class InterruptHandle {
  kill(): void
}

/** An opaque point-in-time copy of a sandbox's guest state. */
export declare class Snapshot {
  private constructor()
}

/** A sandbox with handlers loaded, ready to process events. */
export declare class LoadedJSSandbox implements Disposable {
  dispose(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
  /**
   * Calls a handler with any JSON-serialisable value; resolves to its result.
   * Uint8Array, Buffer and ArrayBuffer values in the event reach the handler
   * as bytes (a Uint8Array; `bytes` in Python), and bytes in the result come
   * back as Buffers. While this sandbox's running call waits for one of its host callbacks,
   * another call rejects at once with ERR_BUSY (made by that callback it
   * could only deadlock). Unknown options are ERR_INVALID_ARG.
   */
  callHandler<T = any>(handlerName: string, eventData: unknown, options?: CallHandlerOptions): Promise<T>
  /**
   * callHandler, synchronously: blocks the calling thread (and its event loop) until the call ends, with the same
   * limits and errors (thrown). No `signal`; a kill() from another thread stops it. JavaScript host functions, tools
   * and http handlers cannot run during it (such a call fails in the guest at once). ERR_BUSY while another call runs.
   */
  callHandlerSync<T = any>(handlerName: string, eventData: unknown, options?: Omit<CallHandlerOptions, 'signal'>): T
  /**
   * Answers a web Request (or a URL) with a fetch handler (`export default { fetch }`, or
   * `addEventListener("fetch")`); resolves to a web Response. ERR_GUEST_ERROR when the handler throws or gives
   * something that is not a Response.
   */
  fetch(handlerName: string, request: Request | string | URL, options?: CallHandlerOptions): Promise<Response>
  /** Unloads all handlers and modules; resolves to a fresh JSSandbox. */
  unload(): Promise<JSSandbox>
  /** Captures the guest state. */
  snapshot(): Promise<Snapshot>
  /** Restores guest state from a snapshot and clears poison. */
  restore(snapshot: Snapshot): Promise<void>
  /** A handle to kill the running call (a getter, not a method). */
  readonly interruptHandle: InterruptHandle
  /** Whether the sandbox is poisoned. */
  readonly poisoned: boolean
  /** Statistics of the most recent call, or null before the first. */
  readonly lastCallStats: CallStats | null
}

/** A permission verdict. */
export type PermissionMode = 'allow' | 'deny'

/** One rule of a scope: the last rule that matches an access decides it. */
export interface PermissionRule {
  mode: PermissionMode
  /** The operations it applies to (all of the scope's when absent). fs: read, write, stat, readdir, mkdir, rm, rename, symlink, readlink, truncate; network: fetch; env: read; tool: call. */
  operations?: string[]
  /** fs rules: absolute guest paths, each covering what lies below it; `*` matches within a segment, `**` across whole segments; no `.` or `..` segments. */
  paths?: string[]
  /**
   * network rules: `*`, or `[scheme://]host[:port][/path]`, decided on the parts of the parsed URL: host a name
   * (`api.example.com`), `*.example.com` (names under it, whole labels), an address or network (`10.0.0.0/8`,
   * `[::1]`) or `*`; no port means any; the path a prefix of whole segments. env and tool rules: whole names, `*`
   * matching any run of characters (`API_*`). A malformed pattern is ERR_INVALID_ARG, naming it.
   */
  patterns?: string[]
}

/** A scope: one mode for everything, or a default (deny when absent) and rules. */
export type PermissionScope = PermissionMode | { default?: PermissionMode; rules?: PermissionRule[] }

/**
 * What guests may reach. A scope left out denies everything; what the
 * filesystem options configure (files, mounts, /tmp) grants itself first,
 * and these rules can narrow it.
 */
export interface Permissions {
  fs?: PermissionScope
  network?: PermissionScope
  env?: PermissionScope
  tool?: PermissionScope
}

/** A host directory in the runtime's filesystem (secure-exec's form). */
export interface HostDirectoryMount {
  /** Absolute guest path it appears at. */
  guestPath: string
  /** The host directory; nothing outside it is reachable through it. */
  hostPath: string
  /** Read-only (the default); pass false to let programs write to it. */
  readOnly?: boolean
}

/** isola's form of a mount: writable when either permission includes write. */
export interface IsolaMount {
  host: string
  guest: string
  dirPerms?: 'read' | 'write' | 'read-write'
  filePerms?: 'read' | 'write' | 'read-write'
  dir_perms?: 'read' | 'write' | 'read-write'
  file_perms?: 'read' | 'write' | 'read-write'
}

/** A host node_modules directory, mounted read-only. */
export interface NodeModulesMount {
  hostPath: string
  /** Where programs see it; default '/node_modules', where every package lookup ends. */
  guestPath?: string
}

/** A host tool guests call as `await tools.<name>(input)` (secure-exec's shape). */
export interface HostToolDefinition {
  description?: string
  /** A JSON Schema; the input is checked against it before `handler` runs (a mismatch is a TypeError in the guest). Default: any object. */
  inputSchema?: object | boolean
  /** Runs on the main thread with the input; its (awaited) JSON-serialisable result is the guest's. A throw rejects the guest's call with its message. */
  handler: (input: any) => unknown | Promise<unknown>
}

/** A guest's outgoing request, as an `http` handler gets it (isola's shape). */
export interface HttpRequest {
  method: string
  url: string
  /** Lowercase names; a secret placeholder is already filled in for the hosts it is bound to. */
  headers: Record<string, string>
  /** The body, or null when there is none. */
  body: Buffer | null
}

/** What an `http` handler answers (isola's shape). */
export interface HttpResponse {
  /** 100 to 599. */
  status: number
  headers?: Record<string, string> | Array<[string, string]> | Headers
  body?: Buffer | Uint8Array | string | null
}

/** Options of {@link NodeRuntime.create}. secure-exec's commandsDir and loopbackExemptPorts are refused with ERR_NOT_SUPPORTED. */
export interface NodeRuntimeCreateOptions {
  /** Environment variables every program sees (nothing else of the host's). */
  env?: Record<string, string>
  /** Every program's `process.cwd()`; default '/home/user'. */
  cwd?: string
  /** The guest heap, in MiB (default 32). */
  memoryLimit?: number
  /** Every run's CPU-time limit, in ms (1 to 3,600,000); a run it stops exits with 124. */
  cpuTimeLimitMs?: number
  /** Polybox extension: every run's wall-clock limit, in ms; a run it stops exits with 124. */
  timeout?: number
  /** Polybox extension: how many bytes of each stream a result keeps (default 1 MiB); callbacks hear everything. */
  outputLimit?: number
  /** Polybox extension: 'wasmtime' (default) or 'hyperlight'. */
  backend?: 'wasmtime' | 'hyperlight'
  /** What exec and run take: 'javascript' (default) or 'python' (Polybox extension). */
  language?: 'javascript' | 'python'
  /** Files seeded into the runtime's in-memory filesystem (guest path → content); programs may read and write them. */
  files?: Record<string, string | Uint8Array>
  /** Host directories in the runtime's filesystem. */
  mounts?: Array<HostDirectoryMount | IsolaMount>
  /** A host node_modules directory for programs' imports and requires, read-only. */
  nodeModules?: string | NodeModulesMount
  /** The permissions policy; everything is denied unless granted. */
  permissions?: Permissions
  /** Host tools, allowed unless `permissions.tool` says otherwise. Guests call them as `await tools.name(input)` (not as shell commands, as secure-exec's guests do). */
  tools?: Record<string, HostToolDefinition>
  /**
   * isola's HTTP bridge: `true` sends guests' requests out through the host as `permissions.network` allows (the default),
   * or a handler answers them instead, on the main thread, with no network (the policy still decides which reach it:
   * all of them when it has no `network` scope). A throw rejects the guest's fetch; a stopped run stops waiting for it.
   */
  http?: true | ((request: HttpRequest) => HttpResponse | Promise<HttpResponse>)
  /** isola's older name for `http`. */
  httpHandler?: (request: HttpRequest) => HttpResponse | Promise<HttpResponse>
}

/** Options of one {@link NodeRuntime.exec} or {@link NodeRuntime.run}. */
export interface NodeRuntimeExecOptions {
  /** Variables added to (or replacing) the runtime's env for this run. */
  env?: Record<string, string>
  /** `process.cwd()` for this run. */
  cwd?: string
  /** What `process.stdin` reads. */
  stdin?: string | Uint8Array
  /** Wall-clock limit in ms; a run it stops exits with 124. */
  timeout?: number
  /** Aborting rejects the run with the signal's reason and stops the program. */
  signal?: AbortSignal
  /** Hears standard output while the program runs, chunk by chunk; every chunk before the run settles. */
  onStdout?: (chunk: Uint8Array) => void
  /** Hears standard error while the program runs. */
  onStderr?: (chunk: Uint8Array) => void
  /** Polybox extension: a CPU-time limit in ms. */
  cpuTimeLimitMs?: number
  /** Polybox extension: `process.argv` after the runtime and the file name. */
  args?: string[]
  /** Polybox extension: the path the program runs as (`__filename`, stack traces). */
  filename?: string
}

/** Polybox extension: what a run cost and what stopped it. */
export interface ProgramStats {
  wallClockMs: number
  cpuTimeMs: number | null
  fuelConsumed: number | null
  /** 'wall-clock', 'cpu-time', 'killed', ...; null when the program ended by itself. */
  terminatedBy: string | null
  /** Whether stdout went past the output limit (the result keeps the first part). */
  stdoutTruncated: boolean
  stderrTruncated: boolean
}

/** What {@link NodeRuntime.exec} resolves to. */
export interface NodeRuntimeExecResult {
  stdout: string
  stderr: string
  /** The program's exit code; 124 when a limit stopped it, 137 when it was killed (dispose). */
  exitCode: number
  /** Polybox extension. */
  stats: ProgramStats
}

/** What {@link NodeRuntime.run} resolves to. */
export interface NodeRuntimeRunResult<T = unknown> extends NodeRuntimeExecResult {
  /** What the program passed to `__return(value)`, else an ES module's default export; JSON-decoded. */
  value?: T
}

/**
 * Runs Node.js programs, each as a fresh process in a sandbox, with the API
 * of secure-exec's NodeRuntime. Runs may overlap.
 */
/** A request NodeRuntime.fetch sends to a process's server. */
export interface NodeRuntimeFetchInput {
  /** Default GET. */
  method?: string
  /** The path and query, e.g. `/api/users?limit=10`. */
  path: string
  headers?: Record<string, string>
  body?: string | Uint8Array
  /** A Polybox extension: how long to wait for the answer (default 30000 ms). */
  timeoutMs?: number
}

/** A process's server's answer. */
export interface NodeRuntimeFetchResponse {
  status: number
  statusText: string
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>
  /** The body as UTF-8 text. */
  body: string
}

export interface NodeRuntimeListenerQuery {
  port: number
  /** Matches any host: every virtual port is the sandbox's own. */
  host?: string
  /** Unix sockets are not supported (ERR_NOT_SUPPORTED). */
  path?: string
}

export interface NodeRuntimeListener {
  /** The pid of the process that listens. */
  processId: string
  port?: number
  host?: string
  path?: string
}

export interface NodeRuntimeWaitForListenerOptions {
  /** Default 10000. */
  timeoutMs?: number
  signal?: AbortSignal
  /** Default 50. */
  pollIntervalMs?: number
}

/** A process NodeRuntime.spawn started. */
export interface NodeRuntimeProcess {
  readonly pid: number
  /** The exit code once it exited, else null. */
  readonly exitCode: number | null
  writeStdin(data: string | Uint8Array): void
  closeStdin(): void
  /** Stops it whatever the signal (exit code 137). */
  kill(signal?: string | number): void
  /** Resolves to its exit code. */
  wait(): Promise<number>
}

export declare class NodeRuntime implements Disposable {
  private constructor()
  static create(options?: NodeRuntimeCreateOptions): Promise<NodeRuntime>
  /** Runs `code` (an ES module or a CommonJS script, decided by its syntax). */
  exec(code: string, options?: NodeRuntimeExecOptions): Promise<NodeRuntimeExecResult>
  run<T = unknown>(code: string, options?: NodeRuntimeExecOptions): Promise<NodeRuntimeRunResult<T>>
  /**
   * Starts `code` as a long-running process and resolves to its handle at once. Its `node:http` servers listen on
   * the sandbox's own virtual ports (no host port is taken); reach them with fetch().
   */
  spawn(code: string, options?: NodeRuntimeExecOptions): Promise<NodeRuntimeProcess>
  /**
   * Sends a request to the server listening on `port` in one of this runtime's processes. ERR_CONNECTION_REFUSED
   * when nothing listens there, ERR_CONNECTION_RESET when the process ends first, ERR_TIMEOUT after timeoutMs.
   */
  fetch(port: number, input: NodeRuntimeFetchInput): Promise<NodeRuntimeFetchResponse>
  /** The listener on `query.port`, or null. `path` (unix sockets) is ERR_NOT_SUPPORTED. */
  findListener(query: NodeRuntimeListenerQuery): NodeRuntimeListener | null
  /** Resolves once a process listens on `query.port`; ERR_TIMEOUT after timeoutMs (default 10000). */
  waitForListener(query: NodeRuntimeListenerQuery, options?: NodeRuntimeWaitForListenerOptions): Promise<NodeRuntimeListener>
  /** Adds tools for the runs that start from now on. */
  registerTools(tools: Record<string, HostToolDefinition>): Promise<void>
  /** Writes a file into the runtime's filesystem, making its directories; programs may read and write it from their next run. ERR_INVALID_ARG (naming EROFS, ENOSPC, ...) when it cannot. */
  writeFile(path: string, content: string | Uint8Array): Promise<void>
  /** Reads a file of the runtime's filesystem; ERR_INVALID_ARG (naming ENOENT, ...) when there is none. */
  readFile(path: string): Promise<Uint8Array>
  /** Stops running programs and frees the runtime; later runs reject with ERR_CONSUMED. */
  dispose(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/** Options of {@link Template.build}. */
export interface TemplateOptions {
  /** Handler name → source, loaded into the template. */
  handlers?: Record<string, string>
  /** Modules loaded before the handlers. */
  modules?: Array<{ name: string; source: string; namespace?: string }>
  /** Host module → function name → callback (run on the main thread, shared by the template's sandboxes). */
  hostFunctions?: Record<string, Record<string, (...args: any[]) => unknown>>
  /** Keep built templates here, keyed by their inputs, so the same build again evaluates nothing. */
  cacheDir?: string | null
}

/**
 * Polybox extension: a sandbox loaded once and started many times (Rust's `polybox::Template`). `create()` maps the
 * captured guest memory into a new sandbox: nothing is compiled or evaluated. Needs the wasmtime backend.
 */
export declare class Template {
  /** Loads the handlers and modules into a sandbox of `builder` (consumed) and captures it. */
  static build(builder: SandboxBuilder, options?: TemplateOptions): Promise<Template>
  /** Reads a template file; the builder's settings and the host functions' modules and names must be those it was built with. */
  static load(path: string, builder: SandboxBuilder, options?: { hostFunctions?: TemplateOptions['hostFunctions'] }): Promise<Template>
  /** A new sandbox started from the template, its handlers loaded. */
  create(): Promise<LoadedJSSandbox>
  /** Writes the template to `path`, replacing the file atomically. */
  save(path: string): Promise<void>
  /** The handlers every sandbox of the template has loaded. */
  readonly handlers: string[]
  /** Whether `build` read the template from its cache or stored it there. */
  readonly cacheStatus: 'disabled' | 'hit' | 'stored' | 'unusable'
}

/** Options of {@link Pool.create}. */
export interface PoolOptions {
  /** Handler name → source, loaded into every sandbox. */
  handlers?: Record<string, string>
  /** Modules loaded into every sandbox before the handlers. */
  modules?: Array<{ name: string; source: string; namespace?: string }>
  /** Host module → function name → callback (run on the main thread, shared by the pool's sandboxes). */
  hostFunctions?: Record<string, Record<string, (...args: any[]) => unknown>>
  /** How many sandboxes serve calls, so how many calls run at once (default 2). */
  size?: number
  /** How many calls may wait for a sandbox (default 64); past it a call rejects with ERR_BUSY. */
  queueLimit?: number
  /** What a call sees of the calls before it: 'reuse' (what they left), 'restore' (nothing; default), 'new' (nothing; a new sandbox per call). */
  strategy?: 'reuse' | 'restore' | 'new'
  /** Every call's limits, unless a call gives its own. */
  wallClockTimeoutMs?: number
  cpuTimeoutMs?: number
  fuel?: number
}

/**
 * Polybox extension: calls over a fixed set of sandboxes built alike (Rust's `polybox::Pool`). A sandbox a call
 * poisoned is restored to its start before reuse. A stopped call's host callbacks are let go of (their results
 * dropped) but their `hostCallSignal()` is not aborted.
 */
export declare class Pool implements Disposable {
  /** Builds the pool's sandboxes from `builder` (consumed), or creates them from `template`. */
  static create(builder: SandboxBuilder, options?: PoolOptions): Promise<Pool>
  static create(template: Template, options?: Omit<PoolOptions, 'handlers' | 'modules' | 'hostFunctions'>): Promise<Pool>
  /** Calls a handler in a free sandbox; resolves to its result. ERR_BUSY when the queue is full. */
  callHandler<T = any>(handlerName: string, eventData: unknown, options?: { wallClockTimeoutMs?: number; cpuTimeoutMs?: number; fuel?: number }): Promise<T>
  /** How many sandboxes serve calls. */
  readonly size: number
  /** How many calls wait for a sandbox now. */
  readonly queued: number
  /** Lets the pool go; later calls reject with ERR_CONSUMED. */
  dispose(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

// isola's API (isola.js): code written for isola runs by changing the import.

/** A JSON-like value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** A mount of a host directory: isola's form, or secure-exec's. */
export type MountConfig =
  | { host: string; guest: string; dirPerms?: 'read' | 'write' | 'read-write'; filePerms?: 'read' | 'write' | 'read-write' }
  | { hostPath: string; guestPath: string; readOnly?: boolean }

/** An outbound request, as the `http` handler gets it. */
export interface HttpRequest { method: string; url: string; headers: Record<string, string>; body: Buffer | null }
/** The `http` handler's answer. */
export interface HttpResponse { status: number; headers?: Record<string, string>; body?: Buffer | string | null }

/** Options of {@link buildTemplate}. */
export interface BuildTemplateOptions {
  /** Where built templates are kept, keyed by their inputs (Polybox's cache directory by default); null disables it. */
  cacheDir?: string | null
  /** The guest's memory limit, in bytes. */
  maxMemory?: number
  /** Code every sandbox has evaluated before its scripts. */
  prelude?: string
  mounts?: MountConfig[]
  env?: Record<string, string>
  /** Accepted and unused: the runtime is built in. */
  runtimePath?: string
  /** Accepted and unused: the runtime is built in. */
  version?: string
  /** Accepted and unused: the runtime is built in. */
  runtimeLibDir?: string
}

/** Options of {@link SandboxTemplate.create}. */
export interface SandboxOptions {
  maxMemory?: number
  mounts?: MountConfig[]
  /** Over the template's. */
  env?: Record<string, string>
  /** What `await hostcall(name, payload)` in the guest calls. */
  hostcalls?: Record<string, (payload: JsonValue) => unknown>
  /** true: requests go out as the network policy allows; a function answers them instead. */
  http?: true | ((request: HttpRequest) => Promise<HttpResponse>)
  /** The older name of `http`. */
  httpHandler?: true | ((request: HttpRequest) => Promise<HttpResponse>)
  /** Polybox extension: every run's wall-clock limit. */
  timeoutMs?: number
}

/** What runStream yields. */
export type Event =
  | { type: 'result'; data: JsonValue }
  | { type: 'end'; data: JsonValue | null }
  | { type: 'stdout'; data: string }
  | { type: 'stderr'; data: string }
  | { type: 'error'; data: string }
  | { type: 'log'; data: string }

/** A named argument: `new Arg(value, name)`. */
export declare class Arg {
  constructor(value: unknown, name?: string)
  readonly value: unknown
  readonly name?: string
}

/** An argument streamed into the guest, which iterates it with `for await`. */
export declare class StreamArg {
  constructor(source: Iterable<unknown> | AsyncIterable<unknown>, name?: string)
}

/** Builds a template of the 'js' or 'python' runtime. */
export declare function buildTemplate(runtime: 'js' | 'python', options?: BuildTemplateOptions): Promise<SandboxTemplate>

/** Owns template building; `close()` stops it building more. */
export declare class SandboxContext {
  buildTemplate(runtime: 'js' | 'python', options?: BuildTemplateOptions): Promise<SandboxTemplate>
  close(): void
}

/** Instantiates sandboxes from a template. */
export declare class SandboxTemplate {
  create(options?: SandboxOptions): Promise<Sandbox>
}

/** Runs guest code: call start() first. */
export declare class Sandbox {
  /** Starts the sandbox (again, after a stopped run lost its scripts). */
  start(): Promise<void>
  loadScript(code: string): Promise<void>
  run(name: string, args?: unknown[], kwargs?: Record<string, unknown>): Promise<JsonValue | null>
  runStream(name: string, args?: unknown[], kwargs?: Record<string, unknown>): AsyncGenerator<Event>
  close(): void
  [Symbol.asyncDispose](): Promise<void>
}
