'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { SandboxBuilder } = require('..');
const { loadSandbox, rejectsWith } = require('./helpers');

test('modules with the default and custom namespaces, in any order', async () => {
  const loaded = await loadSandbox({
    h: `import { circleArea } from 'user:geometry';
import { greet } from 'mylib:utils';
function handler(e) { return { area: circleArea(e.r), greeting: greet() }; }`,
  }, {
    modules: [
      ['geometry', "import { PI } from 'user:constants';\nexport function circleArea(r) { return PI * r * r; }"],
      ['constants', 'export const PI = 3;'],
      ['utils', 'export function greet() { return "hi"; }', 'mylib'],
    ],
  });
  assert.deepEqual(await loaded.callHandler('h', { r: 2 }), { area: 12, greeting: 'hi' });
});

test('module state is shared between handlers and persists across calls', async () => {
  const loaded = await loadSandbox({
    writer: "import { increment } from 'user:counter';\nfunction handler(event) { event.count = increment(); return event; }",
    reader: "import { getCount } from 'user:counter';\nfunction handler(event) { event.count = getCount(); return event; }",
  }, {
    modules: [['counter', 'let count = 0;\nexport function increment() { return ++count; }\nexport function getCount() { return count; }']],
  });
  assert.deepEqual(await loaded.callHandler('writer', {}), { count: 1 });
  assert.deepEqual(await loaded.callHandler('reader', {}), { count: 1 });
  assert.deepEqual(await loaded.callHandler('writer', {}), { count: 2 });
  assert.deepEqual(await loaded.callHandler('reader', {}), { count: 2 });
});

test('snapshot/restore resets module state', async () => {
  const loaded = await loadSandbox({
    writer: "import { increment } from 'user:counter';\nfunction handler() { return increment(); }",
  }, { modules: [['counter', 'let count = 0;\nexport function increment() { return ++count; }']] });
  const snapshot = await loaded.snapshot();
  assert.equal(await loaded.callHandler('writer', {}), 1);
  assert.equal(await loaded.callHandler('writer', {}), 2);
  await loaded.restore(snapshot);
  assert.equal(await loaded.callHandler('writer', {}), 1);
});

test('importing a module that does not exist fails getLoadedSandbox', async () => {
  const sandbox = await (await new SandboxBuilder().build()).loadRuntime();
  sandbox.addHandler('h', "import { x } from 'user:nope';\nfunction handler() { return x; }");
  const error = await rejectsWith(sandbox.getLoadedSandbox(), 'ERR_GUEST_ERROR');
  assert.match(error.message, /user:nope/);
});

test('the host namespace is reserved, and modules can be removed', async () => {
  const sandbox = await (await new SandboxBuilder().build()).loadRuntime();
  assert.throws(() => sandbox.addModule('m', 'export const x = 1;', 'host'), { code: 'ERR_INVALID_ARG' });
  sandbox.addModule('m', 'export const x = 1;');
  sandbox.removeModule('m');
  sandbox.addModule('n', 'export const x = 1;', 'ns');
  sandbox.clearModules();
  sandbox.addHandler('h', "import { x } from 'ns:n';\nfunction handler() { return x; }");
  await rejectsWith(sandbox.getLoadedSandbox(), 'ERR_GUEST_ERROR');
});
