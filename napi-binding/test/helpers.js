'use strict';
// Shared helpers for the addon's tests.
const assert = require('node:assert/strict');
const { NodeRuntime, SandboxBuilder } = require('..');

/** A loaded sandbox with `handlers` ({ name: source }) and optional host functions. */
async function loadSandbox(handlers, { modules = [], host = () => {}, builder = new SandboxBuilder() } = {}) {
  const proto = await builder.build();
  host(proto);
  const sandbox = await proto.loadRuntime();
  for (const [name, source, namespace] of modules) sandbox.addModule(name, source, namespace);
  for (const [name, source] of Object.entries(handlers)) sandbox.addHandler(name, source);
  return sandbox.getLoadedSandbox();
}

/** Runs `body` with a fresh NodeRuntime made with `options`, disposing of it afterwards. */
async function withRuntime(options, body) {
  const runtime = await NodeRuntime.create(options);
  try {
    return await body(runtime);
  } finally {
    await runtime.dispose();
  }
}

/** Asserts that `promise` rejects with `code`; returns the error. */
async function rejectsWith(promise, code) {
  let caught;
  await assert.rejects(promise, (error) => {
    caught = error;
    return error instanceof Error && error.code === code;
  }, `expected a rejection with ${code}`);
  return caught;
}

/** Asserts that `fn` throws synchronously with `code`; returns the error. */
function throwsWith(fn, code) {
  let caught;
  assert.throws(fn, (error) => {
    caught = error;
    return error instanceof Error && error.code === code;
  }, `expected a throw with ${code}`);
  return caught;
}

const SPIN = 'function handler() { for (;;) {} }';

/**
 * Kills `loaded`'s running call after `delayMs`, and again every 10 ms until
 * `promise` settles: one kill alone could land before the call starts on the
 * thread pool (a kill while idle is ignored, by design).
 */
function killUntilSettled(loaded, promise, delayMs) {
  let settled = false;
  const kill = () => {
    if (settled) return;
    loaded.interruptHandle.kill();
    setTimeout(kill, 10);
  };
  const timer = setTimeout(kill, delayMs);
  return promise.finally(() => {
    settled = true;
    clearTimeout(timer);
  });
}

module.exports = { SPIN, killUntilSettled, loadSandbox, rejectsWith, throwsWith, withRuntime };
