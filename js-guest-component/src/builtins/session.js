// Sessions (isola's guest API, see host/src/session/): scripts loaded into
// one global scope, and their functions called by name with positional and
// keyword arguments. What a call produces goes to the host as records on
// the process's events stream (fd 3), one JSON line each: `{"result": v}`
// per value a generator yields, then `{"end": v}` or `{"error": message}`.
// Evaluated once as a function of the natives: `call(module, function,
// args)` (the host bridge) and `emit(line)`.
(function (natives) {
  "use strict";

  const emit = (record) => natives.emit(`${JSON.stringify(record)}\n`);

  // A value as JSON: `undefined` is null; what JSON cannot hold (a BigInt,
  // a cycle) is a TypeError naming what it is.
  function json(value, what) {
    try {
      return JSON.parse(JSON.stringify(value === undefined ? null : value) ?? "null");
    } catch (error) {
      throw new TypeError(`the ${what} cannot be sent to the host as JSON: ${error.message}`);
    }
  }

  // The names of a function's parameters, in order, from its source; null
  // where a parameter has none (destructured) and from a rest parameter on.
  function parameterNames(fn) {
    const source = Function.prototype.toString.call(fn);
    const arrow = /^\s*(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(source);
    if (arrow) return [arrow[1]];
    const open = source.indexOf("(");
    if (open < 0) return [];
    const names = [];
    let depth = 0;
    let current = "";
    let quote = null;
    for (let i = open + 1; i < source.length; i++) {
      const c = source[i];
      current += c;
      if (quote) {
        if (c === "\\") current += source[++i] ?? "";
        else if (c === quote) quote = null;
      } else if (c === '"' || c === "'" || c === "`") {
        quote = c;
      } else if (c === "(" || c === "[" || c === "{") {
        depth++;
      } else if (c === ")" && depth === 0) {
        names.push(current.slice(0, -1));
        break;
      } else if (c === ")" || c === "]" || c === "}") {
        depth--;
      } else if (c === "," && depth === 0) {
        names.push(current.slice(0, -1));
        current = "";
      }
    }
    const result = [];
    for (const raw of names) {
      const text = raw.trim();
      if (text === "") continue;
      if (text.startsWith("...")) break;
      const name = /^([A-Za-z_$][\w$]*)/.exec(text);
      result.push(name ? name[1] : null);
    }
    return result;
  }

  // The positional arguments of a call with `args` and keyword `kwargs`.
  function bind(name, fn, args, kwargs) {
    const positional = args.slice();
    const keys = Object.keys(kwargs);
    if (keys.length === 0) return positional;
    const names = parameterNames(fn);
    for (const key of keys) {
      const index = names.indexOf(key);
      if (index < 0) throw new TypeError(`${name}() got an unexpected keyword argument '${key}'`);
      if (index < args.length) throw new TypeError(`${name}() got multiple values for argument '${key}'`);
      positional[index] = kwargs[key];
    }
    return positional;
  }

  const isIterator = (value) => {
    const tag = Object.prototype.toString.call(value);
    return tag === "[object Generator]" || tag === "[object AsyncGenerator]";
  };

  // An error as its report: its stack (as Node.js writes it) down to the
  // frames of this file, which are the session's, not the user's.
  function describe(error) {
    if (error instanceof Error) {
      const header = `${error.name}: ${error.message}`;
      if (typeof error.stack !== "string") return header;
      const frames = [];
      for (const line of error.stack.split("\n")) {
        if (line.includes("polybox:session")) break;
        if (line.trimStart().startsWith("at ")) frames.push(line);
      }
      return [header, ...frames].join("\n");
    }
    try {
      return `Uncaught ${typeof error === "string" ? error : JSON.stringify(error)}`;
    } catch {
      return `Uncaught ${String(error)}`;
    }
  }

  // Calls the function `lookup()` returns (`name` says which) with the
  // arguments `argsJson` and `kwargsJson` hold, each `[slot, id]` of
  // `streams` replaced by that stream, and reports what it produced. Never
  // throws: a failure is an `error` record.
  async function call(name, lookup, argsJson, kwargsJson, streams) {
    try {
      const args = JSON.parse(argsJson);
      const kwargs = JSON.parse(kwargsJson);
      for (const [slot, id] of streams) {
        if (typeof slot === "number") args[slot] = stream(id);
        else kwargs[slot] = stream(id);
      }
      let fn;
      try {
        fn = lookup();
      } catch (error) {
        if (error instanceof ReferenceError) throw new ReferenceError(`${name} is not defined`);
        throw error;
      }
      if (typeof fn !== "function") throw new TypeError(`${name} is not a function`);
      let value = fn(...bind(name, fn, args, kwargs));
      if (isIterator(value)) {
        const iterator = value;
        for (;;) {
          const step = await iterator.next();
          if (step.done) {
            value = step.value;
            break;
          }
          emit({ result: json(step.value, "yielded value") });
        }
      } else {
        value = await value;
      }
      emit({ end: json(value, "result") });
    } catch (error) {
      emit({ error: describe(error) });
    }
  }

  // Streamed arguments: an async iterable pulling each item from the host
  // (`hostcall("__stream", { id })` answers `{ done, value }`).
  function stream(id) {
    return {
      [Symbol.asyncIterator]() {
        return {
          async next() {
            const step = await hostcall("__polybox_stream", { id });
            if (step && step.error !== undefined) throw new Error(step.error);
            return { done: Boolean(step && step.done), value: step ? step.value : undefined };
          },
          async return() {
            return { done: true, value: undefined };
          },
        };
      },
    };
  }

  // Makes `hostcall(name, payload)` a global: the host's hostcall `name`
  // (see host/src/capability/hostcalls.rs), resolving to what it returns.
  function begin() {
    Object.defineProperty(globalThis, "hostcall", {
      value: async (name, payload) => natives.call("polybox:hostcall", String(name), [payload === undefined ? null : payload]),
      writable: true,
      configurable: true,
    });
  }

  Object.defineProperty(globalThis, "__polybox_session", {
    value: Object.freeze({ call, stream, begin }),
  });
})
