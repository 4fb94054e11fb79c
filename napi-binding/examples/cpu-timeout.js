// Combined CPU + wall-clock monitoring, the recommended pattern: the CPU
// monitor fires first for compute-bound work; the wall clock is the backstop.
const { SandboxBuilder } = require('@polybox/node');

async function main() {
  const proto = await new SandboxBuilder().build();
  proto.register('io', 'wait', (ms) => new Promise((resolve) => setTimeout(() => resolve('waited'), ms)));
  const sandbox = await proto.loadRuntime();
  sandbox.addHandler('compute', `
    function handler() {
      let x = 0;
      for (;;) x = (x * 31 + 7) % 1000003;
    }
  `);
  sandbox.addHandler('io', `
    import * as io from 'host:io';
    async function handler(event) { return await io.wait(event.ms); }
  `);
  const loaded = await sandbox.getLoadedSandbox();
  const snapshot = await loaded.snapshot();
  const limits = { wallClockTimeoutMs: 5000, cpuTimeoutMs: 500 };

  try {
    await loaded.callHandler('compute', {}, limits);
  } catch (error) {
    if (error.code !== 'ERR_CANCELLED') throw error;
    const stats = loaded.lastCallStats;
    console.log(`compute: terminated by ${stats.terminatedBy} after ${stats.cpuTimeMs.toFixed(0)} ms of CPU`);
  }
  await loaded.restore(snapshot);

  // Waiting on the host burns no CPU: within both limits it completes.
  console.log('io:', await loaded.callHandler('io', { ms: 200 }, limits));
  const stats = loaded.lastCallStats;
  console.log(`io: ${stats.wallClockMs.toFixed(0)} ms wall clock, ${stats.cpuTimeMs.toFixed(1)} ms CPU`);
}

main().catch((error) => { console.error(error); process.exit(1); });
