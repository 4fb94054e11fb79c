'use strict';
// NodeRuntime: programs with the API of secure-exec's NodeRuntime.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { NodeRuntime } = require('..');
const { rejectsWith, throwsWith, withRuntime } = require('./helpers');

test('exec resolves to stdout, stderr and the exit code', () => withRuntime(undefined, async (runtime) => {
  const result = await runtime.exec("console.log('hi', 1 + 1); console.error('oops'); process.exit(3)");
  assert.equal(result.stdout, 'hi 2\n');
  assert.equal(result.stderr, 'oops\n');
  assert.equal(result.exitCode, 3);
}));

test('a program failure is its exit code and stderr, not a rejection', () => withRuntime(undefined, async (runtime) => {
  const thrown = await runtime.exec("throw new TypeError('bad')");
  assert.equal(thrown.exitCode, 1);
  assert.match(thrown.stderr, /^TypeError: bad\n/);
  const syntax = await runtime.exec('let x = ;');
  assert.equal(syntax.exitCode, 1);
  assert.match(syntax.stderr, /^SyntaxError/);
  const missing = await runtime.exec("require('child_process')");
  assert.match(missing.stderr, /Polybox does not provide the Node\.js module 'node:child_process'/);
}));

test('env and cwd come from create(), merged with each run', () => withRuntime({ env: { A: '1', B: '2' }, cwd: '/srv' }, async (runtime) => {
  const result = await runtime.exec('console.log(process.env.A, process.env.B, process.cwd())', { env: { B: 'b' } });
  assert.equal(result.stdout, '1 b /srv\n');
  const elsewhere = await runtime.exec('console.log(process.cwd())', { cwd: '/tmp' });
  assert.equal(elsewhere.stdout, '/tmp\n');
  const defaults = await withRuntime(undefined, (fresh) => fresh.exec('console.log(process.cwd(), Object.keys(process.env).length)'));
  assert.equal(defaults.stdout, '/home/user 0\n');
}));

test('stdin takes a string or bytes', () => withRuntime(undefined, async (runtime) => {
  const program = "let s = ''; for await (const c of process.stdin) s += c; console.log(s.toUpperCase())";
  assert.equal((await runtime.exec(program, { stdin: 'abc' })).stdout, 'ABC\n');
  assert.equal((await runtime.exec(program, { stdin: new TextEncoder().encode('def') })).stdout, 'DEF\n');
}));

test('run resolves to the value of __return or the default export', () => withRuntime(undefined, async (runtime) => {
  assert.deepEqual((await runtime.run('__return({ a: [1, 2] })')).value, { a: [1, 2] });
  assert.deepEqual((await runtime.run('export default await Promise.resolve("x")')).value, 'x');
  const none = await runtime.run("console.log('no value')");
  assert.equal(none.value, undefined);
  assert.equal(none.stdout, 'no value\n');
}));

test('onStdout and onStderr hear Uint8Array chunks while the program runs', () => withRuntime(undefined, async (runtime) => {
  // The first chunk aborts the run: had it come only at the end, the
  // program would sleep for a minute.
  const controller = new AbortController();
  const heard = [];
  const run = runtime.exec("console.error('ready'); await new Promise((r) => setTimeout(r, 60000))", {
    signal: controller.signal,
    onStderr: (chunk) => {
      assert.ok(chunk instanceof Uint8Array);
      heard.push(new TextDecoder().decode(chunk));
      controller.abort();
    },
  });
  await assert.rejects(run, (error) => error.name === 'AbortError');
  assert.deepEqual(heard, ['ready\n']);
}));

test('every chunk is heard, in order, before the run settles', () => withRuntime(undefined, async (runtime) => {
  const heard = [];
  const result = await runtime.exec("for (let i = 0; i < 100; i++) { console.log(i); if (i % 10 === 0) console.error('e' + i); }", {
    onStdout: (chunk) => heard.push(['out', new TextDecoder().decode(chunk)]),
    onStderr: (chunk) => heard.push(['err', new TextDecoder().decode(chunk)]),
  });
  assert.equal(heard.filter(([fd]) => fd === 'out').map(([, text]) => text).join(''), result.stdout);
  assert.equal(heard.filter(([fd]) => fd === 'err').map(([, text]) => text).join(''), result.stderr);
  // Chunks of one stream written between two deliveries arrive joined.
  assert.deepEqual(heard.slice(0, 2), [['out', '0\n'], ['err', 'e0\n']]);
  assert.match(heard[2][1], /^1\n/);
}));

test('one-byte writes the event loop has not drained yet arrive joined', () => withRuntime(undefined, async (runtime) => {
  // Kept one entry (and one Buffer) each, such writes took a host to 4.3 GB.
  const controller = new AbortController();
  const sizes = [];
  const run = runtime.exec("for (;;) process.stdout.write('x')", {
    signal: controller.signal,
    onStdout: (chunk) => {
      sizes.push(chunk.length);
      controller.abort();
    },
  });
  // Hold the main thread, so that nothing is drained while the program
  // writes some ten thousand bytes.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
  await assert.rejects(run, (error) => error.name === 'AbortError');
  assert.ok(sizes[0] > 1000, `the first chunk held ${sizes[0]} bytes`);
}));

test('an aborted signal rejects with its reason and stops the program', () => withRuntime(undefined, async (runtime) => {
  const before = new AbortController();
  before.abort(new Error('not today'));
  await assert.rejects(runtime.exec('console.log(1)', { signal: before.signal }), /not today/);
  const during = new AbortController();
  const run = runtime.exec('for (;;) {}', { signal: during.signal });
  setTimeout(() => during.abort(), 20);
  await assert.rejects(run, (error) => error.name === 'AbortError');
  assert.equal((await runtime.exec("console.log('after')")).stdout, 'after\n');
}));

