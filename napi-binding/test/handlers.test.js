'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { SandboxBuilder } = require('..');
const { loadSandbox, rejectsWith, throwsWith } = require('./helpers');

test('the quickstart: events and results are plain JS values', async () => {
  const loaded = await loadSandbox({
    greet: "function handler(event) { event.message = 'Hello, ' + event.name + '!'; return event; }",
  });
  assert.deepEqual(await loaded.callHandler('greet', { name: 'World' }), { name: 'World', message: 'Hello, World!' });
});

test('async handlers are awaited and any JSON value round-trips', async () => {
  const loaded = await loadSandbox({ echo: 'async function handler(e) { await null; return e; }' });
  for (const value of [null, true, 42, 'text', [1, { a: [2] }]]) {
    assert.deepEqual(await loaded.callHandler('echo', value), value);
  }
  assert.equal(await loaded.callHandler('echo'), null);
});

test('a throwing handler rejects with ERR_GUEST_ERROR and its message', async () => {
  const loaded = await loadSandbox({ boom: "function handler() { throw new TypeError('bad input'); }" });
  const error = await rejectsWith(loaded.callHandler('boom', {}), 'ERR_GUEST_ERROR');
  assert.match(error.message, /^TypeError: bad input/);
  assert.equal(loaded.poisoned, false);
});

test('an unknown handler and a non-serialisable event are ERR_INVALID_ARG', async () => {
  const loaded = await loadSandbox({ h: 'function handler(e) { return e; }' });
  await rejectsWith(loaded.callHandler('missing', {}), 'ERR_INVALID_ARG');
  await rejectsWith(loaded.callHandler('h', { big: 10n }), 'ERR_INVALID_ARG');
  await rejectsWith(loaded.callHandler('h', {}, { wallClockTimeoutMs: 0 }), 'ERR_INVALID_ARG');
});

test('an event over the input buffer is ERR_INVALID_ARG', async () => {
  const loaded = await loadSandbox({ h: 'function handler(e) { return 1; }' }, {
    builder: new SandboxBuilder().setInputBufferSize(64),
  });
  const error = await rejectsWith(loaded.callHandler('h', 'x'.repeat(100)), 'ERR_INVALID_ARG');
  assert.match(error.message, /102 bytes/);
});

test('a syntax error fails getLoadedSandbox, and the sandbox can be fixed', async () => {
  const proto = await new SandboxBuilder().build();
  const sandbox = await proto.loadRuntime();
  sandbox.addHandler('h', 'function handler( {');
  await rejectsWith(sandbox.getLoadedSandbox(), 'ERR_GUEST_ERROR');
  sandbox.addHandler('h', 'function handler() { return "fixed"; }');
  const loaded = await sandbox.getLoadedSandbox();
  assert.equal(await loaded.callHandler('h', {}), 'fixed');
});

test('handlers can be removed and cleared; unload resets state', async () => {
  const proto = await new SandboxBuilder().build();
  const sandbox = await proto.loadRuntime();
  sandbox.addHandler('a', 'let n = 0;\nfunction handler() { return ++n; }');
  sandbox.addHandler('b', 'function handler() { return "b"; }');
  sandbox.removeHandler('b');
  let loaded = await sandbox.getLoadedSandbox();
  assert.equal(await loaded.callHandler('a', {}), 1);
  assert.equal(await loaded.callHandler('a', {}), 2);
  await rejectsWith(loaded.callHandler('b', {}), 'ERR_INVALID_ARG');
  const fresh = await loaded.unload();
  fresh.addHandler('a', 'let n = 0;\nfunction handler() { return ++n; }');
  loaded = await fresh.getLoadedSandbox();
  assert.equal(await loaded.callHandler('a', {}), 1);
  const cleared = await loaded.unload();
  cleared.clearHandlers();
  loaded = await cleared.getLoadedSandbox();
  await rejectsWith(loaded.callHandler('a', {}), 'ERR_INVALID_ARG');
});

test('gc can be skipped per call', async () => {
  const loaded = await loadSandbox({ h: 'function handler() { return [1, 2, 3].length; }' });
  assert.equal(await loaded.callHandler('h', {}, { gc: false }), 3);
  assert.equal(await loaded.callHandler('h', {}, { gc: true }), 3);
});

test('a fresh JSSandbox is not poisoned, nor is one whose load failed', async () => {
  const sandbox = await (await new SandboxBuilder().build()).loadRuntime();
  assert.equal(sandbox.poisoned, false);
  sandbox.addHandler('h', 'function handler( {');
  await rejectsWith(sandbox.getLoadedSandbox(), 'ERR_GUEST_ERROR');
  assert.equal(sandbox.poisoned, false);
});

test('timeouts must lie between 1 ms and one hour', async () => {
  const loaded = await loadSandbox({ h: 'function handler() { return 1; }' });
  for (const option of ['wallClockTimeoutMs', 'cpuTimeoutMs']) {
    for (const bad of [0, -1, -4294967296, 3_600_001, NaN, Infinity, '5', true, {}]) {
      await rejectsWith(loaded.callHandler('h', {}, { [option]: bad }), 'ERR_INVALID_ARG');
    }
    for (const good of [1, 0.5, 3_600_000]) {
      assert.equal(await loaded.callHandler('h', {}, { [option]: good }), 1, `${option}: ${good}`);
    }
  }
  const error = await rejectsWith(loaded.callHandler('h', {}, { cpuTimeoutMs: '5' }), 'ERR_INVALID_ARG');
  assert.match(error.message, /cpuTimeoutMs must be a number of milliseconds from 1 to 3600000, not a string/);
});

