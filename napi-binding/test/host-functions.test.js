'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { loadSandbox } = require('./helpers');

const CALL = (module, fn) => `import * as m from "host:${module}";
function handler(e) {
  try { return { ok: m.${fn}(...(e.args || [])) }; } catch (err) { return { error: err.message }; }
}`;

test('sync callbacks get spread arguments and their result is stringified', async () => {
  const loaded = await loadSandbox({ h: CALL('math', 'add') }, {
    host: (proto) => proto.hostModule('math').register('add', (a, b) => a + b),
  });
  assert.deepEqual(await loaded.callHandler('h', { args: [10, 32] }), { ok: 42 });
});

test('async callbacks are awaited while the guest waits', async () => {
  const loaded = await loadSandbox({ h: CALL('api', 'fetchUser') }, {
    host: (proto) => proto.hostModule('api').register('fetchUser', async (id) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { id, name: `user-${id}` };
    }),
  });
  assert.deepEqual(await loaded.callHandler('h', { args: [42] }), { ok: { id: 42, name: 'user-42' } });
});

test('a throw or a rejection reaches the guest as a catchable exception', async () => {
  const loaded = await loadSandbox({ sync: CALL('auth', 'validate'), async: CALL('auth', 'validateLater') }, {
    host: (proto) => proto.hostModule('auth')
      .register('validate', () => { throw new Error('Token is required'); })
      .register('validateLater', async () => { throw new Error('Token expired'); }),
  });
  assert.deepEqual(await loaded.callHandler('sync', {}), { error: 'Token is required' });
  assert.deepEqual(await loaded.callHandler('async', {}), { error: 'Token expired' });
});

test('the register() shorthand and undefined results', async () => {
  const loaded = await loadSandbox({ h: CALL('strings', 'upper'), nothing: CALL('strings', 'nothing') }, {
    host: (proto) => {
      proto.register('strings', 'upper', (s) => s.toUpperCase());
      proto.register('strings', 'nothing', () => undefined);
    },
  });
  assert.deepEqual(await loaded.callHandler('h', { args: ['hi'] }), { ok: 'HI' });
  assert.deepEqual(await loaded.callHandler('nothing', {}), { ok: null });
});

test('bytes cross host callbacks as bytes, both ways', async () => {
  const loaded = await loadSandbox({
    h: `import { digest, echo } from "host:bytes";
function handler() {
  const sent = new Uint8Array([0, 1, 254, 255]);
  const back = digest(sent, { nested: sent.buffer }, "text");
  const empty = echo(new Uint8Array(0));
  return {
    back: back instanceof Uint8Array, values: Array.from(back),
    nested: echo({ inner: [sent] }).inner[0] instanceof Uint8Array,
    empty: empty instanceof Uint8Array && empty.length === 0,
  };
}`,
  }, {
    host: (proto) => proto.hostModule('bytes')
      .register('digest', (bytes, { nested }, text) => {
        assert.ok(Buffer.isBuffer(bytes));
        assert.deepEqual([...bytes], [0, 1, 254, 255]);
        assert.deepEqual([...nested], [0, 1, 254, 255]);
        assert.equal(text, 'text');
        return Buffer.from([bytes.length, 7]);
      })
      .register('echo', (value) => value),
  });
  for (let i = 0; i < 2; i++) {
    assert.deepEqual(await loaded.callHandler('h', {}), { back: true, values: [4, 7], nested: true, empty: true });
  }
  // A plain object that only looks like bytes stays a plain object.
  const plain = await loadSandbox({ h: CALL('plain', 'same') }, {
    host: (proto) => proto.register('plain', 'same', (value) => value),
  });
  assert.deepEqual(await plain.callHandler('h', { args: [{ 0: 1, 1: 2 }] }), { ok: { 0: 1, 1: 2 } });
});

test('host functions survive snapshot/restore, their state lives in Node', async () => {
  let callCount = 0;
  const loaded = await loadSandbox({
    handler: 'import * as stats from "host:stats";\nfunction handler() { return { count: stats.hit() }; }',
  }, { host: (proto) => proto.register('stats', 'hit', () => ++callCount) });
  const snapshot = await loaded.snapshot();
  await loaded.callHandler('handler', {});
  await loaded.callHandler('handler', {});
  await loaded.restore(snapshot);
  assert.deepEqual(await loaded.callHandler('handler', {}), { count: 3 });
});

test('two sandboxes with same-named host functions stay isolated under interleaved async calls', async () => {
  const make = (label) => loadSandbox({
    h: 'import { whoami } from "host:svc";\nasync function handler(e) { return [await whoami(e.i), e.i]; }',
  }, {
    host: (proto) => proto.register('svc', 'whoami', async (i) => {
      await new Promise((resolve) => setTimeout(resolve, (i * 7) % 5));
      return label;
    }),
  });
  const [a, b] = await Promise.all([make('a'), make('b')]);
  const calls = [];
  for (let i = 0; i < 10; i++) {
    calls.push(a.callHandler('h', { i }).then((r) => assert.deepEqual(r, ['a', i])));
    calls.push(b.callHandler('h', { i }).then((r) => assert.deepEqual(r, ['b', i])));
  }
  await Promise.all(calls);
});
