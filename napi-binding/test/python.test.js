'use strict';
// The Python guest from Node.js: isola's Python examples through
// buildTemplate('python') (the lifecycle, hostcalls, runStream's events,
// keyword arguments, streamed arguments, errors), handlers with
// SandboxBuilder.setLanguage('python'), and programs with
// NodeRuntime.create({ language: 'python' }).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Arg, NodeRuntime, SandboxBuilder, StreamArg, buildTemplate } = require('..');
const { rejectsWith } = require('./helpers');

const collect = async (stream) => {
  const events = [];
  for await (const event of stream) events.push(event);
  return events;
};

async function started(options) {
  const template = await buildTemplate('python', { cacheDir: null });
  const sandbox = await template.create(options);
  await sandbox.start();
  return sandbox;
}

test('isola lifecycle in Python: load scripts, run functions, close', async () => {
  const sandbox = await started();
  try {
    await sandbox.loadScript('def add(a, b):\n    return a + b\n');
    assert.equal(await sandbox.run('add', [1, 2]), 3);
    // Scripts share one namespace, and top-level await works.
    await sandbox.loadScript('import asyncio\nbase = await asyncio.sleep(0, result=40)\n');
    await sandbox.loadScript('def answer():\n    return base + 2\n');
    assert.equal(await sandbox.run('answer'), 42);
    await sandbox.loadScript('def echo(value):\n    return value\n');
    assert.deepEqual(await sandbox.run('echo', [{ hello: ['world', 1.5, null] }]), { hello: ['world', 1.5, null] });
  } finally {
    sandbox.close();
  }
  await rejectsWith(sandbox.run('add', [1, 2]), 'ERR_CONSUMED');
});

test('hostcalls: await hostcall(name, payload) from sandbox.asyncio', async () => {
  const seen = [];
  const sandbox = await started({
    hostcalls: {
      lookup_user: async (payload) => {
        seen.push(payload);
        return { id: payload.user_id, name: 'Ada' };
      },
    },
  });
  await sandbox.loadScript([
    'from sandbox.asyncio import hostcall, run',
    'async def lookup_user(user_id):',
    '    return await hostcall("lookup_user", {"user_id": user_id})',
    'def main(user_id):',
    '    return run(lookup_user(user_id))',
    'async def unknown():',
    '    return await hostcall("nope", None)',
  ].join('\n'));
  assert.deepEqual(await sandbox.run('lookup_user', [7]), { id: 7, name: 'Ada' });
  assert.deepEqual(await sandbox.run('main', [8]), { id: 8, name: 'Ada' });
  assert.deepEqual(seen, [{ user_id: 7 }, { user_id: 8 }]);
  const error = await rejectsWith(sandbox.run('unknown'), 'ERR_GUEST_ERROR');
  assert.match(error.message, /HostError: .*nope/);
  sandbox.close();
});

test('sandbox.http: isola\'s fetch, synchronous and asynchronous, answered by the http handler', async () => {
  const seen = [];
  const sandbox = await started({
    http: async (request) => {
      seen.push(`${request.method} ${request.url}`);
      return { status: 200, headers: { 'content-type': 'text/event-stream' }, body: Buffer.from('event: greet\ndata: hello\n\ndata: world\n\n') };
    },
  });
  await sandbox.loadScript([
    'from sandbox.http import fetch',
    'def main(url):',
    '    with fetch("GET", url, params={"q": "hello"}) as resp:',
    '        return {"status": resp.status, "type": resp.headers["content-type"], "body": resp.text()}',
    'async def events(url):',
    '    async with fetch("POST", url, body={"a": 1}) as resp:',
    '        return [[e.event, e.data] async for e in resp.aiter_sse()]',
  ].join('\n'));
  assert.deepEqual(await sandbox.run('main', ['https://example.test/hello']), {
    status: 200,
    type: 'text/event-stream',
    body: 'event: greet\ndata: hello\n\ndata: world\n\n',
  });
  assert.deepEqual(await sandbox.run('events', ['https://example.test/sse']), [['greet', 'hello'], [null, 'world']]);
  assert.deepEqual(seen, ['GET https://example.test/hello?q=hello', 'POST https://example.test/sse']);
  // Without `http`, nothing is sent.
  const bare = await started();
  await bare.loadScript('from sandbox.http import fetch\ndef main():\n    with fetch("GET", "https://example.test/") as resp:\n        return resp.status\n');
  const error = await rejectsWith(bare.run('main'), 'ERR_GUEST_ERROR');
  assert.match(error.message, /PermissionError/);
  sandbox.close();
  bare.close();
});

test('runStream: stdout, stderr, a result per yielded value, then end', async () => {
  const sandbox = await started();
  await sandbox.loadScript([
    'import sys',
    'def stream_values(n):',
    '    for i in range(n):',
    '        print("item", i)',
    '        yield i',
    '    print("done", file=sys.stderr)',
    'async def agen():',
    '    yield {"a": 1}',
    '    yield [2]',
    'def broken():',
    '    yield 1',
    '    raise ValueError("midway")',
  ].join('\n'));
  assert.deepEqual(await collect(sandbox.runStream('stream_values', [2])), [
    { type: 'stdout', data: 'item 0\n' },
    { type: 'result', data: 0 },
    { type: 'stdout', data: 'item 1\n' },
    { type: 'result', data: 1 },
    { type: 'stderr', data: 'done\n' },
    { type: 'end', data: null },
  ]);
  assert.deepEqual(await collect(sandbox.runStream('agen')), [
    { type: 'result', data: { a: 1 } },
    { type: 'result', data: [2] },
    { type: 'end', data: null },
  ]);
  const events = await collect(sandbox.runStream('broken'));
  assert.deepEqual(events[0], { type: 'result', data: 1 });
  assert.equal(events[1].type, 'error');
  assert.match(events[1].data, /ValueError: midway/);
  sandbox.close();
});

