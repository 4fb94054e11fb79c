'use strict';
// isola's Node.js API, as its documentation shows it: the lifecycle
// (buildTemplate → create → start → loadScript → run → close), named
// arguments with Arg and kwargs, runStream's events, hostcalls, async
// dispose, errors; and the bad input isola users can give it.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Arg, SandboxContext, StreamArg, buildTemplate } = require('..');
const { rejectsWith } = require('./helpers');

const collect = async (stream) => {
  const events = [];
  for await (const event of stream) events.push(event);
  return events;
};

test('lifecycle: build a template, create, start, load a script, run, close', async () => {
  const template = await buildTemplate('js', { cacheDir: null });
  const sandbox = await template.create();
  try {
    await sandbox.start();
    await sandbox.loadScript("function hello(name) { return `hello ${name}`; }");
    assert.equal(await sandbox.run('hello', ['world']), 'hello world');
    // Scripts build on each other, and top-level await works.
    await sandbox.loadScript('const base = await Promise.resolve(40);');
    await sandbox.loadScript('function answer() { return base + 2; }');
    assert.equal(await sandbox.run('answer'), 42);
    // A single object is a positional argument inside the array.
    await sandbox.loadScript('function echo(value) { return value; }');
    assert.deepEqual(await sandbox.run('echo', [{ hello: 'world' }]), { hello: 'world' });
  } finally {
    sandbox.close();
  }
  await rejectsWith(sandbox.run('hello', ['again']), 'ERR_CONSUMED');
});

test('named arguments: Arg and kwargs', async () => {
  const template = await buildTemplate('js', { cacheDir: null });
  const sandbox = await template.create();
  await sandbox.start();
  await sandbox.loadScript("function greet(name, greeting = 'Hello') { return `${greeting}, ${name}!`; }");
  assert.equal(await sandbox.run('greet', [new Arg('World', 'name'), new Arg('Hi', 'greeting')]), 'Hi, World!');
  assert.equal(await sandbox.run('greet', ['Ada'], { greeting: 'Good day' }), 'Good day, Ada!');
  assert.equal(await sandbox.run('greet', [new Arg('Bob')]), 'Hello, Bob!');
  // kwargs a function cannot take.
  const unexpected = await rejectsWith(sandbox.run('greet', ['x'], { tone: 'warm' }), 'ERR_GUEST_ERROR');
  assert.match(unexpected.message, /unexpected keyword argument 'tone'/);
  const twice = await rejectsWith(sandbox.run('greet', ['x', new Arg('y', 'name')]), 'ERR_GUEST_ERROR');
  assert.match(twice.message, /multiple values for argument 'name'/);
  sandbox.close();
});

test('runStream: yielded results, output and the end', async () => {
  const template = await buildTemplate('js', { cacheDir: null });
  const sandbox = await template.create();
  await sandbox.start();
  await sandbox.loadScript(`
    async function* streamValues() { yield 1; yield 2; yield 3; }
    function* compute() { console.log('working'); yield { step: 1 }; console.error('careful'); return 'total'; }
    function plain() { return [1, 2]; }`);
  assert.deepEqual(await collect(sandbox.runStream('streamValues')), [
    { type: 'result', data: 1 },
    { type: 'result', data: 2 },
    { type: 'result', data: 3 },
    { type: 'end', data: null },
  ]);
  assert.deepEqual(await collect(sandbox.runStream('compute')), [
    { type: 'stdout', data: 'working\n' },
    { type: 'result', data: { step: 1 } },
    { type: 'stderr', data: 'careful\n' },
    { type: 'end', data: 'total' },
  ]);
  assert.deepEqual(await collect(sandbox.runStream('plain')), [{ type: 'end', data: [1, 2] }]);
  // run() resolves to the final value.
  assert.equal(await sandbox.run('compute'), 'total');
  sandbox.close();
});

test('hostcalls answer the guest; a missing one rejects in the guest', async () => {
  const template = await buildTemplate('js', { cacheDir: null });
  const sandbox = await template.create({
    hostcalls: {
      lookup_user: async (payload) => {
        const { user_id } = payload;
        return { user_id, name: `user-${user_id}` };
      },
    },
  });
  await sandbox.start();
  await sandbox.loadScript(`
    async function lookupUser(userId) { return await hostcall('lookup_user', { user_id: userId }); }
    async function unknown() { try { await hostcall('nope', {}); } catch (e) { return e.message; } }`);
  assert.deepEqual(await sandbox.run('lookupUser', [7]), { user_id: 7, name: 'user-7' });
  assert.match(await sandbox.run('unknown'), /no hostcall is registered as "nope"/);
  sandbox.close();

  // A sandbox given no hostcalls refuses them.
  const bare = await template.create();
  await bare.start();
  await bare.loadScript("async function call() { return await hostcall('lookup_user', {}); }");
  const refused = await rejectsWith(bare.run('call'), 'ERR_GUEST_ERROR');
  assert.equal(refused.message.split('\n')[0], 'Error: no hostcall is registered as "lookup_user"');
  bare.close();
});