test('handlers written for hyperlight-js find its require, String.bytesFrom and modules', async () => {
  const lines = [];
  const builder = new SandboxBuilder().setLogSink((level, message) => lines.push(`${level} ${message}`));
  const loaded = await loadSandbox({
    compat: `
      import { log } from 'console';
      import { print } from 'io';
      function handler() {
        log('logged'); print('printed');
        return { hash: require('crypto').createHash('sha256').update('abc').digest('hex').slice(0, 8), text: String.bytesFrom('aGk', 'base64url') };
      }`,
  }, { builder });
  assert.deepEqual(await loaded.callHandler('compat', {}), { hash: 'ba7816bf', text: 'hi' });
  assert.deepEqual(lines, ['info logged', 'info printed']);
});

test('callHandlerSync: the same results, limits and errors, synchronously', async () => {
  const loaded = await loadSandbox({
    echo: 'function handler(event) { return event; }',
    spin: 'function handler() { for (;;) {} }',
    fails: "function handler() { throw new TypeError('nope'); }",
    host: 'import * as m from "host:m"; function handler(e) { try { return m.f(e); } catch (err) { return String(err.message); } }',
  }, { host: (proto) => proto.hostModule('m').register('f', (x) => x) });
  assert.deepEqual(loaded.callHandlerSync('echo', { a: [1, 'two'] }), { a: [1, 'two'] });
  const thrown = throwsWith(() => loaded.callHandlerSync('fails', {}), 'ERR_GUEST_ERROR');
  assert.match(thrown.message, /nope/);
  const stopped = throwsWith(() => loaded.callHandlerSync('spin', {}, { wallClockTimeoutMs: 50 }), 'ERR_CANCELLED');
  assert.equal(stopped.terminatedBy, 'wall-clock');
  assert.equal(loaded.lastCallStats.terminatedBy, 'wall-clock');
  assert.equal(loaded.poisoned, true);
  // A JavaScript host function cannot run while this thread is blocked:
  // the guest's call fails at once instead of deadlocking.
  const fresh = await loadSandbox({ host: 'import * as m from "host:m"; function handler(e) { try { return m.f(e); } catch (err) { return String(err.message); } }' },
    { host: (proto) => proto.hostModule('m').register('f', (x) => x) });
  assert.match(fresh.callHandlerSync('host', 1), /cannot run during callHandlerSync/);
  assert.equal(await fresh.callHandler('host', 1), 1);
  throwsWith(() => fresh.callHandlerSync('host', 1, { signal: new AbortController().signal }), 'ERR_INVALID_ARG');
  // Not while another call of the sandbox runs: refused, not waited for.
  const busy = await loadSandbox({ spin: 'function handler() { for (;;) {} }', echo: 'function handler(e) { return e; }' });
  const running = busy.callHandler('spin', {}, { wallClockTimeoutMs: 500 });
  let refused = null;
  for (let i = 0; i < 100 && refused === null; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    try {
      busy.callHandlerSync('echo', 1);
    } catch (error) {
      refused = error;
    }
  }
  assert.equal(refused?.code, 'ERR_BUSY');
  await rejectsWith(running, 'ERR_CANCELLED');
});

test('Uint8Array, Buffer and ArrayBuffer values cross as bytes, both ways', async () => {
  const loaded = await loadSandbox({
    bytes: `function handler(e) {
      const kinds = [e.buffer, e.array, e.arrayBuffer, e.deep[0].empty].map((v) => v instanceof Uint8Array);
      const sum = (b) => b.reduce((a, x) => a + x, 0);
      return { kinds, sums: [sum(e.buffer), sum(e.array), sum(e.arrayBuffer)], echoed: e.array, made: new Uint8Array([0, 255]),
        raw: new Uint8Array([9]).buffer, plain: JSON.stringify(new Uint8Array([1])), empty: {} };
    }`,
  });
  const event = { buffer: Buffer.from('abc'), array: new Uint8Array([1, 2, 3]), arrayBuffer: new Uint8Array([5, 5]).buffer, deep: [{ empty: new Uint8Array(0) }] };
  for (const call of [() => loaded.callHandler('bytes', event), async () => loaded.callHandlerSync('bytes', event)]) {
    const result = await call();
    assert.deepEqual(result.kinds, [true, true, true, true]);
    assert.deepEqual(result.sums, [294, 6, 10]);
    assert.ok(Buffer.isBuffer(result.echoed) && result.echoed.equals(Buffer.from([1, 2, 3])));
    assert.ok(result.made.equals(Buffer.from([0, 255])));
    assert.ok(result.raw.equals(Buffer.from([9])));
    // Inside the sandbox JSON.stringify is the standard one.
    assert.equal(result.plain, '{"0":1}');
    assert.deepEqual(result.empty, {});
  }
  // A whole event of bytes, and an event whose shape only looks like bytes.
  const top = await loadSandbox({ top: 'function handler(e) { return [e instanceof Uint8Array, e.length]; }' });
  assert.deepEqual(await top.callHandler('top', Buffer.from('hello')), [true, 5]);
  assert.deepEqual(await top.callHandler('top', { 0: 1 }), [false, null]);
});
