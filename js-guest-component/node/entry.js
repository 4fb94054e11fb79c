// The Node.js core modules the Polybox guest takes from npm's browser
// ports, as factories: each module is created the first time a program
// loads it. scripts/build-node-polyfills.sh bundles this file, with the
// packages package-lock.json pins, into dist/polyfills.js, which the guest
// evaluates when its runtime starts (so the parsing is in the image every
// program starts from, and costs a program nothing).
module.exports = {
  assert: () => require('assert/'),
  buffer: () => require('buffer/'),
  events: () => require('events/'),
  inspect: () => require('node-inspect-extracted'),
  path: () => require('path-browserify'),
  querystring: () => require('querystring-es3'),
  string_decoder: () => require('string_decoder/'),
  url: () => require('url/'),
  util: () => require('util/'),
};
