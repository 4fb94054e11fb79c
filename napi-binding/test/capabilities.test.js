'use strict';
// NodeRuntime's capabilities: files, mounts, node_modules and the
// permissions policy, every access decided natively.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { NodeRuntime } = require('..');
const { rejectsWith, withRuntime } = require('./helpers');

const NODE_MODULES = path.join(__dirname, '../../tests/fixtures/npm/node_modules');

/** A fresh host directory with `files` (relative path → content). */
function hostDir(name, files = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `polybox-node-${name}-`));
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  return dir;
}

// Each operation a case tries, as program code over `p` (the target path).
const OPS = {
  read: "fs.readFileSync(p, 'utf8')",
  write: "fs.writeFileSync(p, 'new')",
  append: "fs.appendFileSync(p, '+')",
  stat: 'fs.statSync(p).size',
  readdir: 'fs.readdirSync(p).length',
  mkdir: 'fs.mkdirSync(p)',
  rm: 'fs.rmSync(p)',
  rename: "fs.renameSync(p, p + '.moved')",
  truncate: 'fs.truncateSync(p, 1)',
};

// [what the case shows, permissions (undefined: none given), operation, target, allowed?]
const TABLE = [
  ['nothing granted: a seeded file is readable', undefined, 'read', '/seed/a.txt', true],
  ['nothing granted: a seeded file is writable', undefined, 'write', '/seed/a.txt', true],
  ['nothing granted: /tmp is writable', undefined, 'write', '/tmp/x', true],
  ['nothing granted: the rest is not', undefined, 'write', '/etc/x', false],
  ['nothing granted: a read-only mount is readable', undefined, 'read', '/ro/h.txt', true],
  ['nothing granted: a read-only mount is not writable', undefined, 'write', '/ro/h.txt', false],
  ['nothing granted: a read-only mount cannot be appended to', undefined, 'append', '/ro/h.txt', false],
  ['nothing granted: a read-only mount keeps its files', undefined, 'rm', '/ro/h.txt', false],
  ['nothing granted: a read-only mount is not truncated', undefined, 'truncate', '/ro/h.txt', false],
  ['nothing granted: a writable mount is writable', undefined, 'write', '/rw/h.txt', true],
  ['nothing granted: a writable mount can grow', undefined, 'mkdir', '/rw/sub', true],
  ['nothing granted: a directory may be listed', undefined, 'readdir', '/', true],
  ['fs deny: even seeded files', { fs: 'deny' }, 'read', '/seed/a.txt', false],
  ['fs deny: even /tmp', { fs: 'deny' }, 'write', '/tmp/x', false],
  ['fs deny: even mounts', { fs: 'deny' }, 'read', '/ro/h.txt', false],
  ['fs deny: even listing', { fs: 'deny' }, 'readdir', '/', false],
  ['fs allow: anywhere in memory', { fs: 'allow' }, 'mkdir', '/work', true],
  ['fs allow: not a read-only mount (EROFS)', { fs: 'allow' }, 'write', '/ro/h.txt', false],
  ['a rule grants a path', { fs: { rules: [{ mode: 'allow', paths: ['/work'] }] } }, 'mkdir', '/work', true],
  ['a rule grants below its path', { fs: { rules: [{ mode: 'allow', paths: ['/'] }] } }, 'mkdir', '/work', true],
  ['a rule is not a prefix of a name', { fs: { rules: [{ mode: 'allow', paths: ['/wor'] }] } }, 'mkdir', '/work', false],
  ['operations narrow a rule', { fs: { rules: [{ mode: 'allow', operations: ['stat'], paths: ['/seed'] }] } }, 'stat', '/seed/a.txt', true],
  ['a deny rule narrows a mount', { fs: { rules: [{ mode: 'deny', paths: ['/ro'] }] } }, 'read', '/ro/h.txt', false],
  ['a deny rule for one operation', { fs: { rules: [{ mode: 'deny', operations: ['rm'], paths: ['/rw'] }] } }, 'rm', '/rw/h.txt', false],
  ['a deny rule for one operation leaves others', { fs: { rules: [{ mode: 'deny', operations: ['rm'], paths: ['/rw'] }] } }, 'write', '/rw/h.txt', true],
  ['the last matching rule wins: deny', { fs: { rules: [{ mode: 'allow', paths: ['/tmp'] }, { mode: 'deny', paths: ['/tmp/locked'] }] } }, 'write', '/tmp/locked', false],
  ['the last matching rule wins: allow', { fs: { rules: [{ mode: 'deny', paths: ['/rw'] }, { mode: 'allow', paths: ['/rw/h.txt'] }] } }, 'read', '/rw/h.txt', true],
  ['a star matches within one segment', { fs: { rules: [{ mode: 'deny', paths: ['/rw/*.txt'] }] } }, 'write', '/rw/h.txt', false],
  ['a star pattern on a seeded file', { fs: { rules: [{ mode: 'deny', paths: ['/seed/*.txt'] }] } }, 'read', '/seed/a.txt', false],
  ['default allow with a deny rule', { fs: { default: 'allow', rules: [{ mode: 'deny', operations: ['write'] }] } }, 'write', '/tmp/x', false],
  ['default allow with a deny rule leaves reading', { fs: { default: 'allow', rules: [{ mode: 'deny', operations: ['write'] }] } }, 'read', '/seed/a.txt', true],
  ['a rename needs both ends', { fs: { rules: [{ mode: 'deny', paths: ['/tmp/y.moved'] }] } }, 'rename', '/tmp/y', false],
  ['another scope changes nothing here', { network: 'allow' }, 'write', '/etc/x', false],
];

