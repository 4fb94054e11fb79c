'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { loadSandbox } = require('./helpers');

test('the event loop stays free while a handler runs for 200 ms', async () => {
  const loaded = await loadSandbox({
    busy: 'function handler() { const end = Date.now() + 200; while (Date.now() < end) {} return "done"; }',
  });
  let ticks = 0;
  const interval = setInterval(() => { ticks += 1; }, 10);
  const result = await loaded.callHandler('busy', {});
  clearInterval(interval);
  assert.equal(result, 'done');
  // A blocked loop would fire at most once, after the call.
  assert.ok(ticks >= 5, `the interval fired only ${ticks} times during the call`);
});

test('more calls than libuv has pool threads can wait for host callbacks at once', async () => {
  // Eight calls, each waiting in a host callback that settles only once all
  // eight have reached it: on a fixed pool of four threads the fifth would
  // never start, and the first four would wait for ever.
  const count = 8;
  let arrived = 0;
  let release;
  const all = new Promise((resolve) => { release = resolve; });
  const sandboxes = await Promise.all(Array.from({ length: count }, () => loadSandbox(
    { meet: 'import * as sync from "host:sync";\nfunction handler(e) { return sync.meet(e.i); }' },
    {
      host: (proto) => proto.hostModule('sync').register('meet', async (i) => {
        arrived += 1;
        if (arrived === count) release();
        await all;
        return i * 2;
      }),
    },
  )));
  const results = await Promise.all(sandboxes.map((s, i) => s.callHandler('meet', { i }, { wallClockTimeoutMs: 20000 })));
  assert.deepEqual(results, Array.from({ length: count }, (_, i) => i * 2));
});

test('a sandbox in a worker thread answers, and the worker ending stops no other thread\'s call', async () => {
  const { Worker } = require('node:worker_threads');
  const main = await loadSandbox({ slow: 'function handler() { const end = Date.now() + 300; while (Date.now() < end) {} return "main"; }' });
  const running = main.callHandler('slow', {});
  const worker = new Worker(`
    const { parentPort } = require('node:worker_threads');
    const { SandboxBuilder } = require(${JSON.stringify(require.resolve('..'))});
    (async () => {
      const sandbox = await (await new SandboxBuilder().build()).loadRuntime();
      sandbox.addHandler('echo', 'function handler(e) { return e; }');
      const loaded = await sandbox.getLoadedSandbox();
      parentPort.postMessage(await loaded.callHandler('echo', { from: 'worker' }));
    })();`, { eval: true });
  const [message] = await Promise.all([
    new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); }),
    new Promise((resolve) => worker.once('exit', resolve)),
  ]);
  assert.deepEqual(message, { from: 'worker' });
  assert.equal(await running, 'main');
});
