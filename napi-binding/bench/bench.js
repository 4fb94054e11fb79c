'use strict';
// Node benchmark: @polybox/node against quickjs-emscripten, isolated-vm and
// node:vm, doing the same work in one run, then programs (NodeRuntime) beside
// secure-exec's published figures. Prints tables (median and p99 of every
// sample, in microseconds) and, with `--json FILE`, writes the figures.
// `node bench.js --quick` for a short run.
//
// secure-exec does not run here: its NodeRuntime (0.3.x) cannot be
// installed (it depends on @secure-exec/core 0.3.3, which is not on npm),
// 0.2.x needs Node.js 22 and has no NodeRuntime, and 0.1.x builds
// isolated-vm 6, which does not compile against Node.js 20's V8. Its
// published figures stand in, marked as such.
//
// The work, for each engine:
//   cold start  new sandbox/context/isolate, load the echo handler, first result;
//   warm echo   call the loaded echo handler with a small JSON event;
//   host call   call a handler that calls one host function (add);
//   64 KiB      the echo of a 64 KiB event (one string of ASCII, then of
//               prose with an em dash every ~45 characters), as a rate.
//
// How each engine is driven, so the figures can be read fairly:
//   @polybox/node       Promise API; every call runs on the addon's worker
//                       threads, host callbacks hop back to the main thread.
//   @polybox/node sync  callHandlerSync: blocks the main thread for the call.
//   quickjs-emscripten  synchronous, on the main thread (QuickJS compiled to wasm
//                       by Emscripten, run by V8); events cross as JSON strings.
//   isolated-vm         Reference#apply (Promise, runs on the isolate's thread);
//                       events cross as JSON strings; the host function is an
//                       ivm.Callback, called synchronously from the isolate.
//   node:vm             a context of Node's own V8, synchronous, on the main
//                       thread (no isolation from the host process: the
//                       floor of what calling into JavaScript costs here).

const { performance } = require('node:perf_hooks');
const { readFileSync, writeFileSync } = require('node:fs');
const { SandboxBuilder, NodeRuntime, Pool, Template, buildTemplate } = require('..'); // @polybox/node, this package
const { getQuickJS } = require('quickjs-emscripten');
const ivm = require('isolated-vm');
const vm = require('node:vm');

const QUICK = process.argv.includes('--quick');
const JSON_FILE = process.argv.includes('--json') ? process.argv[process.argv.indexOf('--json') + 1] : undefined;
const COLD = QUICK ? 30 : 200;
const WARM = QUICK ? 2000 : 20000;
const EVENT = { name: 'World', n: 1 };
const BIG = QUICK ? 200 : 2000;
const PROSE = 'Polybox runs code nobody trusts — written by strangers, or by a model — safely and fast. ';
const BIG_EVENTS = {
  ascii: { blob: 'x'.repeat(64 * 1024) },
  prose: { blob: PROSE.repeat(Math.floor((64 * 1024) / PROSE.length)) },
};

async function sample(count, op) {
  for (let i = 0; i < Math.max(10, count / 20); i++) await op();
  const times = new Array(count);
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await op();
    times[i] = (performance.now() - start) * 1000;
  }
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.ceil(times.length * q) - 1)];
  return { median: at(0.5), p99: at(0.99) };
}

const ECHO = 'function handler(event) { return event; }';
const HOST = 'import * as math from "host:math";\nfunction handler(event) { return math.add(event.n, 41); }';

const polybox = {
  name: '@polybox/node',
  async load() {
    const proto = await new SandboxBuilder().build();
    proto.hostModule('math').register('add', (a, b) => a + b);
    const sandbox = await proto.loadRuntime();
    sandbox.addHandler('echo', ECHO);
    sandbox.addHandler('host', HOST);
    const loaded = await sandbox.getLoadedSandbox();
    return {
      echo: (event = EVENT) => loaded.callHandler('echo', event, { gc: false }),
      host: () => loaded.callHandler('host', EVENT, { gc: false }),
    };
  },
  // Disposed of at the end, as the peers' contexts and isolates are: a
  // sandbox left to the collector holds its memory until then, so the next
  // cannot reuse it (about 380 µs instead of 50 here).
  async cold() {
    const sandbox = await (await new SandboxBuilder().build()).loadRuntime();
    sandbox.addHandler('echo', ECHO);
    const loaded = await sandbox.getLoadedSandbox();
    const value = await loaded.callHandler('echo', EVENT);
    await loaded.dispose();
    return value;
  },
};

