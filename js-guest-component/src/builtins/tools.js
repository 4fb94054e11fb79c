// The global `tools`: `await tools.name(input)` calls the host's tool
// `name` (served as `host:tools`, see host/src/capability/tools/), which
// checks the sandbox's permissions and the input's schema before it runs.
// A method exists for any name; calling one the host does not have fails
// with the host's error. Evaluated once as a function of the native
// `call(module, function, args)`.
(function (natives) {
  "use strict";

  const methods = new Map();
  const tools = new Proxy(Object.freeze(Object.create(null)), {
    get(_, name) {
      if (typeof name !== "string" || name === "then") return undefined;
      if (!methods.has(name)) {
        methods.set(name, async (input = {}) => natives.call("host:tools", name, [input]));
      }
      return methods.get(name);
    },
    has: () => false,
    set: () => false,
    defineProperty: () => false,
  });
  Object.defineProperty(globalThis, "tools", { value: tools, writable: true, configurable: true });
})
