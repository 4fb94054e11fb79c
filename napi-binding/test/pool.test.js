'use strict';
// Pool: calls over a fixed set of sandboxes, each strategy keeping what it
// says, a bounded queue, poisoned sandboxes recovered.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Pool, SandboxBuilder } = require('..');
const { rejectsWith } = require('./helpers');

const COUNTER = 'function handler() { globalThis.n = (globalThis.n ?? 0) + 1; return n; }';
const SPIN = 'function handler() { for (;;) {} }';

const counts = async (pool, calls) => {
  const results = [];
  for (let i = 0; i < calls; i++) results.push(await pool.callHandler('count', {}));
  return results;
};

test('each strategy keeps what it says between calls', async () => {
  for (const [strategy, expected] of [['reuse', [1, 2, 3]], ['restore', [1, 1, 1]], ['new', [1, 1, 1]]]) {
    const pool = await Pool.create(new SandboxBuilder(), { handlers: { count: COUNTER }, size: 1, strategy });
    assert.deepEqual(await counts(pool, 3), expected, strategy);
    await pool.dispose();
  }
});

test('host functions, modules and limits; a poisoned sandbox is recovered', async () => {
  const pool = await Pool.create(new SandboxBuilder(), {
    size: 2,
    strategy: 'reuse',
    handlers: {
      http: "import { total } from 'user:cart'; import * as tax from 'host:tax'; function handler(r) { return { status: 200, total: tax.apply(total(r.items)) }; }",
      spin: SPIN,
      count: COUNTER,
    },
    modules: [{ name: 'cart', source: 'export const total = (items) => items.reduce((s, i) => s + i.price, 0);' }],
    hostFunctions: { tax: { apply: (amount) => amount * 2 } },
    wallClockTimeoutMs: 1000,
  });
  assert.equal(pool.size, 2);
  const responses = await Promise.all([1, 2, 3, 4].map((price) => pool.callHandler('http', { items: [{ price }, { price: 1 }] })));
  assert.deepEqual(responses.map((r) => r.total), [4, 6, 8, 10]);
  const stopped = await rejectsWith(pool.callHandler('spin', {}, { wallClockTimeoutMs: 30 }), 'ERR_CANCELLED');
  assert.equal(stopped.terminatedBy, 'wall-clock');
  // Both sandboxes answer again (the stopped one restored to its start).
  const after = await Promise.all([pool.callHandler('count', {}), pool.callHandler('count', {})]);
  assert.ok(after.every((n) => n >= 1));
  await pool.dispose();
  await rejectsWith(pool.callHandler('count', {}), 'ERR_CONSUMED');
});

test('past the queue limit a call is refused with ERR_BUSY', async () => {
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  const pool = await Pool.create(new SandboxBuilder(), {
    size: 1,
    queueLimit: 1,
    handlers: { held: "import * as g from 'host:gate'; async function handler() { return await g.wait(); }" },
    hostFunctions: { gate: { wait: () => gate } },
  });
  const first = pool.callHandler('held', {});
  const second = pool.callHandler('held', {});
  // The first holds the only sandbox, waiting for the gate; the second waits for the sandbox.
  for (let i = 0; i < 400 && pool.queued === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(pool.queued, 1);
  await rejectsWith(pool.callHandler('held', {}), 'ERR_BUSY');
  release('done');
  assert.deepEqual(await Promise.all([first, second]), ['done', 'done']);
  await rejectsWith(Pool.create(new SandboxBuilder(), { handlers: { count: COUNTER }, strategy: 'sometimes' }), 'ERR_INVALID_ARG');
  await rejectsWith(Pool.create(new SandboxBuilder(), { handlers: { broken: 'function handler( {' } }), 'ERR_GUEST_ERROR');
});