test('the policy table: scope × rule × operation → allowed or EACCES', async () => {
  assert.ok(TABLE.length >= 30);
  const ro = hostDir('ro', { 'h.txt': 'host' });
  const failures = [];
  for (const [what, permissions, op, target, allowed] of TABLE) {
    const rw = hostDir('rw', { 'h.txt': 'host' });
    await withRuntime({
      files: { '/seed/a.txt': 'seeded' },
      mounts: [{ guestPath: '/ro', hostPath: ro }, { guestPath: '/rw', hostPath: rw, readOnly: false }],
      permissions,
    }, async (runtime) => {
      await runtime.writeFile('/tmp/y', 'y');
      const result = await runtime.exec(`const fs = require('fs'); const p = ${JSON.stringify(target)};
        try { ${OPS[op]}; console.log('allowed'); } catch (e) { console.log(e.code); }`);
      const got = result.stdout.trim();
      if (allowed ? got !== 'allowed' : !/^(EACCES|EROFS)$/.test(got)) failures.push(`${what}: ${op} ${target} gave ${got || result.stderr}`);
    });
  }
  assert.deepEqual(failures, []);
});

test('a program imports five real npm packages from nodeModules', () => withRuntime({ nodeModules: NODE_MODULES }, async (runtime) => {
  assert.ok(fs.existsSync(path.join(NODE_MODULES, 'zod')), 'run `make test-node`');
  const result = await runtime.exec(`
    import isNumber from 'is-number';
    import _ from 'lodash';
    import { z } from 'zod';
    import { addDays, format } from 'date-fns';
    import { v4, validate } from 'uuid';
    console.log(isNumber(1), _.sum([1, 2]), z.string().safeParse(1).success, format(addDays(new Date(2024, 0, 1), 1), 'yyyy-MM-dd'), validate(v4()));`);
  assert.equal(result.stdout, 'true 3 false 2024-01-02 true\n', result.stderr);
}));

test('a read-only mount refuses writes with EACCES and /output reaches the host', async () => {
  const input = hostDir('input', { 'data.txt': 'from the host' });
  const output = hostDir('output');
  await withRuntime({
    mounts: [{ guestPath: '/input', hostPath: input }, { host: output, guest: '/output', dir_perms: 'read-write', file_perms: 'read-write' }],
  }, async (runtime) => {
    const result = await runtime.exec(`const fs = require('fs');
      const text = fs.readFileSync('/input/data.txt', 'utf8');
      try { fs.writeFileSync('/input/data.txt', 'x'); } catch (e) { console.log(e.code); }
      fs.writeFileSync('/output/result.txt', text.toUpperCase());`);
    assert.equal(result.stdout, 'EACCES\n', result.stderr);
  });
  assert.equal(fs.readFileSync(path.join(output, 'result.txt'), 'utf8'), 'FROM THE HOST');
  assert.equal(fs.readFileSync(path.join(input, 'data.txt'), 'utf8'), 'from the host');
});

