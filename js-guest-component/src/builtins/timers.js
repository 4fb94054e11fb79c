// Timers for every guest, handlers and programs: `setTimeout`,
// `setInterval`, `setImmediate`, their `clear*`, the queue of
// `process.nextTick`, and `timers/promises`. They take real time: whoever
// runs the event loop (a program's runner, a handler call) asks `nextWake()`
// when the guest must run next, waits through the host until then, and
// calls `turn()`. Evaluated once as a function of the natives `nowNs()`
// and `scheduled()`, which tells the runtime that something now waits.
(function (natives) {
  "use strict";

  const describe = (value) =>
    typeof value === "string" ? `'${value}'` : typeof value === "function" ? "function" : String(value);

  // Pending timers in a binary heap ordered by (due time, creation order).
  // Each timer knows its place in the heap (`_index`, -1 when not in it),
  // so clearing or refreshing one takes it out at once: a cleared timer
  // holds no memory, whatever a program schedules and clears.
  const heap = [];
  let sequence = 0;
  let nextId = 1;
  // Timers whose id was taken as a number (`+timer`), by id, so that
  // `clearTimeout(id)` finds them (as in Node.js).
  const byId = new Map();
  const immediates = [];
  const ticks = [];

  const before = (a, b) => a._when < b._when || (a._when === b._when && a._seq < b._seq);
  function place(timer, i) {
    heap[i] = timer;
    timer._index = i;
  }
  function siftUp(i) {
    const timer = heap[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(timer, heap[parent])) break;
      place(heap[parent], i);
      i = parent;
    }
    place(timer, i);
  }
  function siftDown(i) {
    const timer = heap[i];
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let next = l < heap.length && before(heap[l], timer) ? l : i;
      if (r < heap.length && before(heap[r], next === i ? timer : heap[next])) next = r;
      if (next === i) break;
      place(heap[next], i);
      i = next;
    }
    place(timer, i);
  }
  function schedule(timer) {
    natives.scheduled();
    timer._when = nowMs() + timer._delay;
    timer._seq = sequence++;
    heap.push(timer);
    siftUp(heap.length - 1);
  }
  function unschedule(timer) {
    const i = timer._index;
    if (i < 0) return;
    timer._index = -1;
    const last = heap.pop();
    if (i < heap.length) {
      place(last, i);
      siftUp(i);
      siftDown(last._index);
    }
  }

  const nowMs = () => Number(natives.nowNs()) / 1e6;

  // What keeps the program alive while it is pending, unless `unref`ed.
  class Handle {
    constructor() {
      this._ref = true;
    }
    ref() {
      this._ref = true;
      return this;
    }
    unref() {
      this._ref = false;
      return this;
    }
    hasRef() {
      return this._ref;
    }
  }

  class Timeout extends Handle {
    constructor(callback, delay, args, repeat) {
      super();
      this._callback = callback;
      this._args = args.length > 0 ? args : undefined;
      this._delay = delay;
      this._repeat = repeat;
      this._index = -1;
      this._when = 0;
      this._seq = 0;
      this._id = 0;
      schedule(this);
    }
    refresh() {
      if (this._index >= 0) {
        unschedule(this);
        schedule(this);
      }
      return this;
    }
    close() {
      clearTimeout(this);
      return this;
    }
    [Symbol.toPrimitive]() {
      if (this._id === 0) {
        this._id = nextId++;
        byId.set(this._id, this);
      }
      return this._id;
    }
  }

  function delayOf(ms) {
    const delay = Number(ms);
    return delay >= 1 && delay <= 2147483647 ? delay : 1;
  }
  function callable(callback) {
    if (typeof callback !== "function") {
      const error = new TypeError(`The "callback" argument must be of type function. Received ${describe(callback)}`);
      error.code = "ERR_INVALID_ARG_TYPE";
      throw error;
    }
    return callback;
  }
  function setTimeout(callback, ms, ...args) {
    return new Timeout(callable(callback), delayOf(ms), args, false);
  }
  function setInterval(callback, ms, ...args) {
    return new Timeout(callable(callback), delayOf(ms), args, true);
  }
  function clearTimeout(timer) {
    const found = timer instanceof Timeout ? timer : byId.get(Number(timer));
    if (!found) return;
    unschedule(found);
    if (found._id !== 0) byId.delete(found._id);
  }
  class Immediate extends Handle {
    constructor(callback, args) {
      super();
      this._callback = callback;
      this._args = args.length > 0 ? args : undefined;
      this._cleared = false;
    }
  }
  function setImmediate(callback, ...args) {
    const immediate = new Immediate(callable(callback), args);
    natives.scheduled();
    immediates.push(immediate);
    return immediate;
  }
  function clearImmediate(immediate) {
    if (immediate instanceof Immediate) immediate._cleared = true;
  }
  function call(callback, args) {
    if (args === undefined) callback();
    else callback(...args);
  }

  // Runs the callbacks `process.nextTick` queued (and those they queue).
  function runTicks() {
    while (ticks.length > 0) {
      const [callback, args] = ticks.shift();
      call(callback, args);
    }
  }

  function abortError(signal) {
    const error = new Error("The operation was aborted", { cause: signal.reason });
    error.name = "AbortError";
    error.code = "ABORT_ERR";
    return error;
  }

  // Settles after `schedule`'s callback runs with `value`, or rejects when
  // `signal` aborts.
  function delayed(schedule, cancel, value, options = {}) {
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        cancel(timer);
        reject(abortError(signal));
      };
      const timer = schedule(() => {
        signal?.removeEventListener?.("abort", onAbort);
        resolve(value);
      });
      if (options.ref === false) timer.unref();
      signal?.addEventListener?.("abort", onAbort, { once: true });
    });
  }

  const promises = {
    setTimeout: (delay, value, options) =>
      delayed((done) => setTimeout(done, delay), clearTimeout, value, options),
    setImmediate: (value, options) => delayed((done) => setImmediate(done), clearImmediate, value, options),
    async *setInterval(delay, value, options = {}) {
      for (;;) {
        yield await promises.setTimeout(delay, value, options);
      }
    },
    scheduler: {
      wait: (delay, options) => promises.setTimeout(delay, undefined, options),
      yield: () => promises.setImmediate(),
    },
  };

  return {
    functions: {
      setTimeout,
      setInterval,
      setImmediate,
      clearTimeout,
      clearInterval: clearTimeout,
      clearImmediate,
    },
    promises,

    // Queues `callback(...args)` to run before promise jobs.
    nextTick(callback, ...args) {
      ticks.push([callable(callback), args.length > 0 ? args : undefined]);
      natives.scheduled();
    },

    // Runs what is due: queued ticks, then timers whose time has come (with
    // the ticks and jobs each queues), then the immediates queued before
    // this turn; stops early once `stopped()`.
    turn(runJobs, stopped) {
      runTicks();
      runJobs();
      const now = nowMs();
      while (heap.length > 0 && heap[0]._when <= now && !stopped()) {
        const timer = heap[0];
        unschedule(timer);
        if (timer._repeat) schedule(timer);
        else if (timer._id !== 0) byId.delete(timer._id);
        call(timer._callback, timer._args);
        runTicks();
        runJobs();
      }
      const due = immediates.splice(0, immediates.length);
      for (const immediate of due) {
        if (stopped()) break;
        if (immediate._cleared) continue;
        call(immediate._callback, immediate._args);
        runTicks();
        runJobs();
      }
    },

    // When the guest needs to run next, in monotonic nanoseconds: 0 for
    // now, -1 when nothing keeps it alive (timers that are `unref`ed do not).
    nextWake() {
      if (ticks.length > 0 || immediates.some((i) => !i._cleared && i._ref)) return 0;
      if (heap.length === 0) return -1;
      if (heap[0]._ref) return Math.ceil(heap[0]._when * 1e6);
      const kept = heap.some((timer) => timer._ref);
      // An unref'ed timer that is due first still runs while something
      // else keeps the guest alive.
      return kept ? Math.ceil(heap[0]._when * 1e6) : -1;
    },

    // Drops everything scheduled.
    abandon() {
      for (const timer of heap) timer._index = -1;
      heap.length = 0;
      byId.clear();
      immediates.length = 0;
      ticks.length = 0;
    },
  };
})
