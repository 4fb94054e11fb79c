// Node's module resolution over the sandbox's files: what a program's
// `import` and `require` find besides core modules. Relative and absolute
// specifiers name files (`./lib.js`, `../x`, with Node's extension and
// `index` fallbacks for `require`); bare ones (`lodash`, `@scope/pkg/sub`)
// are looked up in `node_modules` directories from the importing file's
// directory up to `/`, and a package is entered through its `package.json`
// (`exports` with the conditions `import`/`require`, `node`, `default`;
// else `main`, `module`, `index.js`). A `.js` file is CommonJS unless the
// nearest `package.json` says `"type": "module"` (or, without a type, it
// parses only as a module, Node 22's rule); `.mjs` is a module, `.cjs`
// CommonJS, `.json` data.
//
// Files are read with the host's `load` operation: the host decides each
// read (a module root may be importable without being readable by `fs`).
//
// Evaluated once as a function of the host call and the native that
// compiles a CommonJS wrapper; returns a maker that the process calls with
// what it needs of the core modules.
(function (call, compileCommonJs) {
  "use strict";

  return function makeModules({ path, core }) {
    const CJS_PREFIX = "node:cjs:";

    function host(operation, args) {
      return JSON.parse(call(operation, JSON.stringify(args)));
    }
    const kindOf = (file) => {
      const answer = host("stat", [file, true]);
      return "ok" in answer ? answer.ok.type : undefined;
    };
    const isFile = (file) => kindOf(file) === "file";
    const isDir = (file) => kindOf(file) === "dir";

    function read(file) {
      const answer = host("load", [file]);
      if ("err" in answer) {
        const error = new Error(`${answer.err.code}: cannot load '${file}'${answer.err.code === "EACCES" ? " (denied by the sandbox's permissions)" : ""}`);
        error.code = answer.err.code;
        error.path = file;
        throw error;
      }
      return answer.ok;
    }

    // One process's caches: package.json files, CommonJS modules.
    const packages = new Map();
    const cjsCache = new Map();

    function packageJson(dir) {
      if (!packages.has(dir)) {
        const file = path.join(dir, "package.json");
        let pkg = null;
        if (isFile(file)) {
          try {
            pkg = JSON.parse(read(file));
          } catch (error) {
            const failure = new Error(`Invalid package config ${file}: ${error.message}`);
            failure.code = "ERR_INVALID_PACKAGE_CONFIG";
            throw failure;
          }
        }
        packages.set(dir, pkg);
      }
      return packages.get(dir);
    }

    // The nearest package.json's `type` for a file.
    function packageType(file) {
      for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
        if (path.basename(dir) === "node_modules") return undefined;
        const pkg = packageJson(dir);
        if (pkg !== null) return pkg.type;
        if (dir === "/") return undefined;
      }
    }

    // CommonJS wrappers compiled while deciding a file's format.
    const compiled = new Map();

    // "esm", "cjs" or "json" for a resolved file.
    function formatOf(file, source) {
      if (file.endsWith(".mjs")) return "esm";
      if (file.endsWith(".cjs")) return "cjs";
      if (file.endsWith(".json")) return "json";
      const type = packageType(file);
      if (type === "module") return "esm";
      if (type === "commonjs") return "cjs";
      // As Node.js 22 decides: CommonJS, unless only a module parses.
      try {
        compiled.set(file, compileCommonJs(source ?? read(file), file));
        return "cjs";
      } catch (error) {
        if (error instanceof SyntaxError) return "esm";
        throw error;
      }
    }

    function asFile(file) {
      for (const candidate of [file, `${file}.js`, `${file}.json`, `${file}.mjs`, `${file}.cjs`]) {
        if (isFile(candidate)) return candidate;
      }
      return undefined;
    }

    function asDirectory(dir, conditions) {
      if (!isDir(dir)) return undefined;
      const pkg = packageJson(dir);
      for (const main of conditions.includes("import") ? [pkg?.main, pkg?.module] : [pkg?.main]) {
        if (typeof main !== "string") continue;
        const found = asFile(path.join(dir, main)) ?? asIndex(path.join(dir, main));
        if (found) return found;
      }
      return asIndex(dir);
    }

    function asIndex(dir) {
      for (const index of ["index.js", "index.json", "index.mjs", "index.cjs"]) {
        const candidate = path.join(dir, index);
        if (isFile(candidate)) return candidate;
      }
      return undefined;
    }

    // The target `exports` maps `subpath` ("." or "./x") to, under
    // `conditions`; null when the package does not export it.
    function exportsTarget(exports, subpath, conditions) {
      const isConditions = (value) =>
        value !== null && typeof value === "object" && !Array.isArray(value) &&
        Object.keys(value).every((key) => !key.startsWith("."));
      if (typeof exports === "string" || Array.isArray(exports) || isConditions(exports)) {
        exports = { ".": exports };
      }
      if (exports === null || typeof exports !== "object") return null;
      if (Object.hasOwn(exports, subpath)) return target(exports[subpath], conditions, undefined);
      let best = null;
      for (const key of Object.keys(exports)) {
        const star = key.indexOf("*");
        if (star < 0) continue;
        const [prefix, suffix] = [key.slice(0, star), key.slice(star + 1)];
        if (subpath.startsWith(prefix) && subpath.endsWith(suffix) && subpath.length >= key.length - 1) {
          if (best === null || prefix.length > best.prefix.length) {
            best = { key, prefix, match: subpath.slice(prefix.length, subpath.length - suffix.length) };
          }
        }
      }
      return best === null ? null : target(exports[best.key], conditions, best.match);
    }

    function target(value, conditions, match) {
      if (typeof value === "string") return match === undefined ? value : value.replaceAll("*", match);
      if (Array.isArray(value)) {
        for (const item of value) {
          const found = target(item, conditions, match);
          if (found !== null) return found;
        }
        return null;
      }
      if (value !== null && typeof value === "object") {
        for (const [key, inner] of Object.entries(value)) {
          if (key === "default" || conditions.includes(key)) {
            const found = target(inner, conditions, match);
            if (found !== null) return found;
          }
        }
      }
      return null;
    }

    function fromPackage(specifier, baseDir, conditions) {
      const parts = specifier.split("/");
      const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
      const subpath = specifier.slice(name.length);
      for (let dir = baseDir; ; dir = path.dirname(dir)) {
        const pkgDir = path.join(dir, "node_modules", name);
        if (path.basename(dir) !== "node_modules" && isDir(pkgDir)) {
          const pkg = packageJson(pkgDir);
          if (pkg !== null && pkg.exports !== undefined) {
            const mapped = exportsTarget(pkg.exports, `.${subpath}`, conditions);
            if (mapped === null) {
              const error = new Error(`Package subpath '.${subpath}' is not defined by "exports" in ${pkgDir}/package.json`);
              error.code = "ERR_PACKAGE_PATH_NOT_EXPORTED";
              throw error;
            }
            const file = path.join(pkgDir, mapped);
            if (isFile(file)) return file;
            return undefined;
          }
          return subpath ? asFile(pkgDir + subpath) ?? asDirectory(pkgDir + subpath, conditions) : asDirectory(pkgDir, conditions);
        }
        if (dir === "/") return undefined;
      }
    }

    // The file `specifier` names from `baseDir`, or undefined.
    function findFile(specifier, baseDir, conditions) {
      if (specifier.startsWith("file://")) specifier = decodeURIComponent(new URL(specifier).pathname);
      if (specifier === "." || specifier === ".." || /^\.{0,2}\//.test(specifier)) {
        const full = path.resolve(baseDir, specifier);
        return asFile(full) ?? asDirectory(full, conditions);
      }
      if (/^[a-z][a-z0-9+.-]*:/i.test(specifier) || specifier.startsWith("#")) return undefined;
      return fromPackage(specifier, baseDir, conditions);
    }

    const baseDirOf = (base) => {
      const file = base.startsWith(CJS_PREFIX) ? base.slice(CJS_PREFIX.length) : base;
      return file.startsWith("/") ? path.dirname(file) : "/";
    };

    function notFound(specifier, code, from) {
      const error = new Error(
        code === "MODULE_NOT_FOUND"
          ? `Cannot find module '${specifier}'${from ? `\nRequire stack:\n- ${from}` : ""}`
          : `Cannot find ${/^[.\/]|^file:/.test(specifier) ? "module" : "package"} '${specifier}' imported from ${from}`,
      );
      error.code = code;
      return error;
    }

    // ---- import ----------------------------------------------------------

    // The module name an ES module import of `specifier` by `base` resolves
    // to: `node:x` for a core module, the file's path for a module or JSON
    // file, `node:cjs:<path>` for a CommonJS file.
    function resolveImport(specifier, base) {
      const name = core.name(specifier);
      if (name !== undefined) {
        if (core.has(name)) return `node:${name}`;
        throw core.notFound(specifier, "ERR_MODULE_NOT_FOUND", base);
      }
      const file = findFile(specifier, baseDirOf(base), ["import", "node", "module"]);
      if (file === undefined) throw notFound(specifier, "ERR_MODULE_NOT_FOUND", base);
      return formatOf(file) === "cjs" ? CJS_PREFIX + file : file;
    }

    // The source of module `name` (a file path, or `node:cjs:<path>`).
    function moduleSource(name) {
      if (name.startsWith(CJS_PREFIX)) {
        return core.exportsSource(name, requireFile(name.slice(CJS_PREFIX.length)));
      }
      const source = read(name);
      if (formatOf(name, source) === "json") {
        return `export default JSON.parse(${JSON.stringify(source)});`;
      }
      return source;
    }

    // ---- require ---------------------------------------------------------

    function requireFile(file) {
      const cached = cjsCache.get(file);
      if (cached !== undefined) return cached.exports;
      const source = read(file);
      const format = formatOf(file, source);
      if (format === "json") {
        const module = { exports: JSON.parse(source), filename: file, id: file, loaded: true };
        cjsCache.set(file, module);
        return module.exports;
      }
      if (format === "esm") {
        const error = new Error(`require() of ES Module ${file} not supported: use import`);
        error.code = "ERR_REQUIRE_ESM";
        throw error;
      }
      const module = { exports: {}, filename: file, id: file, loaded: false, children: [], paths: [] };
      cjsCache.set(file, module);
      try {
        const wrapper = compiled.get(file) ?? compileCommonJs(source, file);
        compiled.delete(file);
        wrapper.call(module.exports, module.exports, requireFor(file), module, file, path.dirname(file));
      } catch (error) {
        cjsCache.delete(file);
        throw error;
      }
      module.loaded = true;
      return module.exports;
    }

    // The `require` of the CommonJS module at `filename`.
    function requireFor(filename) {
      const baseDir = path.dirname(filename);
      function resolve(specifier) {
        if (typeof specifier !== "string") {
          const error = new TypeError(`The "id" argument must be of type string. Received ${typeof specifier}`);
          error.code = "ERR_INVALID_ARG_TYPE";
          throw error;
        }
        const name = core.name(specifier);
        if (name !== undefined) {
          if (core.has(name)) return specifier;
          throw core.notFound(specifier, "MODULE_NOT_FOUND");
        }
        const file = findFile(specifier, baseDir, ["require", "node"]);
        if (file === undefined) throw notFound(specifier, "MODULE_NOT_FOUND", filename);
        return file;
      }
      function require(specifier) {
        const resolved = resolve(specifier);
        const name = core.name(resolved);
        return name !== undefined ? core.load(name) : requireFile(resolved);
      }
      require.resolve = resolve;
      require.cache = Object.create(null);
      return require;
    }

    return { resolveImport, moduleSource, requireFor, requireFile, CJS_PREFIX };
  };
})
