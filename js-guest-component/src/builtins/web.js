// The web globals every guest has beyond what QuickJS provides: URL,
// URLSearchParams, structuredClone, Event, EventTarget, AbortController and
// AbortSignal (npm's implementations, node/web.js). They cost nothing
// until a script uses one: each is a getter that, the first time any of
// them is read, evaluates the bundle and replaces them all with their
// values. Evaluated once as a function of the native `loadWeb()`.
(function (natives) {
  "use strict";

  const NAMES = ["AbortController", "AbortSignal", "Event", "EventTarget", "structuredClone", "URL", "URLSearchParams"];
  const define = (name, value) =>
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true });
  let loaded = false;

  function load() {
    if (loaded) return;
    loaded = true;
    // The implementations look for native ones on the global object as
    // they start: there must be none then.
    for (const name of NAMES) delete globalThis[name];
    const factories = natives.loadWeb();
    for (const name of NAMES) define(name, factories[name]());
    // core-js keeps its shared store on the global object; its modules
    // hold it by now, and the globals are the script's.
    delete globalThis["__core-js_shared__"];
  }

  for (const name of NAMES) {
    Object.defineProperty(globalThis, name, {
      get() {
        load();
        return globalThis[name];
      },
      set(value) {
        load();
        define(name, value);
      },
      configurable: true,
    });
  }
})