// The same sandbox called synchronously: blocking, as isolated-vm's
// applySync is. A JavaScript host function cannot run during such a call
// (it would wait for the blocked thread), so it has no host-call figure.
const polyboxSync = {
  name: '@polybox/node sync',
  async load() {
    const sandbox = await (await new SandboxBuilder().build()).loadRuntime();
    sandbox.addHandler('echo', ECHO);
    const loaded = await sandbox.getLoadedSandbox();
    return { echo: (event = EVENT) => loaded.callHandlerSync('echo', event, { gc: false }), host: null };
  },
  async cold() {
    const sandbox = await (await new SandboxBuilder().build()).loadRuntime();
    sandbox.addHandler('echo', ECHO);
    const loaded = await sandbox.getLoadedSandbox();
    const value = loaded.callHandlerSync('echo', EVENT);
    await loaded.dispose();
    return value;
  },
};

let QuickJS;
const quickjs = {
  name: 'quickjs-emscripten',
  setup(vm) {
    const add = vm.newFunction('add', (a, b) => vm.newNumber(vm.getNumber(a) + vm.getNumber(b)));
    vm.setProp(vm.global, 'add', add);
    add.dispose();
    vm.unwrapResult(vm.evalCode(`${ECHO}\nglobalThis.echo = (json) => JSON.stringify(handler(JSON.parse(json)));
      globalThis.host = (json) => JSON.stringify(add(JSON.parse(json).n, 41));`)).dispose();
    const call = (fn) => (event = EVENT) => {
      const name = vm.getProp(vm.global, fn);
      const arg = vm.newString(JSON.stringify(event));
      const result = vm.unwrapResult(vm.callFunction(name, vm.undefined, arg));
      const value = JSON.parse(vm.getString(result));
      result.dispose();
      arg.dispose();
      name.dispose();
      return value;
    };
    return { echo: call('echo'), host: call('host') };
  },
  async load() {
    QuickJS ??= await getQuickJS();
    return this.setup(QuickJS.newContext());
  },
  async cold() {
    QuickJS ??= await getQuickJS();
    const vm = QuickJS.newContext();
    const value = this.setup(vm).echo();
    vm.dispose();
    return value;
  },
};

const isolated = {
  name: 'isolated-vm',
  async setup(isolate) {
    const context = await isolate.createContext();
    await context.global.set('add', new ivm.Callback((a, b) => a + b));
    await context.eval(`${ECHO}\nglobalThis.echo = (json) => JSON.stringify(handler(JSON.parse(json)));
      globalThis.host = (json) => JSON.stringify(add(JSON.parse(json).n, 41));`);
    const call = async (fn) => {
      const ref = await context.global.get(fn, { reference: true });
      return (event = EVENT) => ref.apply(undefined, [JSON.stringify(event)]).then(JSON.parse);
    };
    return { echo: await call('echo'), host: await call('host'), context };
  },
  async load() {
    return this.setup(new ivm.Isolate({ memoryLimit: 32 }));
  },
  async cold() {
    const isolate = new ivm.Isolate({ memoryLimit: 32 });
    const value = await (await this.setup(isolate)).echo();
    isolate.dispose();
    return value;
  },
};

const nodeVm = {
  name: 'node:vm',
  setup() {
    const context = vm.createContext({ add: (a, b) => a + b });
    vm.runInContext(`${ECHO}\nglobalThis.echo = (json) => JSON.stringify(handler(JSON.parse(json)));
      globalThis.host = (json) => JSON.stringify(add(JSON.parse(json).n, 41));`, context);
    const call = (fn) => {
      const f = context[fn];
      return (event = EVENT) => JSON.parse(f(JSON.stringify(event)));
    };
    return { echo: call('echo'), host: call('host') };
  },
  async load() {
    return this.setup();
  },
  async cold() {
    return this.setup().echo();
  },
};

