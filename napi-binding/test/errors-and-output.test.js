'use strict';
// What Node users reach for: errors that say what happened (in Node's
// words), guest output in a log sink, and sandboxes freed on demand.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { SandboxBuilder } = require('..');
const { loadSandbox, rejectsWith, killUntilSettled, SPIN } = require('./helpers');

test('a guest failure carries guestError: kind, message and stack', async () => {
  const loaded = await loadSandbox({ h: 'function handler() { null.x; }' });
  const error = await rejectsWith(loaded.callHandler('h', {}), 'ERR_GUEST_ERROR');
  assert.equal(error.guestError.kind, 'exception');
  assert.match(error.guestError.message, /^TypeError/);
  assert.match(error.guestError.stack, /handler/);
  assert.equal(error.terminatedBy, undefined);
});

test('a stopped call carries terminatedBy, and a kill says "killed"', async () => {
  const loaded = await loadSandbox({ spin: SPIN });
  const snapshot = await loaded.snapshot();
  const timedOut = await rejectsWith(loaded.callHandler('spin', {}, { wallClockTimeoutMs: 50 }), 'ERR_CANCELLED');
  assert.equal(timedOut.terminatedBy, 'wall-clock');
  assert.match(timedOut.message, /stopped by its wall-clock limit/);
  await loaded.restore(snapshot);
  const killed = await rejectsWith(killUntilSettled(loaded, loaded.callHandler('spin', {}), 50), 'ERR_CANCELLED');
  assert.equal(killed.terminatedBy, 'killed');
  assert.match(killed.message, /^the call was killed;/);
  assert.doesNotMatch(killed.message, /cancelled by killed/);
});

test('hints name the Node methods, not the Rust ones', async () => {
  const loaded = await loadSandbox({ h: 'function handler(e) { return e; }' }, {
    builder: new SandboxBuilder().setInputBufferSize(16),
  });
  const error = await rejectsWith(loaded.callHandler('h', 'x'.repeat(100)), 'ERR_INVALID_ARG');
  assert.match(error.message, /setInputBufferSize/);
  assert.doesNotMatch(error.message, /SandboxBuilder::/);
  const plain = await loadSandbox({ h: 'function handler() { return 1; }' });
  const fuel = await rejectsWith(plain.callHandler('h', {}, { fuel: 1000 }), 'ERR_INVALID_ARG');
  assert.match(fuel.message, /setFuelMetering\(true\)/);
});

test('a log sink receives every line of a call, in order, before the call settles', async () => {
  const lines = [];
  const loaded = await loadSandbox({
    talk: `function handler(e) {
      console.log('one', e.n); console.info('two'); console.warn('three'); console.error('four'); console.debug('five');
      return e.n;
    }`,
    boom: 'function handler() { console.log("before"); throw new Error("no"); }',
  }, { builder: new SandboxBuilder().setLogSink((level, message) => lines.push([level, message])) });
  assert.equal(await loaded.callHandler('talk', { n: 1 }), 1);
  assert.deepEqual(lines, [['info', 'one 1'], ['info', 'two'], ['warn', 'three'], ['error', 'four'], ['debug', 'five']]);
  await rejectsWith(loaded.callHandler('boom', {}), 'ERR_GUEST_ERROR');
  assert.deepEqual(lines.at(-1), ['info', 'before']);
});

test('a log sink sees output written while loading, and must be a function', async () => {
  const lines = [];
  const builder = new SandboxBuilder().setLogSink((level, message) => lines.push(message));
  const sandbox = await (await builder.build()).loadRuntime();
  sandbox.addHandler('h', 'console.log("loading"); function handler() { return 1; }');
  await sandbox.getLoadedSandbox();
  assert.deepEqual(lines, ['loading']);
  assert.throws(() => new SandboxBuilder().setLogSink('console'), { code: 'ERR_INVALID_ARG' });
});

test('a guest that writes without end cannot use up memory: lines past the cap are dropped and counted', async () => {
  const lines = [];
  const loaded = await loadSandbox({
    flood: 'function handler() { const line = "x".repeat(1000); for (let i = 0; i < 5000; i++) console.log(line); return 1; }',
  }, { builder: new SandboxBuilder().setLogSink((level, message) => lines.push([level, message])) });
  assert.equal(await loaded.callHandler('flood', {}), 1);
  assert.ok(lines.length < 5000);
  assert.match(lines.at(-1)[1], /lines of guest output dropped/);
});

test('empty lines count against the cap too', async () => {
  // Uncounted, a million empty lines once took a host to 754 MB.
  const lines = [];
  const loaded = await loadSandbox({
    flood: 'function handler() { for (let i = 0; i < 100000; i++) console.log(""); return 1; }',
  }, { builder: new SandboxBuilder().setLogSink((level, message) => lines.push([level, message])) });
  assert.equal(await loaded.callHandler('flood', {}), 1);
  // 1 MiB at 64 bytes a line, and the note of what was dropped.
  assert.ok(lines.length <= 16385, `${lines.length} lines`);
  assert.match(lines.at(-1)[1], /lines of guest output dropped/);
});

test('dispose() frees a sandbox at once, stopping its running call; afterwards it is ERR_CONSUMED', async () => {
  const loaded = await loadSandbox({ spin: SPIN, h: 'function handler() { return 1; }' });
  const stopped = rejectsWith(loaded.callHandler('spin', {}), 'ERR_CANCELLED');
  await new Promise((resolve) => setTimeout(resolve, 20));
  await loaded.dispose();
  await stopped;
  await rejectsWith(loaded.callHandler('h', {}), 'ERR_CONSUMED');
  await loaded.dispose();

  const proto = await new SandboxBuilder().build();
  await proto.dispose();
  await rejectsWith(proto.loadRuntime(), 'ERR_CONSUMED');
  const sandbox = await (await new SandboxBuilder().build()).loadRuntime();
  await sandbox[Symbol.asyncDispose]();
  assert.throws(() => sandbox.addHandler('h', 'function handler() {}'), { code: 'ERR_CONSUMED' });
});
