'use strict';
// The Hyperlight backend through the addon. Whether it can run depends on the
// machine: each test that needs the other answer reports itself skipped,
// with the reason. (`make test-hyperlight` runs the Rust parity suite inside
// a VM where it does run.)
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { SandboxBuilder } = require('..');
const { loadSandbox } = require('./helpers');

/** Starts a Hyperlight sandbox: `{ sandbox }`, or `{ error }` when it cannot. */
async function startHyperlight() {
  try {
    const proto = await new SandboxBuilder().setBackend('hyperlight').build();
    return { sandbox: await proto.loadRuntime() };
  } catch (error) {
    return { error };
  }
}

const started = startHyperlight();

test('hyperlight runs a handler inside a micro-VM', async (t) => {
  const { sandbox, error } = await started;
  if (error) {
    assert.equal(error.code, 'ERR_HYPERVISOR_UNAVAILABLE', String(error));
    t.skip(`hyperlight cannot run here: ${error.message}`);
    return;
  }
  sandbox.addHandler('double', 'function handler(e) { return { n: e.n * 2 }; }');
  const loaded = await sandbox.getLoadedSandbox();
  assert.deepEqual(await loaded.callHandler('double', { n: 21 }), { n: 42 });
});

test('an unusable hypervisor is ERR_HYPERVISOR_UNAVAILABLE with the reason, and nothing else breaks', async (t) => {
  const { error } = await started;
  if (!error) {
    t.skip('the hypervisor here is usable');
    return;
  }
  assert.equal(error.code, 'ERR_HYPERVISOR_UNAVAILABLE');
  assert.match(error.message, /hypervisor|VM|kvm/i);
  // Asking again gives the same answer, and the default backend is unaffected.
  const again = await startHyperlight();
  assert.equal(again.error?.code, 'ERR_HYPERVISOR_UNAVAILABLE');
  const loaded = await loadSandbox({ echo: 'function handler(e) { return e; }' });
  assert.deepEqual(await loaded.callHandler('echo', { ok: true }), { ok: true });
});

test('scratch size is the stack on wasmtime and is validated for hyperlight', async () => {
  // 2 MiB of stack holds recursion that 64 KiB does not.
  const deep = 'function handler(e) { const f = (n) => n && 1 + f(n - 1); return f(e.n); }';
  const roomy = await loadSandbox({ deep }, { builder: new SandboxBuilder().setScratchSize(2 * 1024 * 1024) });
  assert.equal(await roomy.callHandler('deep', { n: 1500 }), 1500);
  const tight = await loadSandbox({ deep }, { builder: new SandboxBuilder().setScratchSize(64 * 1024) });
  await assert.rejects(tight.callHandler('deep', { n: 1500 }), (e) => e.code === 'ERR_STACK_OVERFLOW' || e.code === 'ERR_GUEST_ERROR');
  // A scratch region smaller than Hyperlight's minimum is refused at build.
  await assert.rejects(
    new SandboxBuilder().setBackend('hyperlight').setScratchSize(4096).build(),
    (e) => e.code === 'ERR_INVALID_ARG',
  );
});