/** Issue 19's goals for the handler table, in µs (medians). */
const TARGETS = { '@polybox/node': { echo: 10, host: 20 }, '@polybox/node sync': { echo: 4 } };

/**
 * How late a limit lands when the call is waiting for a host callback that
 * never settles: a wall-clock limit of LIMIT_MS, timed from the call to its
 * rejection, minus the limit. (Polybox only: neither peer lets a guest wait
 * for an asynchronous host callback.)
 */
const LIMIT_MS = 20;
async function lateLimit() {
  const proto = await new SandboxBuilder().build();
  proto.hostModule('slow').register('never', () => new Promise(() => {}));
  const sandbox = await proto.loadRuntime();
  sandbox.addHandler('waits', 'import * as host from "host:slow";\nfunction handler() { return host.never(); }');
  const loaded = await sandbox.getLoadedSandbox();
  const snapshot = await loaded.snapshot();
  const late = [];
  for (let i = 0; i < (QUICK ? 10 : 50); i++) {
    const start = performance.now();
    const error = await loaded.callHandler('waits', {}, { wallClockTimeoutMs: LIMIT_MS }).then(() => null, (e) => e);
    late.push(performance.now() - start - LIMIT_MS);
    if (error?.code !== 'ERR_CANCELLED') throw new Error(`the limit did not stop the call: ${error}`);
    await loaded.restore(snapshot);
  }
  late.sort((a, b) => a - b);
  const at = (q) => late[Math.min(late.length - 1, Math.ceil(late.length * q) - 1)];
  return { median: at(0.5), p99: at(0.99), samples: late.length };
}

/** secure-exec's published figures (its README), since it cannot run here. */
const SECURE_EXEC_PUBLISHED = { create: 14300, exec: 3000, rssMiB: 3.1 };

/**
 * Programs: NodeRuntime.create() to a ready runtime, an exec round trip on
 * a warm runtime (a fresh process each time), and the resident memory of
 * idle runtimes (each ran one program).
 */
// hyperlight-bench's three ways to serve requests, with an HTTP-style JSON
// handler, from a template's sandboxes: per strategy, each call's latency from one client, and requests
// per second with 8 calls in flight. Its published p50 figures (8 vCPU AMD
// EPYC, a different machine) are printed beside them.
const HTTP_HANDLER = `function handler(request) {
  const body = JSON.parse(request.body);
  const total = body.items.reduce((sum, item) => sum + item.price * item.quantity, 0);
  return { status: request.path === '/checkout' ? 200 : 404, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ total, currency: body.currency }) };
}`;
const REQUEST = { method: 'POST', path: '/checkout', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ currency: 'EUR', items: [{ price: 3.5, quantity: 2 }, { price: 10, quantity: 1 }] }) };
const HYPERLIGHT_BENCH_P50 = { reuse: '0.31–0.61 ms', restore: '2.14–2.79 ms', new: '61.6–167 ms' };

async function pools() {
  const rows = [];
  for (const strategy of ['reuse', 'restore', 'new']) {
    const template = await Template.build(new SandboxBuilder(), { handlers: { http: HTTP_HANDLER } });
    const pool = await Pool.create(template, { size: 2, strategy });
    const call = () => pool.callHandler('http', REQUEST);
    const count = strategy === 'new' ? COLD : WARM / 4;
    const latency = await sample(count, call);
    const inFlight = 8;
    const start = performance.now();
    let served = 0;
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (served < count) {
        served += 1;
        await call();
      }
    }));
    rows.push({ strategy, latency, perSecond: served / ((performance.now() - start) / 1000) });
    await pool.dispose();
  }
  return rows;
}

/**
 * Templates: a handler template's `create()` to the first result, and
 * isola's lifecycle from a built template: `create()` + `start()` + the
 * first `run()` of a function the template's prelude defined.
 */