test('a timeout ends the run with exit code 124 and the output so far', () => withRuntime(undefined, async (runtime) => {
  const result = await runtime.exec("console.log('start'); setTimeout(() => {}, 60000)", { timeout: 50 });
  assert.equal(result.exitCode, 124);
  assert.equal(result.stdout, 'start\n');
  assert.equal(result.stats.terminatedBy, 'wall-clock');
  const cpu = await withRuntime({ cpuTimeLimitMs: 20 }, (limited) => limited.exec('for (;;) {}'));
  assert.equal(cpu.exitCode, 124);
  assert.equal(cpu.stats.terminatedBy, 'cpu-time');
}));

test('runs on one runtime overlap, each a fresh process', () => withRuntime(undefined, async (runtime) => {
  const [slow, fast] = await Promise.all([
    runtime.exec('globalThis.mine = 1; await new Promise((r) => setTimeout(r, 50)); console.log(typeof mine)'),
    runtime.exec('console.log(typeof mine)'),
  ]);
  assert.equal(slow.stdout, 'number\n');
  assert.equal(fast.stdout, 'undefined\n');
  assert.equal((await runtime.exec('console.log(typeof mine)')).stdout, 'undefined\n');
}));

test('the event loop stays free while a program runs', () => withRuntime(undefined, async (runtime) => {
  let ticks = 0;
  const interval = setInterval(() => { ticks += 1; }, 10);
  const result = await runtime.exec('const end = Date.now() + 200; while (Date.now() < end) {} console.log("done")');
  clearInterval(interval);
  assert.equal(result.stdout, 'done\n');
  assert.ok(ticks >= 5, `the interval fired only ${ticks} times during the run`);
}));

test('capabilities Polybox does not grant yet are refused, never ignored', async () => {
  for (const option of ['commandsDir', 'loopbackExemptPorts']) {
    await rejectsWith(NodeRuntime.create({ [option]: {} }), 'ERR_NOT_SUPPORTED');
  }
  await withRuntime(undefined, async (runtime) => {
    throwsWith(() => runtime.findListener({ port: 3000, path: '/tmp/socket' }), 'ERR_NOT_SUPPORTED');
  });
});

test('bad options are ERR_INVALID_ARG', async () => {
  await rejectsWith(NodeRuntime.create({ unknown: 1 }), 'ERR_INVALID_ARG');
  await rejectsWith(NodeRuntime.create({ env: { A: 1 } }), 'ERR_INVALID_ARG');
  await rejectsWith(NodeRuntime.create({ cwd: 'relative' }), 'ERR_INVALID_ARG');
  await rejectsWith(NodeRuntime.create({ memoryLimit: -1 }), 'ERR_INVALID_ARG');
  await rejectsWith(NodeRuntime.create({ backend: 'qemu' }), 'ERR_INVALID_ARG');
  throwsWith(() => new NodeRuntime(), 'ERR_INVALID_ARG');
  await withRuntime(undefined, async (runtime) => {
    await rejectsWith(runtime.exec(42), 'ERR_INVALID_ARG');
    await rejectsWith(runtime.exec('1', { timeout: -5 }), 'ERR_INVALID_ARG');
    await rejectsWith(runtime.exec('1', { stdin: 7 }), 'ERR_INVALID_ARG');
    await rejectsWith(runtime.exec('1', { env: { A: null } }), 'ERR_INVALID_ARG');
    await rejectsWith(runtime.exec('1', { env: { 'A=B': 'x' } }), 'ERR_INVALID_ARG');
    await rejectsWith(runtime.exec('1', { onStdout: 'no' }), 'ERR_INVALID_ARG');
    await rejectsWith(runtime.exec('1', { signal: {} }), 'ERR_INVALID_ARG');
    await rejectsWith(runtime.exec('1', { nope: true }), 'ERR_INVALID_ARG');
    await rejectsWith(runtime.exec('1', { stdin: 'x'.repeat(2 * 1024 * 1024) }), 'ERR_INVALID_ARG');
    assert.equal((await runtime.exec("console.log('still fine')")).stdout, 'still fine\n');
  });
});

test('dispose stops running programs and refuses later runs', async () => {
  const runtime = await NodeRuntime.create();
  let disposed;
  const running = runtime.exec("console.error('running'); for (;;) {}", {
    onStderr: () => { disposed ??= runtime.dispose(); },
  });
  const result = await running;
  await disposed;
  assert.equal(result.exitCode, 137);
  await rejectsWith(runtime.exec('1'), 'ERR_CONSUMED');
});

test("Node's core modules load by either name, with require and import", () => withRuntime(undefined, async (runtime) => {
  const commonjs = await runtime.exec(`
    const path = require('path'); const { EventEmitter } = require('node:events'); const util = require('util');
    const e = new EventEmitter(); e.on('x', (v) => console.log(util.format('%s:%d', path.basename('/a/b.js'), v))); e.emit('x', 7);
    console.log(Buffer.from('hi').toString('base64'), new URL('/p?q=1', 'https://h.test').searchParams.get('q'), require('os').hostname());`);
  assert.equal(commonjs.stdout, 'b.js:7\naGk= 1 localhost\n');
  const module = await runtime.exec(`
    import assert from 'node:assert/strict'; import { createHash } from 'node:crypto'; import { setTimeout as sleep } from 'timers/promises';
    assert.deepEqual({ a: 1 }, { a: 1 }); await sleep(1); console.log(createHash('sha256').update('abc').digest('hex').slice(0, 8));`);
  assert.equal(module.stdout, 'ba7816bf\n');
}));
