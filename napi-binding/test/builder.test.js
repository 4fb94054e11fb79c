'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { SandboxBuilder, ProtoJSSandbox } = require('..');
const { rejectsWith, throwsWith } = require('./helpers');

test('setters chain and build resolves to a ProtoJSSandbox', async () => {
  const builder = new SandboxBuilder()
    .setHeapSize(8 * 1024 * 1024)
    .setScratchSize(1024 * 1024)
    .setInputBufferSize(64 * 1024)
    .setOutputBufferSize(64 * 1024);
  assert.ok(builder instanceof SandboxBuilder);
  assert.ok((await builder.build()) instanceof ProtoJSSandbox);
});

test('sizes must be positive integers', () => {
  for (const setter of ['setHeapSize', 'setScratchSize', 'setStackSize', 'setInputBufferSize', 'setOutputBufferSize']) {
    for (const bad of [0, -1, 1.5, NaN, '1024', undefined]) {
      throwsWith(() => new SandboxBuilder()[setter](bad), 'ERR_INVALID_ARG');
    }
  }
});

test('an unknown backend is rejected', () => {
  throwsWith(() => new SandboxBuilder().setBackend('qemu'), 'ERR_INVALID_ARG');
});

test('a stack too large for any thread is rejected at build', async () => {
  await rejectsWith(new SandboxBuilder().setStackSize(64 * 1024 * 1024).build(), 'ERR_INVALID_ARG');
});

test('host module and function names are validated', async () => {
  const proto = await new SandboxBuilder().build();
  throwsWith(() => proto.hostModule(''), 'ERR_INVALID_ARG');
  throwsWith(() => proto.hostModule('m').register('', () => 1), 'ERR_INVALID_ARG');
  throwsWith(() => proto.hostModule('m').register('f', 'not a function'), 'ERR_INVALID_ARG');
  throwsWith(() => proto.register('m', 'f\nx', () => 1), 'ERR_INVALID_ARG');
});

test('every transition consumes its object: reuse is ERR_CONSUMED', async () => {
  const proto = await new SandboxBuilder().build();
  const sandbox = await proto.loadRuntime();
  await rejectsWith(proto.loadRuntime(), 'ERR_CONSUMED');
  throwsWith(() => proto.hostModule('late'), 'ERR_CONSUMED');
  sandbox.addHandler('h', 'function handler() { return 1; }');
  const loaded = await sandbox.getLoadedSandbox();
  await rejectsWith(sandbox.getLoadedSandbox(), 'ERR_CONSUMED');
  throwsWith(() => sandbox.addHandler('x', 'function handler() {}'), 'ERR_CONSUMED');
  const again = await loaded.unload();
  await rejectsWith(loaded.callHandler('h', {}), 'ERR_CONSUMED');
  await rejectsWith(loaded.unload(), 'ERR_CONSUMED');
  await rejectsWith(loaded.snapshot(), 'ERR_CONSUMED');
  again.addHandler('h', 'function handler() { return 2; }');
  assert.equal(await (await again.getLoadedSandbox()).callHandler('h', {}), 2);
});

test('build() consumes the builder: a second build rejects and later setters throw, ERR_CONSUMED', async () => {
  const builder = new SandboxBuilder().setHeapSize(8 * 1024 * 1024);
  assert.ok((await builder.build()) instanceof ProtoJSSandbox);
  await rejectsWith(builder.build(), 'ERR_CONSUMED');
  for (const [setter, value] of [['setHeapSize', 1024], ['setScratchSize', 1024], ['setStackSize', 1024],
    ['setInputBufferSize', 1024], ['setOutputBufferSize', 1024], ['setFuelMetering', true], ['setBackend', 'wasmtime']]) {
    throwsWith(() => builder[setter](value), 'ERR_CONSUMED');
  }
});

test('a builder whose build failed is consumed too', async () => {
  const builder = new SandboxBuilder().setStackSize(64 * 1024 * 1024);
  await rejectsWith(builder.build(), 'ERR_INVALID_ARG');
  await rejectsWith(builder.build(), 'ERR_CONSUMED');
});

test('errors carry their code natively and say what arrived', () => {
  let caught;
  try {
    new SandboxBuilder().setHeapSize('1024');
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof Error);
  assert.equal(caught.code, 'ERR_INVALID_ARG');
  assert.match(caught.message, /heap size must be a positive integer, not a string/);
});

test('the largest documented scratch size works on wasmtime, and a stack too deep for Node is refused at build', async () => {
  const proto = await new SandboxBuilder().setScratchSize(8 * 1024 * 1024).build();
  const sandbox = await proto.loadRuntime();
  sandbox.addHandler('deep', 'function f(n) { return n === 0 ? 0 : 1 + f(n - 1); }\nfunction handler(e) { return f(e.n); }');
  const loaded = await sandbox.getLoadedSandbox();
  assert.equal(await loaded.callHandler('deep', { n: 5000 }), 5000);
  const error = await rejectsWith(new SandboxBuilder().setStackSize(8 * 1024 * 1024).build(), 'ERR_INVALID_ARG');
  assert.match(error.message, /in Node\.js it can be at most 7864320/);
  assert.ok((await new SandboxBuilder().setStackSize(7 * 1024 * 1024).build()) instanceof ProtoJSSandbox);
});
