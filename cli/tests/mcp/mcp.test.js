'use strict';
// `polybox mcp` driven by the official MCP TypeScript SDK client, as an
// agent would drive it: over stdio (and once over Streamable HTTP on
// loopback). POLYBOX_BIN names the command (`make test-mcp` sets it).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } = require('@modelcontextprotocol/sdk/client/stdio.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');

const POLYBOX = process.env.POLYBOX_BIN ?? path.join(__dirname, '../../../target/debug/polybox');

/** A client connected to a fresh `polybox mcp ...args` over stdio. */
async function connect(args = [], env = undefined) {
  const transport = new StdioClientTransport({ command: POLYBOX, args: ['mcp', ...args], stderr: 'pipe', env });
  const client = new Client({ name: 'polybox-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/** Runs `fn(client)` against a fresh server, then closes it. */
async function withServer(args, fn, env = undefined) {
  const client = await connect(args, env);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

const run = (client, code, extra = {}) => client.callTool({ name: 'execute_javascript', arguments: { code, ...extra } });

test('initialize, list the tool, and run code', () => withServer([], async (client) => {
  assert.equal(client.getServerVersion().name, 'polybox');
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name), ['execute_javascript', 'execute_python']);
  const [tool] = tools;
  assert.deepEqual(tool.inputSchema.required, ['code']);
  assert.equal(tool.inputSchema.properties.timeoutMs.maximum, 5000);
  assert.match(tool.description, /5000 ms of wall-clock time, a 64 MiB heap/);
  const result = await run(client, "console.log('hello'); console.error('warn'); __return({ sum: 1 + 2 })");
  assert.equal(result.isError, false);
  assert.equal(result.structuredContent.stdout, 'hello\n');
  assert.equal(result.structuredContent.stderr, 'warn\n');
  assert.deepEqual(result.structuredContent.value, { sum: 3 });
  assert.equal(result.structuredContent.exitCode, 0);
  assert.match(result.content[0].text, /exit code 0\nvalue: \{"sum":3\}\n--- stdout ---\nhello/);
  // Each call starts afresh.
  await run(client, "globalThis.leak = 1; require('fs').writeFileSync('/tmp/leak', 'x')");
  const next = await run(client, "console.log(typeof leak, require('fs').existsSync('/tmp/leak'))");
  assert.equal(next.structuredContent.stdout, 'undefined false\n');
}));

const python = (client, code, extra = {}) => client.callTool({ name: 'execute_python', arguments: { code, ...extra } });

test('execute_python runs Python in the same sandbox, afresh each call', () => withServer([], async (client) => {
  const { tools } = await client.listTools();
  const tool = tools.find((t) => t.name === 'execute_python');
  assert.match(tool.description, /Python 3\.14/);
  assert.match(tool.description, /5000 ms of wall-clock time, a 64 MiB heap/);
  const result = await python(client, "import statistics, sys\nprint('mean', statistics.mean([1, 2, 3]))\nprint('warn', file=sys.stderr)");
  assert.equal(result.isError, false);
  assert.equal(result.structuredContent.stdout, 'mean 2\n');
  assert.equal(result.structuredContent.stderr, 'warn\n');
  await python(client, "leak = 1\nopen('/tmp/leak', 'w').write('x')");
  const next = await python(client, "import os\nprint('leak' in globals(), os.path.exists('/tmp/leak'))");
  assert.equal(next.structuredContent.stdout, 'False False\n');
  const failed = await python(client, "open('/etc/passwd').read()");
  assert.equal(failed.isError, true);
  assert.match(failed.structuredContent.stderr, /PermissionError/);
  const spun = await python(client, 'while True:\n    pass', { timeoutMs: 50 });
  assert.equal(spun.structuredContent.stoppedBy, 'wall-clock');
  const after = await python(client, 'print("alive")');
  assert.equal(after.structuredContent.stdout, 'alive\n');
}));

test('a stateful session keeps Python state apart from JavaScript state, and returns a last expression', () => withServer(['--stateful'], async (client) => {
  await python(client, 'import math\ncount = 40');
  await run(client, 'var count = 1;');
  const value = await python(client, 'count += 2\n{"count": count, "root": math.sqrt(16)}');
  assert.deepEqual(value.structuredContent.value, { count: 42, root: 4.0 });
  const js = await run(client, 'count');
  assert.equal(js.structuredContent.value, 1);
  const repr = await python(client, '{1, 2}');
  assert.equal(repr.structuredContent.value, '{1, 2}');
}));

test('a runaway loop is stopped by the default limit, and the server goes on', () => withServer([], async (client) => {
  const result = await run(client, 'while (true) {}');
  assert.equal(result.isError, true);
  assert.equal(result.structuredContent.exitCode, 124);
  assert.equal(result.structuredContent.stoppedBy, 'wall-clock');
  const shorter = await run(client, 'for (;;) {}', { timeoutMs: 50 });
  assert.equal(shorter.structuredContent.stoppedBy, 'wall-clock');
  assert.ok(shorter.structuredContent.durationMs < 5000);
  const after = await run(client, 'console.log("alive")');
  assert.equal(after.structuredContent.stdout, 'alive\n');
}));

test('guest failures are tool errors; malformed requests are protocol errors', () => withServer([], async (client) => {
  const thrown = await run(client, "throw new TypeError('bad input')");
  assert.equal(thrown.isError, true);
  assert.match(thrown.structuredContent.stderr, /TypeError: bad input/);
  const denied = await run(client, "require('fs').readFileSync('/etc/passwd')");
  assert.equal(denied.isError, true);
  assert.match(denied.structuredContent.stderr, /EACCES/);
  const fetched = await run(client, "await fetch('http://169.254.169.254/')");
  assert.equal(fetched.isError, true);
  assert.match(fetched.structuredContent.stderr, /EACCES/);
  await assert.rejects(client.callTool({ name: 'execute_javascript', arguments: {} }), (e) => e.code === -32602);
  await assert.rejects(client.callTool({ name: 'execute_ruby', arguments: { code: '1' } }), (e) => e.code === -32602);
  await assert.rejects(run(client, '1', { timeoutMs: -5 }), (e) => e.code === -32602);
  assert.equal((await run(client, '__return(1)')).structuredContent.value, 1);
}));

test('host tools: called from guest code, typed for the model, run on the host', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'polybox-mcp-'));
  const config = path.join(dir, 'config.json');
  const adder = "let s = ''; process.stdin.on('data', (d) => s += d).on('end', () => { const { a, b } = JSON.parse(s); console.log(JSON.stringify({ sum: a + b, secret: process.env.POLYBOX_TEST_SECRET })); });";
  fs.writeFileSync(config, JSON.stringify({
    limits: { wallMs: 3000 },
    tools: {
      add: {
        description: 'Adds two numbers',
        inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
        command: [process.execPath, '-e', adder],
      },
    },
  }));
  const env = { ...process.env, POLYBOX_TEST_SECRET: 'host-only' };
  await withServer(['--config', config], async (client) => {
    const [tool] = (await client.listTools()).tools;
    assert.match(tool.description, /await tools\.<name>\(input\)/);
    assert.match(tool.description, /add\(input: \{/);
    const { resources } = await client.listResources();
    assert.deepEqual(resources.map((r) => r.uri), ['polybox://tools.d.ts']);
    const { contents } = await client.readResource({ uri: 'polybox://tools.d.ts' });
    assert.match(contents[0].text, /Adds two numbers/);
    const result = await run(client, "const r = await tools.add({ a: 2, b: 3 }); console.log(r.sum, r.secret, typeof process.env.POLYBOX_TEST_SECRET); try { await tools.add({ a: 'x' }); } catch (e) { console.log(e.name); }");
    assert.equal(result.structuredContent.stdout, '5 host-only undefined\nTypeError\n', result.structuredContent.stderr);
  }, env);
});

test("a stopped tool call ends everything the tool's command started", async () => {
  // `sh -c 'sleep 30'` once outlived the run that started it.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'polybox-mcp-'));
  const config = path.join(dir, 'config.json');
  const marker = `${process.pid}${Date.now() % 100000}`;
  fs.writeFileSync(config, JSON.stringify({
    limits: { wallMs: 500 },
    tools: { wait: { description: 'Waits', command: ['sh', '-c', `sleep 3${marker} & sleep 3${marker}`] } },
  }));
  const running = () => {
    const found = require('node:child_process').spawnSync('pgrep', ['-f', `sleep 3${marker}`], { encoding: 'utf8' });
    return found.stdout.trim();
  };
  await withServer(['--config', config], async (client) => {
    const result = await run(client, 'await tools.wait({})');
    assert.equal(result.isError, true);
    // The group is killed as the call stops; give the kernel a moment to reap.
    for (let i = 0; i < 50 && running() !== ''; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(running(), '');
  });
});

test('--stateful keeps declarations and files per session; sessions are isolated', async () => {
  const [a, b] = await Promise.all([connect(['--stateful']), connect(['--stateful'])]);
  try {
    await Promise.all([
      run(a, "const secret = 'a'; let count = 1; function bump() { return ++count; } require('fs').writeFileSync('/tmp/note', 'from a');"),
      run(b, "var secret = 'b';"),
    ]);
    const [fromA, fromB] = await Promise.all([
      run(a, "bump(); bump(); `${secret} ${count} ${require('fs').readFileSync('/tmp/note', 'utf8')}`"),
      run(b, "`${secret} ${typeof count} ${require('fs').existsSync('/tmp/note')}`"),
    ]);
    assert.equal(fromA.structuredContent.value, 'a 3 from a', fromA.structuredContent.stderr);
    assert.equal(fromB.structuredContent.value, 'b undefined false', fromB.structuredContent.stderr);
    // A run stopped by its limit loses the session's variables, not its files.
    await run(a, 'for (;;) {}', { timeoutMs: 50 });
    const after = await run(a, "`${typeof secret} ${require('fs').readFileSync('/tmp/note', 'utf8')}`");
    assert.equal(after.structuredContent.value, 'undefined from a');
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

/** The URL `polybox mcp --http` says it serves at. */
function servingAt(server) {
  return new Promise((resolve, reject) => {
    let seen = '';
    server.stderr.on('data', (chunk) => {
      seen += chunk;
      const found = seen.match(/serving MCP at (http:\/\/\S+)/);
      if (found) resolve(found[1]);
    });
    server.on('exit', (code) => reject(new Error(`polybox mcp exited with ${code}: ${seen}`)));
  });
}

test('Streamable HTTP on loopback', async () => {
  const server = spawn(POLYBOX, ['mcp', '--http', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const url = await servingAt(server);
    const client = new Client({ name: 'polybox-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    const result = await run(client, 'console.log(6 * 7)');
    assert.equal(result.structuredContent.stdout, '42\n');
    await client.close();
  } finally {
    server.kill();
  }
});

test('Streamable HTTP refuses a browser origin it was not told to allow', async () => {
  // A web page the user visits could otherwise drive a local server.
  const server = spawn(POLYBOX, ['mcp', '--http', '127.0.0.1:0', '--allow-origin', 'http://localhost:3000'], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const url = await servingAt(server);
    const initialize = (origin) => fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(origin ? { origin } : {}) },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    });
    assert.equal((await initialize('http://evil.example')).status, 403);
    assert.equal((await initialize('http://localhost:3000')).status, 200);
    assert.equal((await initialize(undefined)).status, 200);
  } finally {
    server.kill();
  }
});

test('hostile requests: garbage lines, huge code, floods of output, memory exhaustion; the server lives on', async () => {
  // Raw lines first: the server answers a parse error and goes on.
  const server = spawn(POLYBOX, ['mcp'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const replies = [];
  let buffered = '';
  server.stdout.on('data', (chunk) => {
    buffered += chunk;
    let end;
    while ((end = buffered.indexOf('\n')) >= 0) {
      replies.push(JSON.parse(buffered.slice(0, end)));
      buffered = buffered.slice(end + 1);
    }
  });
  const waitFor = async (id) => {
    for (let i = 0; i < 500; i++) {
      const found = replies.find((r) => r.id === id);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`no reply ${id}: ${JSON.stringify(replies)}`);
  };
  const send = (message) => server.stdin.write(`${typeof message === 'string' ? message : JSON.stringify(message)}\n`);
  send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
  await waitFor(1);
  send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  send('{"this is not": json');
  send('\u0000\u0001garbage');
  send({ jsonrpc: '2.0', id: 2, method: 'no/such/method' });
  send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'execute_javascript', arguments: { code: 42 } } });
  send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'execute_javascript', arguments: { code: 'console.log("still here")' } } });
  assert.ok((await waitFor(2)).error);
  assert.equal((await waitFor(3)).error.code, -32602);
  assert.equal((await waitFor(4)).result.structuredContent.stdout, 'still here\n');
  server.kill();

  await withServer(['--output-limit', '64KiB'], async (client) => {
    const huge = await run(client, `// ${'x'.repeat(2 * 1024 * 1024)}`);
    assert.equal(huge.isError, true);
    const flood = await run(client, "for (let i = 0; i < 100000; i++) console.log('0123456789'.repeat(10))");
    assert.equal(flood.structuredContent.truncated, true);
    assert.equal(flood.structuredContent.stdout.length, 64 * 1024);
    const hog = await run(client, 'const keep = []; for (;;) keep.push(new Array(100000).fill(1));');
    assert.equal(hog.isError, true);
    assert.match(hog.structuredContent.stderr, /out of memory/);
    const exits = await run(client, 'process.exit(7)');
    assert.equal(exits.structuredContent.exitCode, 7);
    const after = await run(client, 'console.log("alive")');
    assert.equal(after.structuredContent.stdout, 'alive\n');
  });
});
