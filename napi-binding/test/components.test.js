'use strict';
// Components as handlers, modules and host imports. `make test-node` builds
// them into components/dist/ first (`make components`).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { SandboxBuilder } = require('..');
const { rejectsWith, throwsWith } = require('./helpers');

const dist = path.join(__dirname, '..', '..', 'components', 'dist');
const componentPath = (name) => path.join(dist, `${name}.wasm`);

test('a handler component answers through callHandler', async () => {
  const proto = await new SandboxBuilder().build();
  const sandbox = await proto.loadRuntime();
  sandbox.addComponentHandler('echo', componentPath('echo_handler'));
  const loaded = await sandbox.getLoadedSandbox();
  assert.deepEqual(await loaded.callHandler('echo', { x: 1 }), { echo: { x: 1 } });
});

test('a JS handler and the echo handler share host:kv, given as bytes', async () => {
  const proto = await new SandboxBuilder().build();
  proto.hostComponent('kv', new Uint8Array(fs.readFileSync(componentPath('kv_store'))));
  const sandbox = await proto.loadRuntime();
  sandbox.addComponentHandler('echo', componentPath('echo_handler'));
  sandbox.addHandler('js', "import { get, set } from 'host:kv';\nfunction handler(e) { const before = get(e.key); set(e.key, e.value); return before; }");
  const loaded = await sandbox.getLoadedSandbox();
  assert.equal(await loaded.callHandler('js', { key: 'k', value: 'from js' }), null);
  const echo = await loaded.callHandler('echo', { key: 'k', value: 'from echo' });
  assert.equal(echo.previous, 'from js');
  assert.equal(await loaded.callHandler('js', { key: 'k', value: 'again' }), 'from echo');
});

test('JavaScript imports a component module and gets TypeErrors for bad arguments', async () => {
  const proto = await new SandboxBuilder().build();
  const sandbox = await proto.loadRuntime();
  sandbox.addComponentModule('textkit', componentPath('textkit'));
  sandbox.addHandler('h', `import { wordCount, stats } from 'user:textkit';
function handler(e) {
  let error;
  try { wordCount(7); } catch (caught) { error = caught.name + ': ' + caught.message; }
  return { count: wordCount(e.text), stats: stats(e.text), error };
}`);
  const loaded = await sandbox.getLoadedSandbox();
  const result = await loaded.callHandler('h', { text: 'to be or not' });
  assert.equal(result.count, 4);
  assert.deepEqual(result.stats, { words: 4, lines: 1, characters: 12, averageWordLength: 2.25 });
  assert.match(result.error, /^TypeError: user:textkit\.wordCount: parameter "text"/);
});

test('components must be a path or a Uint8Array, and valid', async () => {
  const proto = await new SandboxBuilder().build();
  throwsWith(() => proto.hostComponent('kv', 42), 'ERR_INVALID_ARG');
  throwsWith(() => proto.hostComponent('kv', '/no/such/component.wasm'), 'ERR_INVALID_ARG');
  const sandbox = await proto.loadRuntime();
  sandbox.addComponentHandler('junk', new Uint8Array([0, 97, 115, 109, 1]));
  await rejectsWith(sandbox.getLoadedSandbox(), 'ERR_INVALID_ARG');
  // The sandbox stays usable after the failed load.
  sandbox.clearHandlers();
  sandbox.addHandler('ok', 'function handler() { return 1; }');
  assert.equal(await (await sandbox.getLoadedSandbox()).callHandler('ok', {}), 1);
});
