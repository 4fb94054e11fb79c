// Serving HTTP: secure-exec's dev-server flow (a program's server on the
// sandbox's own virtual port), and a fetch handler answering web Requests.
const { NodeRuntime, SandboxBuilder } = require('@polybox/node');

async function main() {
  const runtime = await NodeRuntime.create();
  try {
    const server = await runtime.spawn(`
      import http from 'node:http';
      http.createServer((req, res) => res.end('hello from ' + req.url)).listen(3000);
    `);
    await runtime.waitForListener({ port: 3000 });
    const { status, body } = await runtime.fetch(3000, { path: '/dev' });
    console.log(status, body); // 200 hello from /dev
    server.kill();
    console.log('exit code', await server.wait()); // 137
  } finally {
    await runtime.dispose();
  }

  const sandbox = await (await new SandboxBuilder().build()).loadRuntime();
  sandbox.addHandler('app', `export default {
    fetch(request) { return Response.json({ path: new URL(request.url).pathname }); },
  };`);
  const loaded = await sandbox.getLoadedSandbox();
  const response = await loaded.fetch('app', new Request('http://localhost/items'));
  console.log(response.status, await response.json()); // 200 { path: '/items' }
  await loaded.dispose();
}

main().catch((error) => { console.error(error); process.exit(1); });
