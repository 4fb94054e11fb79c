'use strict';
// Template: a sandbox loaded once and created many times, in this process
// or another; the file's checks; the cache; pools of a template.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { Pool, SandboxBuilder, Template } = require('..');
const { rejectsWith } = require('./helpers');

// Top-level code calls a host function once; each call counts in a global.
const SUM = `import { add } from 'host:math';
const offset = add(40, 2);
function handler(e) { globalThis.calls = (globalThis.calls ?? 0) + 1; return { sum: add(e.a, e.b), offset, calls }; }`;

const scratch = (name) => fs.mkdtempSync(path.join(os.tmpdir(), `polybox-node-${name}-`));

function counted() {
  const seen = { adds: 0 };
  const hostFunctions = { math: { add: (a, b) => { seen.adds += 1; return a + b; } } };
  return { seen, hostFunctions };
}

test('sandboxes created from a template start loaded, separate, and evaluate nothing', async () => {
  const { seen, hostFunctions } = counted();
  const template = await Template.build(new SandboxBuilder(), { handlers: { sum: SUM }, hostFunctions });
  assert.equal(seen.adds, 1);
  assert.deepEqual(template.handlers, ['sum']);
  assert.equal(template.cacheStatus, 'disabled');
  const first = await template.create();
  const second = await template.create();
  assert.deepEqual(await first.callHandler('sum', { a: 1, b: 2 }), { sum: 3, offset: 42, calls: 1 });
  assert.deepEqual(await first.callHandler('sum', { a: 1, b: 2 }), { sum: 3, offset: 42, calls: 2 });
  assert.deepEqual(await second.callHandler('sum', { a: 1, b: 2 }), { sum: 3, offset: 42, calls: 1 });
  assert.equal(seen.adds, 4);
  await rejectsWith(Template.build(new SandboxBuilder(), { handlers: { broken: 'function handler( {' } }), 'ERR_GUEST_ERROR');
});

test('a saved template serves calls in another process, and damaged files are refused', async () => {
  const dir = scratch('template');
  const file = path.join(dir, 'sum.pbx');
  const { hostFunctions } = counted();
  const template = await Template.build(new SandboxBuilder(), { handlers: { sum: SUM }, hostFunctions });
  await template.save(file);
  const child = `
    const { SandboxBuilder, Template } = require(${JSON.stringify(path.join(__dirname, '..'))});
    (async () => {
      const template = await Template.load(process.argv[1], new SandboxBuilder(), { hostFunctions: { math: { add: (a, b) => a + b } } });
      const sandbox = await template.create();
      process.stdout.write(JSON.stringify(await sandbox.callHandler('sum', { a: 20, b: 3 })));
    })().catch((e) => { console.error(e.code, e.message); process.exit(1); });`;
  const output = execFileSync(process.execPath, ['-e', child, file], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(output), { sum: 23, offset: 42, calls: 1 });

  const bytes = fs.readFileSync(file);
  const truncated = path.join(dir, 'truncated.pbx');
  fs.writeFileSync(truncated, bytes.subarray(0, bytes.length - 4096));
  const error = await rejectsWith(Template.load(truncated, new SandboxBuilder(), { hostFunctions }), 'ERR_INVALID_ARG');
  assert.match(error.message, /truncated/);
  const other = await rejectsWith(Template.load(file, new SandboxBuilder()), 'ERR_INVALID_ARG');
  assert.match(other.message, /hostModules/);
  const deeper = await rejectsWith(Template.load(file, new SandboxBuilder().setStackSize(2 << 20), { hostFunctions }), 'ERR_INVALID_ARG');
  assert.match(deeper.message, /stackSize/);
  fs.rmSync(dir, { recursive: true });
});

test('the cache builds a template once; an unusable cache is a warning', async () => {
  const dir = scratch('template-cache');
  const { seen, hostFunctions } = counted();
  const build = (cacheDir) => Template.build(new SandboxBuilder(), { handlers: { sum: SUM }, hostFunctions, cacheDir });
  assert.equal((await build(dir)).cacheStatus, 'stored');
  const hit = await build(dir);
  assert.equal(hit.cacheStatus, 'hit');
  assert.equal(seen.adds, 1);
  const sandbox = await hit.create();
  assert.deepEqual(await sandbox.callHandler('sum', { a: 1, b: 1 }), { sum: 2, offset: 42, calls: 1 });

  const blocked = path.join(dir, 'a-file');
  fs.writeFileSync(blocked, 'not a directory');
  const warned = new Promise((resolve) => process.once('warning', resolve));
  const built = await build(path.join(blocked, 'sub'));
  assert.equal(built.cacheStatus, 'unusable');
  assert.equal((await warned).code, 'POLYBOX_TEMPLATE_CACHE');
  fs.rmSync(dir, { recursive: true });
});

test('a pool of a template restores its sandboxes to the capture', async () => {
  const { seen, hostFunctions } = counted();
  const template = await Template.build(new SandboxBuilder(), {
    handlers: { sum: SUM, spin: 'function handler() { for (;;) {} }' },
    hostFunctions,
  });
  const pool = await Pool.create(template, { size: 2, strategy: 'restore' });
  const results = await Promise.all([1, 2, 3].map(() => pool.callHandler('sum', { a: 2, b: 2 })));
  assert.deepEqual(results.map((r) => r.calls), [1, 1, 1]);
  await rejectsWith(pool.callHandler('spin', {}, { wallClockTimeoutMs: 30 }), 'ERR_CANCELLED');
  assert.deepEqual(await pool.callHandler('sum', { a: 2, b: 2 }), { sum: 4, offset: 42, calls: 1 });
  assert.equal(seen.adds, 1 + 4);
  await rejectsWith(Pool.create(template, { handlers: { x: SUM } }), 'ERR_INVALID_ARG');
  await pool.dispose();
});
