'use strict';
// What lib.js (handlers) and node-runtime.js (programs) share: coded errors,
// disposal, AbortSignal support, and the replies of host callbacks.

const native = require('./native.js');

/** An Error with a stable `code`, for the rules the JavaScript layer owns. */
function codedError(code, message) {
  const error = new Error(message);
  error.code = code;
  return error;
}

/** What every sandbox object can do: be freed now rather than when garbage-collected. */
class Disposable {
  #dispose;

  constructor(dispose) {
    this.#dispose = dispose;
  }

  /** Frees the sandbox now, stopping a call that is running; using it afterwards is ERR_CONSUMED. */
  async dispose() {
    await this.#dispose();
  }

  // `await using` (Node.js 20.4 and later; earlier versions have only the symbol's registered name).
  async [Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose')]() {
    await this.dispose();
  }
}

/** Runs `start(token)` with a native abort token that `signal` (optional) aborts. */
function withSignal(signal, start) {
  return signal === undefined ? start(undefined) : startWithSignal(signal, start);
}

async function startWithSignal(signal, start) {
  if (!(signal instanceof AbortSignal)) throw codedError('ERR_INVALID_ARG', 'signal must be an AbortSignal');
  if (signal.aborted) throw codedError('ERR_CANCELLED', 'the call was cancelled by its AbortSignal before it started');
  const token = new native.NativeAbortToken();
  const onAbort = () => token.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await start(token);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * What a host callback's invoker resolves to, never rejecting: `{ ok: true,
 * value }` with the JSON of what `run()` returned (awaited, written by
 * `write`), or `{ ok: false, value }` with the message of what it threw or
 * rejected with.
 */
async function reply(run, write = JSON.stringify) {
  try {
    const json = write(await run());
    return { ok: true, value: json === undefined ? 'null' : json };
  } catch (error) {
    return { ok: false, value: error instanceof Error ? error.message : String(error) };
  }
}

module.exports = { codedError, Disposable, reply, withSignal };
