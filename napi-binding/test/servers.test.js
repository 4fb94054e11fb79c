'use strict';
// Serving HTTP: secure-exec's dev-server flow (spawn, waitForListener,
// fetch, kill, wait) on the sandbox's virtual ports, and fetch handlers
// answering web Requests with web Responses.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { rejectsWith, loadSandbox, withRuntime } = require('./helpers');

const SERVER = `
import http from 'node:http';
const server = http.createServer(async (req, res) => {
  if (req.url === '/') return res.end('home');
  if (req.url === '/json' && req.method === 'POST') {
    let body = '';
    for await (const chunk of req) body += chunk;
    res.writeHead(201, { 'content-type': 'application/json', 'x-seen': req.headers['x-token'] ?? 'none' });
    return res.end(JSON.stringify({ echoed: JSON.parse(body) }));
  }
  if (req.url === '/hang') return;
  res.statusCode = 404;
  res.end('no ' + req.url);
});
server.listen(3000, () => console.log('ready'));
`;

test('the dev-server flow: spawn, waitForListener, fetch three routes, kill, wait', () => withRuntime(undefined, async (runtime) => {
  const chunks = [];
  const server = await runtime.spawn(SERVER, { onStdout: (chunk) => chunks.push(Buffer.from(chunk).toString()) });
  assert.equal(typeof server.pid, 'number');
  assert.equal(server.exitCode, null);
  const listener = await runtime.waitForListener({ port: 3000 }, { timeoutMs: 30000 });
  assert.deepEqual(listener, { processId: String(server.pid), port: 3000 });
  assert.equal(runtime.findListener({ port: 3001 }), null);

  const home = await runtime.fetch(3000, { path: '/' });
  assert.deepEqual([home.status, home.statusText, home.body], [200, 'OK', 'home']);
  const json = await runtime.fetch(3000, { method: 'POST', path: '/json', headers: { 'x-token': 't' }, body: '{"a":[1]}' });
  assert.equal(json.status, 201);
  assert.equal(json.headers['content-type'], 'application/json');
  assert.equal(json.headers['x-seen'], 't');
  assert.deepEqual(JSON.parse(json.body), { echoed: { a: [1] } });
  const missing = await runtime.fetch(3000, { path: '/nope' });
  assert.deepEqual([missing.status, missing.statusText, missing.body], [404, 'Not Found', 'no /nope']);

  await rejectsWith(runtime.fetch(3001, { path: '/' }), 'ERR_CONNECTION_REFUSED');
  await rejectsWith(runtime.fetch(3000, { path: '/hang', timeoutMs: 100 }), 'ERR_TIMEOUT');
  server.kill();
  assert.equal(await server.wait(), 137);
  assert.equal(server.exitCode, 137);
  assert.equal(chunks.join(''), 'ready\n');
  assert.equal(runtime.findListener({ port: 3000 }), null);
  // The runtime runs programs as before.
  assert.equal((await runtime.exec('console.log(1)')).stdout, '1\n');
}));

test('spawned processes read stdin as it is written, and waits time out', () => withRuntime(undefined, async (runtime) => {
  const echo = await runtime.spawn("process.stdin.on('data', (c) => process.stdout.write(String(c).toUpperCase()))");
  echo.writeStdin('abc');
  echo.writeStdin(Buffer.from('def'));
  echo.closeStdin();
  assert.equal(await echo.wait(), 0);
  await rejectsWith(runtime.waitForListener({ port: 4000 }, { timeoutMs: 50, pollIntervalMs: 10 }), 'ERR_TIMEOUT');
  const aborted = new AbortController();
  aborted.abort(new Error('gave up'));
  await assert.rejects(runtime.waitForListener({ port: 4000 }, { signal: aborted.signal }), /gave up/);
}));

test('a fetch handler answers a web Request with a web Response', async () => {
  const loaded = await loadSandbox({
    app: `export default {
      async fetch(request) {
        const url = new URL(request.url);
        if (url.pathname === '/throw') throw new Error('boom');
        const body = request.method === 'POST' ? await request.json() : null;
        return Response.json({ path: url.pathname, body, agent: request.headers.get('user-agent') }, { status: 202, headers: { 'x-app': 'yes' } });
      },
    };`,
  });
  const response = await loaded.fetch('app', new Request('http://app.test/items', {
    method: 'POST', headers: { 'user-agent': 'node-test', 'content-type': 'application/json' }, body: JSON.stringify({ n: 1 }),
  }));
  assert.ok(response instanceof Response);
  assert.equal(response.status, 202);
  assert.equal(response.headers.get('x-app'), 'yes');
  assert.deepEqual(await response.json(), { path: '/items', body: { n: 1 }, agent: 'node-test' });
  const get = await loaded.fetch('app', 'http://app.test/');
  assert.deepEqual(await get.json(), { path: '/', body: null, agent: null });
  await rejectsWith(loaded.fetch('app', 'http://app.test/throw'), 'ERR_GUEST_ERROR');
  await loaded.dispose();
});