async function templates() {
  const template = await Template.build(new SandboxBuilder(), { handlers: { echo: 'function handler(e) { return e; }' } });
  const handler = await sample(COLD, async () => {
    const sandbox = await template.create();
    await sandbox.callHandler('echo', EVENT);
    await sandbox.dispose();
  });
  const isola = await buildTemplate('js', { cacheDir: null, prelude: 'function add(a, b) { return a + b; }' });
  const session = await sample(COLD, async () => {
    const sandbox = await isola.create();
    await sandbox.start();
    if ((await sandbox.run('add', [1, 2])) !== 3) throw new Error('add(1, 2) is not 3');
    sandbox.close();
  });
  return { handler, session };
}

async function programs() {
  const hello = "console.log('hi')";
  const check = (result) => {
    if (result.stdout !== 'hi\n' || result.exitCode !== 0) throw new Error(`exec returned ${JSON.stringify(result)}`);
  };
  const create = await sample(QUICK ? 30 : 200, async () => (await NodeRuntime.create()).dispose());
  const runtime = await NodeRuntime.create();
  check(await runtime.exec(hello));
  const exec = await sample(WARM, async () => check(await runtime.exec(hello)));
  await runtime.dispose();
  // Resident and shared (file) pages: every runtime maps the same program
  // image, whose pages the kernel holds once but counts for every mapping.
  const statm = () => {
    const [, resident, shared] = readFileSync('/proc/self/statm', 'utf8').split(' ').map(Number);
    return { resident: resident * 4096, shared: shared * 4096 };
  };
  const count = 100;
  const before = statm();
  const idle = [];
  for (let i = 0; i < count; i++) {
    const fresh = await NodeRuntime.create();
    check(await fresh.exec(hello));
    idle.push(fresh);
  }
  const after = statm();
  const mib = (bytes) => bytes / count / (1024 * 1024);
  const rssMiB = mib(after.resident - before.resident);
  const privateMiB = rssMiB - mib(after.shared - before.shared);
  await Promise.all(idle.map((r) => r.dispose()));
  return { create, exec, rssMiB, privateMiB };
}

function row(cells, widths) {
  return cells.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join('  ');
}