test('keyword arguments: kwargs and Arg bind to Python parameters', async () => {
  const sandbox = await started();
  await sandbox.loadScript('def greet(name, greeting="Hello", *, punctuation="!"):\n    return f"{greeting}, {name}{punctuation}"\n');
  assert.equal(await sandbox.run('greet', ['World'], { punctuation: '?' }), 'Hello, World?');
  assert.equal(await sandbox.run('greet', [new Arg('Ada', 'name'), new Arg('Hi', 'greeting')]), 'Hi, Ada!');
  const error = await rejectsWith(sandbox.run('greet', [], { nobody: 1 }), 'ERR_GUEST_ERROR');
  assert.match(error.message, /TypeError: .*unexpected keyword argument 'nobody'/);
  sandbox.close();
});

test('StreamArg: an async iterable feeds `async for`', async () => {
  const sandbox = await started();
  await sandbox.loadScript('async def total(items):\n    s = 0\n    async for i in items:\n        s += i\n    return s\n');
  assert.equal(await sandbox.run('total', [new StreamArg([1, 2, 3])]), 6);
  sandbox.close();
});

test('errors: exceptions, a missing function, unserialisable results, limits', async () => {
  const sandbox = await started({ timeoutMs: 300 });
  await sandbox.loadScript('def boom():\n    raise KeyError("k")\ndef gives_set():\n    return {1, 2}\ndef spin():\n    while True:\n        pass\n');
  let error = await rejectsWith(sandbox.run('boom'), 'ERR_GUEST_ERROR');
  assert.match(error.message, /KeyError: 'k'/);
  error = await rejectsWith(sandbox.run('missing'), 'ERR_GUEST_ERROR');
  assert.match(error.message, /NameError: name 'missing' is not defined/);
  error = await rejectsWith(sandbox.run('gives_set'), 'ERR_GUEST_ERROR');
  assert.match(error.message, /JSON/);
  await rejectsWith(sandbox.loadScript('def broken(:\n'), 'ERR_GUEST_ERROR');
  await rejectsWith(sandbox.run('spin'), 'ERR_CANCELLED');
  // A stopped run loses the scripts; start() begins again from the template.
  await sandbox.start();
  await sandbox.loadScript('def ok():\n    return "ok"\n');
  assert.equal(await sandbox.run('ok'), 'ok');
  sandbox.close();
});

test('handlers in Python: SandboxBuilder.setLanguage', async () => {
  const proto = await new SandboxBuilder().setLanguage('python').build();
  proto.hostModule('math').register('add', (a, b) => a + b);
  const sandbox = await proto.loadRuntime();
  await sandbox.addHandler('h', 'from host import math\nasync def handler(event):\n    return {"sum": math.add(event["a"], event["b"])}\n');
  const loaded = await sandbox.getLoadedSandbox();
  assert.deepEqual(await loaded.callHandler('h', { a: 1, b: 2 }), { sum: 3 });
  assert.throws(() => new SandboxBuilder().setLanguage('cobol'), (e) => e.code === 'ERR_INVALID_ARG');
  await rejectsWith(new SandboxBuilder().setLanguage('python').setBackend('hyperlight').build(), 'ERR_INVALID_ARG');
});

test('programs in Python: NodeRuntime.create({ language: "python" })', async () => {
  const runtime = await NodeRuntime.create({ language: 'python' });
  const result = await runtime.exec('import sys, os\nprint("hi", sys.argv[1:], os.environ["X"])\nprint(sys.stdin.read().upper(), end="")\nsys.exit(3)\n', {
    env: { X: 'y' },
    args: ['a'],
    stdin: 'quiet',
  });
  assert.equal(result.stdout, "hi ['a'] y\nQUIET");
  assert.equal(result.exitCode, 3);
  const failed = await runtime.exec('raise RuntimeError("no")');
  assert.equal(failed.exitCode, 1);
  assert.match(failed.stderr, /RuntimeError: no/);
  await runtime.dispose();
});

test('Python handlers take and give bytes for Uint8Array and Buffer values', async () => {
  const proto = await new SandboxBuilder().setLanguage('python').build();
  const sandbox = await proto.loadRuntime();
  sandbox.addHandler('bytes', 'def handler(e):\n    return {"kind": type(e["data"]).__name__, "upper": e["data"].upper(), "made": bytearray(b"\\x00\\xff")}\n');
  const loaded = await sandbox.getLoadedSandbox();
  const result = await loaded.callHandler('bytes', { data: Buffer.from('abc') });
  assert.equal(result.kind, 'bytes');
  assert.ok(result.upper.equals(Buffer.from('ABC')));
  assert.ok(result.made.equals(Buffer.from([0, 255])));
});
