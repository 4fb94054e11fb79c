// The web globals every Polybox guest has (handlers and programs) beyond
// what QuickJS provides (and beyond `URL`, which the guest parses natively), from npm's well-kept implementations, as
// factories. scripts/build-node-polyfills.sh bundles this file into
// dist/web.js; the guest evaluates it the first time a script uses one of
// them (see builtins/web.js).
const { AbortController, AbortSignal } = require('abortcontroller-polyfill/dist/cjs-ponyfill');
const { Event, EventTarget } = require('event-target-shim');

module.exports = {
  AbortController: () => AbortController,
  AbortSignal: () => AbortSignal,
  Event: () => Event,
  EventTarget: () => EventTarget,
  structuredClone: () => require('@ungap/structured-clone').default,
  URLSearchParams: () => require('core-js-pure/actual/url-search-params'),
};