async function main() {
  const results = [];
  for (const engine of [polybox, polyboxSync, quickjs, isolated, nodeVm]) {
    const loaded = await engine.load();
    // Every engine must do the same work correctly before it is timed.
    const echoed = await loaded.echo();
    const added = loaded.host === null ? 42 : await loaded.host();
    if (JSON.stringify(echoed) !== JSON.stringify(EVENT) || added !== 42) {
      throw new Error(`${engine.name} returned ${JSON.stringify(echoed)} / ${added}`);
    }
    const result = {
      engine: engine.name,
      cold: await sample(COLD, () => engine.cold()),
      echo: await sample(WARM, () => loaded.echo()),
      host: loaded.host === null ? null : await sample(WARM, loaded.host),
      big: {},
      targets: TARGETS[engine.name] ?? null,
    };
    for (const [kind, event] of Object.entries(BIG_EVENTS)) {
      const back = await loaded.echo(event);
      if (back.blob !== event.blob) throw new Error(`${engine.name} changed the ${kind} event`);
      const time = await sample(BIG, () => loaded.echo(event));
      result.big[kind] = { ...time, megabytesPerSecond: JSON.stringify(event).length / time.median };
    }
    results.push(result);
  }
  const fmt = (s) => (s === null ? 'n/a' : `${s.median.toFixed(1)} / ${s.p99.toFixed(1)}`);
  const widths = [20, 28, 24, 24];
  console.log(`Node ${process.version}, ${QUICK ? 'quick' : 'full'} run; median / p99 in µs`);
  console.log(row(['engine', 'cold start (to 1st result)', 'warm echo call', 'call + 1 host call'], widths));
  console.log('-'.repeat(widths.reduce((a, b) => a + b + 2, -2)));
  for (const r of results) console.log(row([r.engine, fmt(r.cold), fmt(r.echo), fmt(r.host)], widths));
  const verdict = (figure, target) => `${figure.median.toFixed(1)} µs, target ≤ ${target} µs: ${figure.median <= target ? 'met' : 'MISSED'}`;
  for (const r of results.filter((r) => r.targets !== null)) {
    const met = Object.entries(r.targets).map(([what, target]) => `${what} ${verdict(r[what], target)}`);
    console.log(`goals, ${r.engine}: ${met.join('; ')}`);
  }
  const bwidths = [20, 30, 30];
  const rate = (s) => `${s.megabytesPerSecond.toFixed(0)} MB/s (${s.median.toFixed(0)} / ${s.p99.toFixed(0)} µs)`;
  console.log('\n64 KiB event echo; event bytes per second (median / p99 in µs)');
  console.log(row(['engine', 'ASCII', 'prose (UTF-16 in JavaScript)'], bwidths));
  console.log('-'.repeat(bwidths.reduce((a, b) => a + b + 2, -2)));
  for (const r of results) console.log(row([r.engine, rate(r.big.ascii), rate(r.big.prose)], bwidths));

  const late = await lateLimit();
  console.log(`\n@polybox/node: a ${LIMIT_MS} ms wall-clock limit with a host callback that never settles ` +
    `rejects ${late.median.toFixed(2)} / ${late.p99.toFixed(2)} ms (median / p99 of ${late.samples}) past the limit (goal: under 5 ms)`);

  const program = await programs();
  const published = SECURE_EXEC_PUBLISHED;
  const pwidths = [34, 24, 26, 20];
  console.log('\nPrograms (secure-exec\'s NodeRuntime API); median / p99 in µs');
  console.log(row(['engine', 'NodeRuntime.create()', "exec(\"console.log('hi')\")", 'memory per runtime'], pwidths));
  console.log('-'.repeat(pwidths.reduce((a, b) => a + b + 2, -2)));
  const memory = `${program.privateMiB.toFixed(2)} MiB (RSS ${program.rssMiB.toFixed(2)})`;
  console.log(row(['@polybox/node', fmt(program.create), fmt(program.exec), memory], pwidths));
  console.log(row(['secure-exec (published, not run)', `${published.create}`, `${published.exec}`, `${published.rssMiB} MB`], pwidths));
  console.log('goals: exec ≤ 100 µs, create() ≤ 1000 µs, ≤ 1 MiB private memory per idle runtime');

  const made = await templates();
  const twidths = [58, 20];
  console.log('\nTemplates; median / p99 in µs');
  console.log(row(['what', 'time'], twidths));
  console.log('-'.repeat(twidths.reduce((a, b) => a + b + 2, -2)));
  console.log(row(['Template: create() + first callHandler', fmt(made.handler)], twidths));
  console.log(row(["isola API: create() + start() + first run() (goal ≤ 300)", fmt(made.session)], twidths));

  const pooled = await pools();
  const qwidths = [10, 24, 20, 34];
  console.log('\nPools (hyperlight-bench\'s strategies, an HTTP-style JSON handler, 2 sandboxes); median / p99 in µs');
  console.log(row(['strategy', 'call from one client', 'requests/s, 8 in flight', 'hyperlight-bench p50 (published)'], qwidths));
  console.log('-'.repeat(qwidths.reduce((a, b) => a + b + 2, -2)));
  for (const r of pooled) console.log(row([r.strategy, fmt(r.latency), r.perSecond.toFixed(0), HYPERLIGHT_BENCH_P50[r.strategy]], qwidths));

  if (JSON_FILE !== undefined) {
    const figures = { node: process.version, mode: QUICK ? 'quick' : 'full', handlers: results, lateLimitMs: late, programs: program, secureExecPublished: published, templates: made, pools: pooled, hyperlightBenchPublishedP50: HYPERLIGHT_BENCH_P50 };
    writeFileSync(JSON_FILE, `${JSON.stringify(figures, null, 2)}\n`);
    console.log(`wrote ${JSON_FILE}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
