// Host functions: sync and async callbacks, spread arguments, errors, and the
// register() shorthand.
const { SandboxBuilder } = require('@polybox/node');

async function main() {
  const proto = await new SandboxBuilder().build();

  // Sync: arguments are spread, the result is JSON-stringified.
  const math = proto.hostModule('math');
  math.register('add', (a, b) => a + b);
  math.register('multiply', (a, b) => a * b);

  // Async: the guest blocks until the Promise settles; the event loop stays free.
  proto.hostModule('api').register('fetchUser', async (userId) => {
    await new Promise((resolve) => setTimeout(resolve, 10));
    return { id: userId, name: 'Alice' };
  });

  // A throw reaches the guest as a catchable exception.
  proto.hostModule('auth').register('validate', (token) => {
    if (!token) throw new Error('Token is required');
    return { valid: true };
  });

  // Shorthand.
  proto.register('strings', 'upper', (s) => s.toUpperCase());

  const sandbox = await proto.loadRuntime();
  sandbox.addHandler('handler', `
    import * as math from "host:math";
    import * as api from "host:api";
    import * as auth from "host:auth";
    import { upper } from "host:strings";
    function handler(event) {
      let auth_result;
      try { auth_result = auth.validate(event.token); } catch (e) { auth_result = { error: e.message }; }
      return {
        sum: math.add(event.a, event.b),
        product: math.multiply(event.a, event.b),
        user: api.fetchUser(42),
        shout: upper('hello'),
        auth: auth_result,
      };
    }
  `);
  const loaded = await sandbox.getLoadedSandbox();
  console.log(await loaded.callHandler('handler', { a: 10, b: 32 }));
}

main().catch((error) => { console.error(error); process.exit(1); });
