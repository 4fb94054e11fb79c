// Handler lifecycle: unload handlers, reset state, load new handlers.
const { SandboxBuilder } = require('@polybox/node');

async function main() {
  const sandbox = await (await new SandboxBuilder().build()).loadRuntime();
  sandbox.addHandler('counter', `
    let count = 0;
    function handler() { return { version: 1, count: ++count }; }
  `);
  let loaded = await sandbox.getLoadedSandbox();
  console.log(await loaded.callHandler('counter', {})); // { version: 1, count: 1 }
  console.log(await loaded.callHandler('counter', {})); // { version: 1, count: 2 }

  // Unloading discards every handler, module and bit of guest state.
  const fresh = await loaded.unload();
  fresh.addHandler('counter', `
    let count = 100;
    function handler() { return { version: 2, count: ++count }; }
  `);
  loaded = await fresh.getLoadedSandbox();
  console.log(await loaded.callHandler('counter', {})); // { version: 2, count: 101 }
}

main().catch((error) => { console.error(error); process.exit(1); });
