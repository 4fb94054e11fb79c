// JSON event processing with multiple operations.
const { SandboxBuilder } = require('@polybox/node');

async function main() {
  const sandbox = await (await new SandboxBuilder().build()).loadRuntime();
  sandbox.addHandler('calculate', `
    const operations = {
      add: (a, b) => a + b,
      subtract: (a, b) => a - b,
      multiply: (a, b) => a * b,
      divide: (a, b) => {
        if (b === 0) throw new RangeError('division by zero');
        return a / b;
      },
    };
    function handler(event) {
      const operation = operations[event.operation];
      if (!operation) throw new TypeError('unknown operation ' + event.operation);
      return { ...event, result: operation(event.a, event.b) };
    }
  `);
  const loaded = await sandbox.getLoadedSandbox();
  for (const operation of ['add', 'subtract', 'multiply', 'divide']) {
    console.log(await loaded.callHandler('calculate', { operation, a: 84, b: 2 }));
  }
  try {
    await loaded.callHandler('calculate', { operation: 'divide', a: 1, b: 0 });
  } catch (error) {
    console.log(`${error.code}: ${error.message.split('\n')[0]}`);
  }
}

main().catch((error) => { console.error(error); process.exit(1); });
