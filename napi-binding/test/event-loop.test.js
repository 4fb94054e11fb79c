'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { loadSandbox } = require('./helpers');

test('the event loop stays free while a handler runs for 200 ms', async () => {
  const loaded = await loadSandbox({
    busy: 'function handler() { const end = Date.now() + 200; while (Date.now() < end) {} return "done"; }',
  });
  let ticks = 0;
  const interval = setInterval(() => { ticks += 1; }, 10);
  const result = await loaded.callHandler('busy', {});
  clearInterval(interval);
  assert.equal(result, 'done');
  // A blocked loop would fire at most once, after the call.
  assert.ok(ticks >= 5, `the interval fired only ${ticks} times during the call`);
});
