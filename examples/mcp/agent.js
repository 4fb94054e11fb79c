'use strict';
// A scripted agent loop, no model needed: it starts `polybox mcp` (over
// stdio, stateful, with /output mounted), reads the tool's description as a
// model would, sends three snippets one after the other — the way a model
// builds on its earlier results — and prints what each returned.
//
//   npm install && node agent.js        (POLYBOX_BIN names the command; default `polybox`)
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } = require('@modelcontextprotocol/sdk/client/stdio.js');

const SNIPPETS = [
  // 1. Compute something, keeping it for later.
  `const primes = [];
   for (let n = 2; primes.length < 10; n++) if (primes.every((p) => n % p)) primes.push(n);
   primes`,
  // 2. Build on the first snippet's variable; write a file for the host.
  `const report = { count: primes.length, sum: primes.reduce((a, b) => a + b) };
   require('fs').writeFileSync('/output/report.json', JSON.stringify(report));
   console.log('wrote /output/report.json');
   report`,
  // 3. Try to leave the sandbox: refused, and reported as a tool error.
  `require('fs').readFileSync('/etc/passwd', 'utf8')`,
];

async function main() {
  const output = fs.mkdtempSync(path.join(os.tmpdir(), 'polybox-agent-'));
  const transport = new StdioClientTransport({
    command: process.env.POLYBOX_BIN ?? 'polybox',
    args: ['mcp', '--stateful', '--output', output],
  });
  const client = new Client({ name: 'scripted-agent', version: '1.0.0' });
  await client.connect(transport);
  try {
    const [tool] = (await client.listTools()).tools;
    console.log(`tool: ${tool.name}\n  ${tool.description.split('. ').slice(0, 1).join('')}.`);
    for (const [i, code] of SNIPPETS.entries()) {
      const result = await client.callTool({ name: tool.name, arguments: { code } });
      const { exitCode, value, stdout, stderr } = result.structuredContent;
      console.log(`\n#${i + 1} ${result.isError ? 'error' : 'ok'} (exit ${exitCode})`);
      if (value !== null) console.log(`  value: ${JSON.stringify(value)}`);
      if (stdout) console.log(`  stdout: ${stdout.trim()}`);
      if (stderr) console.log(`  stderr: ${stderr.trim().split('\n')[0]}`);
    }
    console.log(`\nthe host reads ${path.join(output, 'report.json')}: ${fs.readFileSync(path.join(output, 'report.json'), 'utf8')}`);
  } finally {
    await client.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