test('http: a handler answers the guest\'s fetch', async () => {
  const template = await buildTemplate('js', { cacheDir: null });
  const seen = [];
  const sandbox = await template.create({
    http: async (request) => {
      seen.push(`${request.method} ${request.url}`);
      return { status: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from('hello world') };
    },
  });
  await sandbox.start();
  await sandbox.loadScript("async function main(url) { const response = await fetch(url); return [response.status, await response.text()]; }");
  assert.deepEqual(await sandbox.run('main', ['https://example.test/hello']), [200, 'hello world']);
  assert.deepEqual(seen, ['GET https://example.test/hello']);
  sandbox.close();
});

test('StreamArg feeds the guest; a producer that throws fails the run', async () => {
  const template = await buildTemplate('js', { cacheDir: null });
  const sandbox = await template.create();
  await sandbox.start();
  await sandbox.loadScript('async function total(items) { let sum = 0; for await (const i of items) sum += i; return sum; }');
  assert.equal(await sandbox.run('total', [new StreamArg([1, 2, 3])]), 6);
  async function* numbers() {
    yield 10;
    await new Promise((resolve) => setTimeout(resolve, 1));
    yield 20;
  }
  assert.equal(await sandbox.run('total', [], { items: new StreamArg(numbers()) }), 30);
  function* failing() {
    yield 1;
    throw new Error('the producer broke');
  }
  const error = await rejectsWith(sandbox.run('total', [new StreamArg(failing())]), 'ERR_GUEST_ERROR');
  assert.match(error.message, /the producer broke/);
  sandbox.close();
});

test('async dispose, prelude, env, and the template cache', async () => {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'polybox-isola-'));
  const options = { cacheDir, prelude: 'const PREFIX = process.env.PREFIX ?? "none";', env: { PREFIX: 'template' } };
  await buildTemplate('js', options);
  assert.equal(fs.readdirSync(cacheDir).filter((f) => f.endsWith('.pbx')).length, 1);
  const template = await buildTemplate('js', options);
  // What `await using sandbox = ...` does (Node.js 24; this suite runs on
  // older ones too): dispose when the scope ends.
  const sandbox = await template.create({ env: { EXTRA: 'sandbox' } });
  try {
    await sandbox.start();
    await sandbox.loadScript('function read() { return [PREFIX, process.env.EXTRA]; }');
    assert.deepEqual(await sandbox.run('read'), ['template', 'sandbox']);
  } finally {
    await sandbox[Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose')]();
  }
  await rejectsWith(sandbox.run('read'), 'ERR_CONSUMED');
  const context = new SandboxContext();
  await context.buildTemplate('js', { cacheDir: null });
  context.close();
  await rejectsWith(context.buildTemplate('js', { cacheDir: null }), 'ERR_CONSUMED');
  fs.rmSync(cacheDir, { recursive: true });
});

test('errors: what fails rejects, runStream reports it as an error event', async () => {
  await rejectsWith(buildTemplate('ruby'), 'ERR_INVALID_ARG');
  await rejectsWith(buildTemplate('js', { prelude: 'throw new Error("prelude")', cacheDir: null }), 'ERR_GUEST_ERROR');
  const template = await buildTemplate('js', { cacheDir: null, runtimePath: '/unused', version: 'unused' });
  const sandbox = await template.create({ timeoutMs: 200 });
  // run before start
  await rejectsWith(sandbox.run('anything'), 'ERR_INVALID_ARG');
  await sandbox.start();
  await rejectsWith(sandbox.loadScript('function ('), 'ERR_GUEST_ERROR');
  await sandbox.loadScript(`
    function boom() { throw new TypeError('bad input'); }
    const notAFunction = 3;
    function spin() { for (;;) {} }
    function one() { return 1; }`);
  const thrown = await rejectsWith(sandbox.run('boom'), 'ERR_GUEST_ERROR');
  assert.match(thrown.message, /TypeError: bad input/);
  assert.match((await rejectsWith(sandbox.run('notAFunction'), 'ERR_GUEST_ERROR')).message, /notAFunction is not a function/);
  assert.match((await rejectsWith(sandbox.run('missing'), 'ERR_GUEST_ERROR')).message, /missing is not defined/);
  await rejectsWith(sandbox.run('one', 'not an array'), 'ERR_INVALID_ARG');
  await rejectsWith(sandbox.run('one', [10n]), 'ERR_INVALID_ARG');
  const events = await collect(sandbox.runStream('boom'));
  assert.equal(events.length, 1);
  assert.equal(events[0].type, 'error');
  assert.match(events[0].data, /TypeError: bad input/);
  // A runaway run is stopped; its scripts are gone until start() again.
  await rejectsWith(sandbox.run('spin'), 'ERR_CANCELLED');
  await rejectsWith(sandbox.run('one'), 'ERR_POISONED');
  await sandbox.start();
  await sandbox.loadScript('function one() { return 1; }');
  assert.equal(await sandbox.run('one'), 1);
  sandbox.close();
});
