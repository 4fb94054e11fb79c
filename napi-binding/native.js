'use strict';
// Loads the native addon: the workspace's cargo build makes it as
// libpolybox_node.so, and `make node` copies it here under this platform's
// name. Only x86_64 Linux (glibc) is built today.

const { join } = require('node:path');

const file = `polybox.${process.platform}-${process.arch}-gnu.node`;
try {
  module.exports = require(join(__dirname, file));
} catch (error) {
  const supported = process.platform === 'linux' && process.arch === 'x64';
  const reason = supported ? 'it is not built yet: run `make node` in the repository' : 'only x86_64 Linux is supported';
  throw new Error(`@polybox/node cannot load its native addon ${file} (${reason}): ${error.message}`);
}
