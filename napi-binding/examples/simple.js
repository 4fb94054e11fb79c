// Basic "Hello World": the sandbox lifecycle from builder to result.
const { SandboxBuilder } = require('@polybox/node');

async function main() {
  const protoSandbox = await new SandboxBuilder().build();
  const jsSandbox = await protoSandbox.loadRuntime();
  // The first argument is a routing key; the function must be named `handler`.
  jsSandbox.addHandler('greet', `
    function handler(event) {
      event.message = 'Hello, ' + event.name + '!';
      return event;
    }
  `);
  const loadedSandbox = await jsSandbox.getLoadedSandbox();
  const result = await loadedSandbox.callHandler('greet', { name: 'World' });
  console.log(result); // { name: 'World', message: 'Hello, World!' }
}

main().catch((error) => { console.error(error); process.exit(1); });