test('writeFile and readFile reach the filesystem every run of the runtime sees', () => withRuntime(undefined, async (runtime) => {
  await runtime.writeFile('/root/data.json', '{"ok":true}');
  const runs = await Promise.all([1, 2, 3].map((i) => runtime.exec(`const fs = require('fs');
    const data = JSON.parse(fs.readFileSync('/root/data.json', 'utf8'));
    fs.writeFileSync('/tmp/run-${i}', String(data.ok));`)));
  for (const run of runs) assert.equal(run.exitCode, 0, run.stderr);
  for (const i of [1, 2, 3]) assert.equal(Buffer.from(await runtime.readFile(`/tmp/run-${i}`)).toString(), 'true');
  await rejectsWith(runtime.readFile('/tmp/missing'), 'ERR_INVALID_ARG');
  await rejectsWith(runtime.writeFile('relative', 'x'), 'ERR_INVALID_ARG');
  await rejectsWith(runtime.writeFile('/x', 42), 'ERR_INVALID_ARG');
}));

test("isola mount permissions a mount cannot give exactly are ERR_NOT_SUPPORTED, never a wider grant", async () => {
  // dirPerms "read" with filePerms "write" once made the mount writable.
  for (const perms of [
    { dirPerms: 'read', filePerms: 'write' },
    { dirPerms: 'read', filePerms: 'read-write' },
    { dir_perms: 'read-write', file_perms: 'read' },
    { dirPerms: 'write', filePerms: 'write' },
  ]) {
    await rejectsWith(NodeRuntime.create({ mounts: [{ guest: '/a', host: os.tmpdir(), ...perms }] }), 'ERR_NOT_SUPPORTED');
  }
});

test('malformed capability options are ERR_INVALID_ARG', async () => {
  for (const options of [
    { files: [] },
    { files: { relative: 'x' } },
    { files: { '/a': 42 } },
    { mounts: {} },
    { mounts: [{ guestPath: '/a' }] },
    { mounts: [{ guestPath: 'a', hostPath: os.tmpdir() }] },
    { mounts: [{ guestPath: '/a', hostPath: '/definitely/missing' }] },
    { mounts: [{ guest: '/a', host: os.tmpdir(), dir_perms: 'all' }] },
    { nodeModules: 42 },
    { permissions: 'allow' },
    { permissions: { fs: 'sometimes' } },
    { permissions: { fs: { rules: [{ mode: 'allow', operations: ['fly'] }] } } },
  ]) {
    await rejectsWith(NodeRuntime.create(options), 'ERR_INVALID_ARG');
  }
});

test('env: the policy hides variables the caller set', () => withRuntime({
  env: { MODE: 'test', SECRET_KEY: 'k' },
  permissions: { env: { default: 'allow', rules: [{ mode: 'deny', patterns: ['SECRET_*'] }] } },
}, async (runtime) => {
  const result = await runtime.exec('console.log(JSON.stringify(process.env))');
  assert.equal(result.stdout, '{"MODE":"test"}\n');
}));

test('fetch: denied by default, allowed by a network rule, through the host', async () => {
  const http = require('node:http');
  const server = http.createServer((req, res) => res.end(`hello ${req.headers['x-test'] ?? ''}`));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const code = `try { const r = await fetch('http://127.0.0.1:${port}/', { headers: { 'x-test': 'node' } }); console.log(r.status, await r.text()); }
    catch (e) { console.log(e.name, e.cause?.code); }`;
  try {
    await withRuntime(undefined, async (runtime) => {
      assert.equal((await runtime.exec(code)).stdout, 'TypeError EACCES\n');
    });
    await withRuntime({ permissions: { network: { rules: [{ mode: 'allow', patterns: [`http://127.0.0.1:${port}/*`] }] } } }, async (runtime) => {
      const result = await runtime.exec(code);
      assert.equal(result.stdout, '200 hello node\n', result.stderr);
    });
  } finally {
    server.close();
  }
});

