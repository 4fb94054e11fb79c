// Programs with secure-exec's NodeRuntime API: each run a fresh process.
const { NodeRuntime } = require('@polybox/node');

async function main() {
  const runtime = await NodeRuntime.create({ env: { GREETING: 'Hello' } });
  try {
    const { stdout, stderr, exitCode } = await runtime.exec(
      "console.log(process.env.GREETING, 1 + 1); console.error('a warning'); process.exitCode = 3",
    );
    console.log(JSON.stringify({ stdout, stderr, exitCode }));

    // Output as it is written, and standard input.
    await runtime.exec(
      "let s = ''; for await (const c of process.stdin) s += c; console.log(s.toUpperCase());",
      { stdin: 'streamed\n', onStdout: (chunk) => process.stdout.write(`live: ${new TextDecoder().decode(chunk)}`) },
    );

    // A value back: __return(value), or an ES module's default export.
    const { value } = await runtime.run('export default { answer: 6 * 7 }');
    console.log(value); // { answer: 42 }

    // A timeout ends a program that would not, with exit code 124.
    const stopped = await runtime.exec('setInterval(() => {}, 1000)', { timeout: 100 });
    console.log(stopped.exitCode, stopped.stats.terminatedBy); // 124 wall-clock
  } finally {
    await runtime.dispose();
  }
}

main().catch((error) => { console.error(error); process.exit(1); });
