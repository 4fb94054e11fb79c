// Components: a handler written in Rust, a typed module JavaScript imports,
// and a host import (a key-value store) that every guest shares. Build them
// with `make components` (into components/dist/).
const path = require('node:path');
const { SandboxBuilder } = require('@polybox/node');

const dist = path.join(__dirname, '..', '..', 'components', 'dist');

async function main() {
  const proto = await new SandboxBuilder().build();
  // Its exports (get, set, swap, delete, keys) become host module `kv`.
  proto.hostComponent('kv', path.join(dist, 'kv_store.wasm'));

  const sandbox = await proto.loadRuntime();
  sandbox.addComponentHandler('echo', path.join(dist, 'echo_handler.wasm'));
  sandbox.addComponentModule('textkit', path.join(dist, 'textkit.wasm'));
  sandbox.addHandler('summarise', `
    import { stats, slugify } from 'user:textkit';
    import { set } from 'host:kv';
    function handler(event) {
      set('last-title', event.title);
      return { slug: slugify(event.title), ...stats(event.body) };
    }
  `);
  const loaded = await sandbox.getLoadedSandbox();

  console.log(await loaded.callHandler('summarise', { title: 'Hello, Components!', body: 'one two\nthree' }));
  // The Rust handler swaps the key in the same store the script wrote to.
  console.log(await loaded.callHandler('echo', { key: 'last-title', value: 'replaced' }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
