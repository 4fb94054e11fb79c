'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { SandboxBuilder } = require('..');
const { loadSandbox, rejectsWith, killUntilSettled, SPIN } = require('./helpers');

const FAST = 'let n = 0;\nfunction handler() { return ++n; }';
const NAP = 'import { sleep } from "host:time";\nasync function handler(e) { await sleep(e.ms); return "rested"; }';

function sandbox(builder) {
  return loadSandbox({ spin: SPIN, fast: FAST, nap: NAP }, {
    builder,
    host: (proto) => proto.register('time', 'sleep', (ms) => new Promise((resolve) => setTimeout(resolve, ms))),
  });
}

async function expectStopped(loaded, options, terminatedBy, handler = 'spin', event = {}) {
  const snapshot = await loaded.snapshot();
  await rejectsWith(loaded.callHandler(handler, event, options), 'ERR_CANCELLED');
  assert.equal(loaded.lastCallStats.terminatedBy, terminatedBy);
  assert.equal(loaded.poisoned, true);
  await rejectsWith(loaded.callHandler('fast', {}), 'ERR_POISONED');
  await loaded.restore(snapshot);
  assert.equal(loaded.poisoned, false);
  assert.equal(await loaded.callHandler('fast', {}), 1);
  await loaded.restore(snapshot);
}

test('a wall-clock timeout stops a runaway handler', async () => {
  await expectStopped(await sandbox(), { wallClockTimeoutMs: 100 }, 'wall-clock');
});

test('a CPU timeout stops a runaway handler', async () => {
  await expectStopped(await sandbox(), { cpuTimeoutMs: 100 }, 'cpu-time');
});

test('with both timeouts, the one that fires first is reported', async () => {
  const loaded = await sandbox();
  await expectStopped(loaded, { wallClockTimeoutMs: 5000, cpuTimeoutMs: 100 }, 'cpu-time');
  // Waiting in the host: the wall clock, the tighter limit, fires first.
  await expectStopped(loaded, { wallClockTimeoutMs: 100, cpuTimeoutMs: 5000 }, 'wall-clock', 'nap', { ms: 2000 });
});

test('kill() from a timer stops the call', async () => {
  const loaded = await sandbox();
  await rejectsWith(killUntilSettled(loaded, loaded.callHandler('spin', {}), 100), 'ERR_CANCELLED');
  assert.equal(loaded.lastCallStats.terminatedBy, 'killed');
  assert.equal(loaded.poisoned, true);
});

test('kill() while idle does not affect the next call', async () => {
  const loaded = await sandbox();
  loaded.interruptHandle.kill();
  assert.equal(await loaded.callHandler('fast', {}), 1);
});

test('an AbortSignal cancels the call, before or while it runs', async () => {
  const loaded = await sandbox();
  await expectStopped(loaded, { signal: AbortSignal.timeout(100) }, 'signal');
  const controller = new AbortController();
  controller.abort();
  await rejectsWith(loaded.callHandler('fast', {}, { signal: controller.signal }), 'ERR_CANCELLED');
  assert.equal(await loaded.callHandler('fast', {}, { signal: new AbortController().signal }), 1);
});

test('a fuel budget needs fuel metering and stops the call deterministically', async () => {
  const plain = await sandbox();
  await rejectsWith(plain.callHandler('fast', {}, { fuel: 1000 }), 'ERR_INVALID_ARG');
  const metered = await sandbox(new SandboxBuilder().setFuelMetering(true));
  await expectStopped(metered, { fuel: 1000000 }, 'fuel');
  await metered.callHandler('fast', {});
  assert.ok(metered.lastCallStats.fuelConsumed > 0);
});

test('lastCallStats: null before the first call, replaced on each call, present after failure', async () => {
  const loaded = await sandbox();
  assert.equal(loaded.lastCallStats, null);
  await loaded.callHandler('fast', {});
  const ok = loaded.lastCallStats;
  assert.equal(typeof ok.wallClockMs, 'number');
  assert.equal(typeof ok.cpuTimeMs, 'number');
  assert.equal(ok.terminatedBy, null);
  await rejectsWith(loaded.callHandler('spin', {}, { cpuTimeoutMs: 50 }), 'ERR_CANCELLED');
  assert.ok(loaded.lastCallStats.cpuTimeMs >= 40, JSON.stringify(loaded.lastCallStats));
});

test('deep recursion is ERR_STACK_OVERFLOW, not a crash', async () => {
  const loaded = await loadSandbox({ rec: 'function f(n) { return f(n + 1) + 1; }\nfunction handler() { return f(0); }' });
  await rejectsWith(loaded.callHandler('rec', {}), 'ERR_STACK_OVERFLOW');
});

test('restore needs a Snapshot', async () => {
  const loaded = await sandbox();
  await rejectsWith(loaded.restore({}), 'ERR_INVALID_ARG');
});
