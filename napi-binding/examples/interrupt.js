// Timeout-based termination: a 4-second handler killed after 1 second.
const { SandboxBuilder } = require('@polybox/node');

async function main() {
  const sandbox = await (await new SandboxBuilder().build()).loadRuntime();
  sandbox.addHandler('slow', `
    function handler() {
      const end = Date.now() + 4000;
      while (Date.now() < end) {}
      return 'finished';
    }
  `);
  const loaded = await sandbox.getLoadedSandbox();
  const snapshot = await loaded.snapshot();
  const started = Date.now();
  try {
    await loaded.callHandler('slow', {}, { wallClockTimeoutMs: 1000 });
    console.log('the handler finished (unexpected)');
  } catch (error) {
    if (error.code !== 'ERR_CANCELLED') throw error;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`Handler exceeded 1s wall-clock timeout (stopped after ${seconds}s, terminated by ${loaded.lastCallStats.terminatedBy})`);
  }
  console.log('poisoned:', loaded.poisoned);
  await loaded.restore(snapshot);
  console.log('poisoned after restore:', loaded.poisoned);

  // The same with an interrupt handle from a timer.
  const timer = setTimeout(() => loaded.interruptHandle.kill(), 500);
  await loaded.callHandler('slow', {}).catch((error) => console.log(`kill(): ${error.code}, terminated by ${loaded.lastCallStats.terminatedBy}`));
  clearTimeout(timer);
}

main().catch((error) => { console.error(error); process.exit(1); });
