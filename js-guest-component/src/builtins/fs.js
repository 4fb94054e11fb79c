// Node's `fs` and `fs/promises` over the sandbox's filesystem, which the
// host keeps and polices (`host/src/capability/fs/`): every operation is
// one call to the internal host module `polybox:fs`, and the host decides
// it. Nothing here is a check that matters for safety; it only gives the
// host's answers Node's shapes (errors with `code`, `Stats`, `Dirent`).
//
// Evaluated once, as a function of `call(operation, argsJson) -> answerJson`
// (the host call) and the native codecs `encode(bytes, "base64")` and
// `decode(text, "base64")`; returns a maker that the process's module table
// calls the first time a program loads `fs`, with what it needs of the
// process. File contents cross in pieces of at most PIECE bytes, so that no
// call holds a whole large file twice over.
(function (call, encode, decode) {
  "use strict";

  const PIECE = 1024 * 1024;

  return function makeFs({ Buffer, path, cwd, EventEmitter, later }) {
    const DESCRIPTIONS = {
      EACCES: "permission denied",
      EBUSY: "resource busy or locked",
      EEXIST: "file already exists",
      EFBIG: "file too large",
      EINVAL: "invalid argument",
      EIO: "i/o error",
      EISDIR: "illegal operation on a directory",
      ELOOP: "too many symbolic links encountered",
      ENAMETOOLONG: "name too long",
      ENOENT: "no such file or directory",
      ENOSPC: "no space left on device",
      ENOSYS: "function not implemented",
      ENOTDIR: "not a directory",
      ENOTEMPTY: "directory not empty",
      EPERM: "operation not permitted",
      EROFS: "read-only file system",
      EXDEV: "cross-device link not permitted",
    };
    const ERRNO = {
      EPERM: -1, ENOENT: -2, EIO: -5, EACCES: -13, EBUSY: -16, EEXIST: -17, EXDEV: -18,
      ENOTDIR: -20, EISDIR: -21, EINVAL: -22, EFBIG: -27, ENOSPC: -28, EROFS: -30,
      ENAMETOOLONG: -36, ENOSYS: -38, ENOTEMPTY: -39, ELOOP: -40,
    };

    function fsError(code, syscall, file, dest, detail) {
      const where = dest === undefined ? `'${file}'` : `'${file}' -> '${dest}'`;
      const error = new Error(`${code}: ${DESCRIPTIONS[code] ?? detail ?? "error"}, ${syscall} ${where}`);
      error.errno = ERRNO[code] ?? -5;
      error.code = code;
      error.syscall = syscall;
      error.path = file;
      if (dest !== undefined) error.dest = dest;
      return error;
    }

    function typeError(name, expected, value) {
      const error = new TypeError(`The "${name}" argument must be ${expected}. Received ${value === null ? "null" : typeof value}`);
      error.code = "ERR_INVALID_ARG_TYPE";
      return error;
    }

    // A path argument as Node takes it (a string, a Buffer, a file: URL),
    // absolute against the process's working directory.
    function toPath(file, name = "path") {
      if (typeof file === "string") {
        if (file.includes("\0")) {
          const error = new TypeError(`The argument '${name}' must be a string, Uint8Array, or URL without null bytes. Received '${file}'`);
          error.code = "ERR_INVALID_ARG_VALUE";
          throw error;
        }
        return path.resolve(cwd(), file);
      }
      if (file instanceof Uint8Array) return toPath(Buffer.from(file).toString("utf8"), name);
      if (file !== null && typeof file === "object" && typeof file.href === "string" && file.protocol === "file:") {
        return toPath(decodeURIComponent(file.pathname), name);
      }
      throw typeError(name, "of type string or an instance of Buffer or URL", file);
    }

    // One host operation; throws Node's error for the host's refusal.
    function op(operation, syscall, args, file, dest) {
      return answerOf(call(operation, JSON.stringify(args)), syscall, file, dest);
    }

    function answerOf(text, syscall, file, dest) {
      const answer = JSON.parse(text);
      if ("err" in answer) throw fsError(answer.err.code, syscall, file, dest, answer.err.detail);
      return answer.ok;
    }

    // File contents cross as base64, which needs no escaping in JSON: the
    // arguments and answers that carry them are put together and taken
    // apart around it, not run through QuickJS's (character-at-a-time)
    // JSON codec.
    const OK_TEXT = '{"ok":"';

    const optionsOf = (options, defaults) =>
      typeof options === "string" ? { ...defaults, encoding: options } : { ...defaults, ...(options ?? {}) };

    function toBytes(data, encoding) {
      if (typeof data === "string") return Buffer.from(data, encoding ?? "utf8");
      if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      throw typeError("data", "of type string or an instance of Buffer, TypedArray, or DataView", data);
    }

    // What `Stats` and `Dirent` tell of an entry's type.
    class Typed {
      isFile() { return this._type === "file"; }
      isDirectory() { return this._type === "dir"; }
      isSymbolicLink() { return this._type === "symlink"; }
      isBlockDevice() { return false; }
      isCharacterDevice() { return false; }
      isFIFO() { return false; }
      isSocket() { return false; }
    }

    class Stats extends Typed {
      constructor(info) {
        super();
        const mode = { file: 0o100644, dir: 0o040755, symlink: 0o120777, other: 0o010644 }[info.type];
        this.dev = 0;
        this.mode = mode;
        this.nlink = 1;
        this.uid = 0;
        this.gid = 0;
        this.rdev = 0;
        this.blksize = 4096;
        this.ino = 0;
        this.size = info.size;
        this.blocks = Math.ceil(info.size / 512);
        this.atimeMs = this.mtimeMs = this.ctimeMs = this.birthtimeMs = info.mtimeMs;
        this.atime = new Date(info.mtimeMs);
        this.mtime = new Date(info.mtimeMs);
        this.ctime = new Date(info.mtimeMs);
        this.birthtime = new Date(info.mtimeMs);
        Object.defineProperty(this, "_type", { value: info.type });
      }
    }

    class Dirent extends Typed {
      constructor(name, type, dir) {
        super();
        this.name = name;
        this.parentPath = dir;
        this.path = dir;
        Object.defineProperty(this, "_type", { value: type });
      }
    }

    const constants = Object.freeze({
      F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1,
      O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 64, O_EXCL: 128, O_TRUNC: 512, O_APPEND: 1024,
      COPYFILE_EXCL: 1,
    });

    // ---- the synchronous API: everything else is made of it ----------------

    const fromBase64 = (text) => {
      const bytes = decode(text, "base64");
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    };

    function readPiece(at, offset, syscall, dest) {
      const answer = call("read", JSON.stringify([at, offset, PIECE]));
      return fromBase64(answer.startsWith(OK_TEXT) ? answer.slice(OK_TEXT.length, -2) : answerOf(answer, syscall, at, dest));
    }

    // The bytes of the file at `at`, read piece by piece.
    function readBytes(at, syscall, dest) {
      const pieces = [];
      let total = 0;
      for (;;) {
        const piece = readPiece(at, total, syscall, dest);
        pieces.push(piece);
        total += piece.length;
        if (piece.length < PIECE) break;
      }
      return pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, total);
    }

    function readFileSync(file, options) {
      const { encoding, flag = "r" } = optionsOf(options, {});
      if (flag !== "r") throw fsError("EINVAL", "open", String(file), undefined);
      const at = toPath(file);
      const bytes = readBytes(at, "open");
      return encoding ? bytes.toString(encoding) : bytes;
    }

    // Writes `bytes` to `at` piece by piece: the first piece as the flags
    // say, the rest appended.
    function writeBytes(at, bytes, append, exclusive, syscall, file = at, dest = undefined) {
      let offset = 0;
      do {
        const piece = bytes.subarray(offset, offset + PIECE);
        const flags = `${append || offset > 0},${exclusive && offset === 0}`;
        const args = `[${JSON.stringify(at)},"${encode(piece, "base64")}",${flags}]`;
        answerOf(call("write", args), syscall, file, dest);
        offset += piece.length;
      } while (offset < bytes.length);
    }

    // `flag` as Node's open flags: w (truncate), a (append), x (exclusive).
    function writeWith(file, data, options, defaults) {
      const { encoding, flag } = optionsOf(options, defaults);
      const at = toPath(file);
      const bytes = toBytes(data, encoding);
      writeBytes(at, bytes, flag.startsWith("a"), flag.includes("x"), "open");
    }

    const writeFileSync = (file, data, options) => writeWith(file, data, options, { encoding: "utf8", flag: "w" });
    const appendFileSync = (file, data, options) => writeWith(file, data, options, { encoding: "utf8", flag: "a" });

    function statSync(file, options) {
      const at = toPath(file);
      try {
        return new Stats(op("stat", "stat", [at, true], at));
      } catch (error) {
        if (options?.throwIfNoEntry === false && error.code === "ENOENT") return undefined;
        throw error;
      }
    }

    function lstatSync(file, options) {
      const at = toPath(file);
      try {
        return new Stats(op("stat", "lstat", [at, false], at));
      } catch (error) {
        if (options?.throwIfNoEntry === false && error.code === "ENOENT") return undefined;
        throw error;
      }
    }

    function existsSync(file) {
      try {
        const at = toPath(file);
        op("stat", "stat", [at, true], at);
        return true;
      } catch {
        return false;
      }
    }

    function accessSync(file, mode = constants.F_OK) {
      const at = toPath(file);
      op("stat", "access", [at, true], at);
      // Reading or writing is decided when it is tried: the host's policy
      // is not known here, and guessing would be a second, weaker check.
      void mode;
    }

    function readdirSync(file, options) {
      const { withFileTypes = false, encoding = "utf8", recursive = false } = optionsOf(options, {});
      const at = toPath(file);
      const list = (dir, prefix) => {
        const out = [];
        for (const [name, type] of op("readdir", "scandir", [dir], dir)) {
          const shown = prefix ? `${prefix}/${name}` : name;
          out.push(withFileTypes ? new Dirent(name, type, dir) : encoding === "buffer" ? Buffer.from(shown) : shown);
          if (recursive && type === "dir") out.push(...list(path.join(dir, name), shown));
        }
        return out;
      };
      return list(at, "");
    }

    function mkdirSync(file, options) {
      const { recursive = false } = typeof options === "number" ? {} : optionsOf(options, {});
      const at = toPath(file);
      const first = op("mkdir", "mkdir", [at, recursive], at);
      return recursive ? (first ?? undefined) : undefined;
    }

    function rmSync(file, options) {
      const { recursive = false, force = false } = optionsOf(options, {});
      const at = toPath(file);
      try {
        const stats = lstatSync(at);
        if (stats.isDirectory() && !recursive) {
          const error = new Error(`Path is a directory: rm returned EISDIR (is a directory) ${at}`);
          error.code = "ERR_FS_EISDIR";
          error.errno = 21;
          error.syscall = "rm";
          error.path = at;
          throw error;
        }
        op("rm", "rm", [at, recursive ? "tree" : "file"], at);
      } catch (error) {
        if (force && error.code === "ENOENT") return;
        throw error;
      }
    }

    function unlinkSync(file) {
      const at = toPath(file);
      op("rm", "unlink", [at, "file"], at);
    }

    function rmdirSync(file, options) {
      const at = toPath(file);
      op("rm", "rmdir", [at, options?.recursive ? "tree" : "dir"], at);
    }

    function renameSync(from, to) {
      const [a, b] = [toPath(from, "oldPath"), toPath(to, "newPath")];
      op("rename", "rename", [a, b], a, b);
    }

    function copyFileSync(from, to, mode = 0) {
      const [a, b] = [toPath(from, "src"), toPath(to, "dest")];
      writeBytes(b, readBytes(a, "copyfile", b), false, (mode & constants.COPYFILE_EXCL) !== 0, "copyfile", a, b);
    }

    function readlinkSync(file) {
      const at = toPath(file);
      return op("readlink", "readlink", [at], at);
    }

    function symlinkSync(target, file) {
      const at = toPath(file);
      op("symlink", "symlink", [String(target), at], String(target), at);
    }

    function truncateSync(file, len = 0) {
      const at = toPath(file);
      op("truncate", "open", [at, Math.max(0, Math.trunc(len))], at);
    }

    function realpathSync(file) {
      const at = toPath(file);
      op("stat", "lstat", [at, true], at);
      return at;
    }
    realpathSync.native = realpathSync;

    function mkdtempSync(prefix) {
      const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
      for (;;) {
        let suffix = "";
        for (let i = 0; i < 6; i++) suffix += chars[Math.floor(Math.random() * chars.length)];
        const at = toPath(prefix + suffix);
        try {
          op("mkdir", "mkdtemp", [at, false], prefix + "XXXXXX");
          return at;
        } catch (error) {
          if (error.code !== "EEXIST") throw error;
        }
      }
    }

    const sync = {
      accessSync, appendFileSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync,
      readFileSync, readdirSync, readlinkSync, realpathSync, renameSync, rmSync, rmdirSync,
      statSync, symlinkSync, truncateSync, unlinkSync, writeFileSync,
    };

    // ---- promises and callbacks: the same operations, settled later --------

    const promises = { constants };
    const callbacks = {};
    for (const [name, fn] of Object.entries(sync)) {
      if (name === "existsSync") continue;
      const base = name.slice(0, -4);
      promises[base] = async (...args) => fn(...args);
      callbacks[base] = (...args) => {
        const callback = args.pop();
        if (typeof callback !== "function") throw typeError("cb", "of type function", callback);
        let result, failure = null;
        try {
          result = fn(...args);
        } catch (error) {
          failure = error;
        }
        later(() => (failure ? callback(failure) : callback(null, result)));
      };
    }
    callbacks.exists = (file, callback) => later(() => callback(existsSync(file)));
    callbacks.realpath.native = callbacks.realpath;
    promises.rm = async (file, options) => rmSync(file, options);

    // ---- streams over whole files (the files are bounded by the host) ------

    class ReadStream extends EventEmitter {
      constructor(file, options) {
        super();
        const { encoding, start = 0, end = Infinity, highWaterMark = 64 * 1024 } = optionsOf(options, {});
        this.path = toPath(file);
        this.bytesRead = 0;
        this.readable = true;
        this._encoding = encoding;
        later(() => {
          let data;
          try {
            data = readFileSync(this.path).subarray(start, end === Infinity ? undefined : end + 1);
          } catch (error) {
            this.emit("error", error);
            this.emit("close");
            return;
          }
          this.emit("open", 0);
          this.emit("ready");
          for (let at = 0; at < data.length; at += highWaterMark) {
            const chunk = data.subarray(at, at + highWaterMark);
            this.bytesRead += chunk.length;
            this.emit("data", this._encoding ? chunk.toString(this._encoding) : chunk);
          }
          this.readable = false;
          this.emit("end");
          this.emit("close");
        });
      }
      setEncoding(encoding) {
        this._encoding = encoding;
        return this;
      }
      pipe(destination) {
        this.on("data", (chunk) => destination.write(chunk));
        this.on("end", () => destination.end?.());
        return destination;
      }
      async *[Symbol.asyncIterator]() {
        const chunks = [];
        let done = false, failure = null, wake = null;
        this.on("data", (chunk) => { chunks.push(chunk); wake?.(); });
        this.on("end", () => { done = true; wake?.(); });
        this.on("error", (error) => { failure = error; wake?.(); });
        for (;;) {
          if (failure) throw failure;
          if (chunks.length) yield chunks.shift();
          else if (done) return;
          else await new Promise((resolve) => (wake = resolve));
        }
      }
    }

    class WriteStream extends EventEmitter {
      constructor(file, options) {
        super();
        const { flags = "w", encoding = "utf8" } = optionsOf(options, {});
        this.path = toPath(file);
        this.bytesWritten = 0;
        this.writable = true;
        this._encoding = encoding;
        try {
          writeWith(this.path, "", { flag: flags }, {});
        } catch (error) {
          this.writable = false;
          later(() => this.emit("error", error));
          return;
        }
        later(() => { this.emit("open", 0); this.emit("ready"); });
      }
      write(chunk, encoding, callback) {
        if (typeof encoding === "function") [callback, encoding] = [encoding, undefined];
        try {
          const bytes = toBytes(chunk, encoding ?? this._encoding);
          appendFileSync(this.path, bytes);
          this.bytesWritten += bytes.length;
          if (callback) later(() => callback(null));
        } catch (error) {
          later(() => (callback ? callback(error) : this.emit("error", error)));
        }
        return true;
      }
      end(chunk, encoding, callback) {
        if (typeof chunk === "function") [callback, chunk] = [chunk, undefined];
        if (chunk !== undefined && chunk !== null) this.write(chunk, encoding);
        this.writable = false;
        later(() => {
          this.emit("finish");
          this.emit("close");
          callback?.();
        });
        return this;
      }
    }

    const fs = {
      ...sync,
      ...callbacks,
      constants,
      promises,
      Stats,
      Dirent,
      ReadStream,
      WriteStream,
      createReadStream: (file, options) => new ReadStream(file, options),
      createWriteStream: (file, options) => new WriteStream(file, options),
    };
    return fs;
  };
})
