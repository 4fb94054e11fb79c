// The web globals every guest has beyond what QuickJS provides (besides
// `URL`, `url.js`): URLSearchParams, structuredClone, Event, EventTarget, AbortController and
// AbortSignal, and fetch's Headers, Request, Response, ReadableStream, Blob,
// File and FormData (npm's implementations, node/web.js and node/fetch.js). They cost nothing until a script
// uses one: each is a getter that, the first time any of the first group
// is read, evaluates the bundle and replaces that group with its values;
// each of fetch's is made on its own first use. Evaluated once as a
// function of the native `loadWeb()`.
(function (natives) {
  "use strict";

  const NAMES = ["AbortController", "AbortSignal", "Event", "EventTarget", "structuredClone", "URLSearchParams"];
  const ON_USE = ["Blob", "File", "FormData", "Headers", "ReadableStream", "Request", "Response"];
  const define = (name, value) =>
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true });
  let factories;
  let fetchClasses;

  function load() {
    if (factories !== undefined) return;
    // The implementations look for native ones on the global object as
    // they start: there must be none then.
    for (const name of NAMES) delete globalThis[name];
    factories = natives.loadWeb();
    for (const name of NAMES) define(name, factories[name]());
    // core-js keeps its shared store on the global object; its modules
    // hold it by now, and the globals are the script's.
    delete globalThis["__core-js_shared__"];
  }

  for (const name of ON_USE) {
    Object.defineProperty(globalThis, name, {
      get() {
        // whatwg-fetch looks for URLSearchParams and AbortController.
        load();
        fetchClasses ??= natives.loadFetch();
        delete globalThis[name];
        define(name, fetchClasses[name]);
        return globalThis[name];
      },
      set(value) {
        define(name, value);
      },
      configurable: true,
    });
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