test('http: an async handler answers guests\' requests without a network, under the policy', async () => {
  const seen = [];
  const http = async (request) => {
    seen.push(request);
    if (request.url.endsWith('/fail')) throw new Error('upstream down');
    if (request.url.endsWith('/bad')) return { status: 42 };
    await new Promise((resolve) => setTimeout(resolve, 1));
    return { status: 201, headers: { 'content-type': 'text/plain', 'x-from': 'node' }, body: Buffer.from(`got ${request.method} ${request.body}`) };
  };
  await withRuntime({ http }, async (runtime) => {
    const result = await runtime.exec(`const r = await fetch('https://api.example.com/v1?q=1', { method: 'POST', body: 'hi', headers: { 'x-test': 'yes' } });
      console.log(r.status, r.headers.get('x-from'), await r.text());
      for (const path of ['/fail', '/bad']) {
        try { await fetch('https://api.example.com' + path); } catch (e) { console.log(e.name, e.cause?.code); }
      }`);
    assert.equal(result.stdout, '201 node got POST hi\nTypeError EIO\nTypeError EIO\n', result.stderr);
  });
  assert.equal(seen[0].url, 'https://api.example.com/v1?q=1');
  assert.equal(seen[0].headers['x-test'], 'yes');
  assert.ok(Buffer.isBuffer(seen[0].body));
  assert.equal(seen[1].body, null);
  // The policy still decides which requests reach it.
  seen.length = 0;
  await withRuntime({ httpHandler: http, permissions: { network: { rules: [{ mode: 'allow', patterns: ['https://api.example.com:443/*'] }] } } }, async (runtime) => {
    const result = await runtime.exec(`try { await fetch('https://other.example.com/'); } catch (e) { console.log(e.cause?.code); }`);
    assert.equal(result.stdout, 'EACCES\n');
  });
  assert.equal(seen.length, 0);
  // A stopped run stops waiting for a handler that never answers.
  await withRuntime({ http: () => new Promise(() => {}), timeout: 200 }, async (runtime) => {
    const result = await runtime.exec(`await fetch('https://api.example.com/')`);
    assert.equal(result.exitCode, 124);
  });
  await rejectsWith(NodeRuntime.create({ http: 'yes' }), 'ERR_INVALID_ARG');
});

test('tools: handlers on the main thread, input checked against the schema first, gated by the tool scope', async () => {
  let calls = 0;
  const add = {
    description: 'Adds two numbers',
    inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
    handler: async ({ a, b }) => {
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, 1));
      return { sum: a + b };
    },
  };
  const fail = { description: 'Fails', handler: () => { throw new Error('backend down'); } };
  await withRuntime({ tools: { add, fail } }, async (runtime) => {
    const result = await runtime.exec(`console.log((await tools.add({ a: 2, b: 3 })).sum);
      try { await tools.add({ a: 'x' }); } catch (e) { console.log(e.name); }
      try { await tools.fail({}); } catch (e) { console.log(e.message); }`);
    assert.equal(result.stdout, '5\nTypeError\nbackend down\n', result.stderr);
    assert.equal(calls, 1);
    await runtime.registerTools({ twice: { inputSchema: { type: 'object' }, handler: ({ n }) => n * 2 } });
    assert.equal((await runtime.exec('console.log(await tools.twice({ n: 21 }))')).stdout, '42\n');
  });
  await withRuntime({ tools: { add }, permissions: { tool: { default: 'allow', rules: [{ mode: 'deny', patterns: ['add'] }] } } }, async (runtime) => {
    const result = await runtime.exec("try { await tools.add({ a: 1, b: 2 }); } catch (e) { console.log(e.message); }");
    assert.match(result.stdout, /^EACCES/);
  });
  for (const bad of [{ tools: 42 }, { tools: { x: {} } }, { tools: { 'not a name': { handler() {} } } }, { tools: { x: { handler() {}, inputSchema: 'no' } } }]) {
    await rejectsWith(NodeRuntime.create(bad), 'ERR_INVALID_ARG');
  }
});
