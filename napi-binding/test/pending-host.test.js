'use strict';
// Limits hold whatever a host callback does: a callback that never settles
// cannot hold a call past its wall-clock or CPU limit, kill() or signal, nor
// keep the process from exiting.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { SandboxBuilder, hostCallSignal } = require('..');
const { loadSandbox, rejectsWith } = require('./helpers');

const WAITS = `
  import * as host from "host:slow";
  function handler() { return host.never(); }
`;

/** A sandbox whose handler `waits` calls a host function that never settles; `seen` collects each invocation's signal. */
async function waiting() {
  const seen = [];
  const loaded = await loadSandbox({ waits: WAITS }, {
    host: (proto) => proto.hostModule('slow').register('never', () => {
      seen.push(hostCallSignal());
      return new Promise(() => {});
    }),
  });
  return { loaded, seen };
}

/** Asserts that `promise` ends with ERR_CANCELLED, stopped by `by`, and that the callback's signal was aborted. */
async function stoppedBy(loaded, seen, promise, by) {
  await rejectsWith(promise, 'ERR_CANCELLED');
  assert.equal(loaded.lastCallStats.terminatedBy, by);
  assert.equal(loaded.poisoned, true);
  assert.equal(seen.length, 1);
  const signal = seen[0];
  assert.ok(signal instanceof AbortSignal);
  if (!signal.aborted) await once(signal, 'abort');
}

test('a wall-clock limit ends a call whose host callback never settles', { timeout: 20000 }, async () => {
  const { loaded, seen } = await waiting();
  await stoppedBy(loaded, seen, loaded.callHandler('waits', {}, { wallClockTimeoutMs: 100 }), 'wall-clock');
});

test('a CPU-time limit ends it too: time in host functions counts as the call\'s', { timeout: 20000 }, async () => {
  const { loaded, seen } = await waiting();
  await stoppedBy(loaded, seen, loaded.callHandler('waits', {}, { cpuTimeoutMs: 100 }), 'cpu-time');
});

test('kill() ends a call whose host callback never settles', { timeout: 20000 }, async () => {
  const { loaded, seen } = await waiting();
  const call = loaded.callHandler('waits', {});
  while (seen.length === 0) await new Promise((resolve) => setImmediate(resolve));
  loaded.interruptHandle.kill();
  await stoppedBy(loaded, seen, call, 'killed');
});

test('an AbortSignal ends a call whose host callback never settles', { timeout: 20000 }, async () => {
  const { loaded, seen } = await waiting();
  const controller = new AbortController();
  const call = loaded.callHandler('waits', {}, { signal: controller.signal });
  while (seen.length === 0) await new Promise((resolve) => setImmediate(resolve));
  controller.abort();
  await stoppedBy(loaded, seen, call, 'signal');
});

test('a late reply is dropped and the sandbox recovers by restore', { timeout: 20000 }, async () => {
  let settle;
  const loaded = await loadSandbox({
    waits: WAITS,
    fine: 'function handler(e) { return e.n * 2; }',
  }, {
    host: (proto) => proto.hostModule('slow').register('never', () => new Promise((resolve) => { settle = resolve; })),
  });
  const snapshot = await loaded.snapshot();
  await rejectsWith(loaded.callHandler('waits', {}, { wallClockTimeoutMs: 50 }), 'ERR_CANCELLED');
  settle('too late');
  await rejectsWith(loaded.callHandler('fine', { n: 1 }), 'ERR_POISONED');
  await loaded.restore(snapshot);
  assert.equal(await loaded.callHandler('fine', { n: 21 }), 42);
});

test('a call on the same sandbox from inside its host callback is refused at once with ERR_BUSY', { timeout: 20000 }, async () => {
  let loaded;
  loaded = await loadSandbox({
    outer: 'import * as host from "host:m";\nfunction handler() { return host.reenter(); }',
    inner: 'function handler() { return "inner"; }',
  }, {
    host: (proto) => proto.hostModule('m').register('reenter', async () => {
      const codes = [];
      for (const attempt of [() => loaded.callHandler('inner', {}), () => loaded.snapshot()]) {
        try {
          await attempt();
          codes.push('none');
        } catch (error) {
          codes.push(error.code);
        }
      }
      return codes;
    }),
  });
  assert.deepEqual(await loaded.callHandler('outer', {}), ['ERR_BUSY', 'ERR_BUSY']);
  assert.equal(await loaded.callHandler('inner', {}), 'inner');
});

test('loading can be bounded: a handler that spins at its top level is stopped', { timeout: 20000 }, async () => {
  const proto = await new SandboxBuilder().build();
  const sandbox = await proto.loadRuntime();
  sandbox.addHandler('h', 'for (;;) {}\nfunction handler() { return 1; }');
  await rejectsWith(sandbox.getLoadedSandbox({ wallClockTimeoutMs: 100 }), 'ERR_CANCELLED');
  await rejectsWith(sandbox.getLoadedSandbox({ cpuTimeoutMs: 100 }), 'ERR_CANCELLED');
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  await rejectsWith(sandbox.getLoadedSandbox({ signal: controller.signal }), 'ERR_CANCELLED');
  await rejectsWith(sandbox.getLoadedSandbox({ timeout: 5 }), 'ERR_INVALID_ARG');
  sandbox.addHandler('h', 'function handler() { return 1; }');
  const loaded = await sandbox.getLoadedSandbox({ wallClockTimeoutMs: 1000 });
  assert.equal(await loaded.callHandler('h', {}), 1);
});

test('unknown callHandler options are refused, naming the option and the valid ones', async () => {
  const loaded = await loadSandbox({ h: 'function handler() { return 1; }' });
  const error = await rejectsWith(loaded.callHandler('h', {}, { timeout: 5 }), 'ERR_INVALID_ARG');
  assert.match(error.message, /unknown option "timeout"; the options are wallClockTimeoutMs, cpuTimeoutMs, gc, fuel, signal/);
});

/** Runs `script` in a child Node.js; returns its exit status (null if it had to be killed). */
function child(script) {
  const result = spawnSync(process.execPath, ['-e', script], {
    cwd: path.join(__dirname, '..'),
    timeout: 30000,
    encoding: 'utf8',
  });
  return { status: result.status, stderr: result.stderr };
}

test('process.exit() works while a runaway call is in flight, with no limits', { timeout: 40000 }, () => {
  const { status, stderr } = child(`
    const { SandboxBuilder } = require('.');
    (async () => {
      const sandbox = await (await new SandboxBuilder().build()).loadRuntime();
      sandbox.addHandler('spin', 'function handler() { while (true) {} }');
      const loaded = await sandbox.getLoadedSandbox();
      loaded.callHandler('spin', {}).catch(() => {});
      setTimeout(() => process.exit(7), 100);
    })();
  `);
  assert.equal(status, 7, stderr);
});

test('process.exit() works while a call waits for a host callback that never settles', { timeout: 40000 }, () => {
  const { status, stderr } = child(`
    const { SandboxBuilder } = require('.');
    (async () => {
      const proto = await new SandboxBuilder().build();
      proto.hostModule('slow').register('never', () => new Promise(() => {}));
      const sandbox = await proto.loadRuntime();
      sandbox.addHandler('waits', 'import * as host from "host:slow";\\nfunction handler() { return host.never(); }');
      const loaded = await sandbox.getLoadedSandbox();
      loaded.callHandler('waits', {}).catch(() => {});
      setTimeout(() => process.exit(8), 100);
    })();
  `);
  assert.equal(status, 8, stderr);
});
