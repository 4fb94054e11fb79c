// User modules: inter-module dependencies, custom namespaces, handlers sharing
// a module and its mutable state.
const { SandboxBuilder } = require('@polybox/node');

async function main() {
  const sandbox = await (await new SandboxBuilder().build()).loadRuntime();

  // Registered in any order: modules compile lazily, when first imported.
  sandbox.addModule('geometry', `
    import { PI } from 'user:constants';
    export function circleArea(r) { return PI * r * r; }
  `);
  sandbox.addModule('constants', 'export const PI = 3.14159;');
  sandbox.addModule('utils', 'export function greet(name) { return "hi " + name; }', 'mylib');

  // One module instance, shared by every handler that imports it.
  sandbox.addModule('counter', `
    let count = 0;
    export function increment() { return ++count; }
    export function getCount() { return count; }
  `);

  sandbox.addHandler('area', `
    import { circleArea } from 'user:geometry';
    import { greet } from 'mylib:utils';
    function handler(event) { return { area: circleArea(event.r), greeting: greet(event.name) }; }
  `);
  sandbox.addHandler('writer', `
    import { increment } from 'user:counter';
    function handler(event) { event.count = increment(); return event; }
  `);
  sandbox.addHandler('reader', `
    import { getCount } from 'user:counter';
    function handler(event) { event.count = getCount(); return event; }
  `);

  const loaded = await sandbox.getLoadedSandbox();
  console.log(await loaded.callHandler('area', { r: 2, name: 'Ada' }));
  console.log(await loaded.callHandler('writer', {})); // { count: 1 }
  console.log(await loaded.callHandler('reader', {})); // { count: 1 }: sees the writer's state
  console.log(await loaded.callHandler('writer', {})); // { count: 2 }
  console.log(await loaded.callHandler('reader', {})); // { count: 2 }
}

main().catch((error) => { console.error(error); process.exit(1); });
