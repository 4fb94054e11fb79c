'use strict';
// The capability options of NodeRuntime.create, in secure-exec's shapes
// (files, mounts, nodeModules, permissions; isola's mount form too),
// checked and turned into the plain lists the native runtime takes. What a
// guest may reach is decided natively, on every access; nothing here
// grants anything by itself.

const native = require('./native.js');
const { codedError, reply } = require('./common.js');

const invalid = (message) => codedError('ERR_INVALID_ARG', message);
const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
const describe = (value) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value);

function guestPath(what, value) {
  if (typeof value !== 'string' || !value.startsWith('/')) {
    throw invalid(`${what} must be an absolute guest path, not ${typeof value === 'string' ? JSON.stringify(value) : describe(value)}`);
  }
  return value;
}

function hostPath(what, value) {
  if (typeof value !== 'string' || value === '') throw invalid(`${what} must be a host path, not ${describe(value)}`);
  return value;
}

// `files`: guest path → string or bytes.
function files(value) {
  if (value === undefined) return [];
  if (!isObject(value)) throw invalid(`files must be an object of guest paths to contents, not ${describe(value)}`);
  return Object.entries(value).map(([path, content]) => {
    guestPath(`the files key ${JSON.stringify(path)}`, path);
    if (typeof content === 'string') return { path, bytes: Buffer.from(content, 'utf8') };
    if (content instanceof Uint8Array) return { path, bytes: Buffer.from(content.buffer, content.byteOffset, content.byteLength) };
    throw invalid(`files[${JSON.stringify(path)}] must be a string or a Uint8Array, not ${describe(content)}`);
  });
}

// isola's permissions: "read", "write" or "read-write". A Polybox mount is
// read-only or read-write as a whole, so only what it can give exactly is
// taken: "write" alone (no reading) and writable files in a read-only
// directory (or the reverse) would grant more than asked.
function writable(what, perms) {
  if (perms === undefined) return false;
  if (!['read', 'write', 'read-write'].includes(perms)) throw invalid(`${what} must be "read", "write" or "read-write"`);
  if (perms === 'write') {
    throw codedError('ERR_NOT_SUPPORTED', `${what} "write" (without reading) is not supported by @polybox/node: use "read-write"`);
  }
  return perms === 'read-write';
}

// One mount: { guestPath, hostPath, readOnly } (secure-exec), or
// { host, guest, dirPerms|dir_perms, filePerms|file_perms } (isola).
function mount(value, i) {
  const at = `mounts[${i}]`;
  if (!isObject(value)) throw invalid(`${at} must be an object, not ${describe(value)}`);
  if ('guestPath' in value || 'hostPath' in value) {
    if (value.readOnly !== undefined && typeof value.readOnly !== 'boolean') throw invalid(`${at}.readOnly must be a boolean`);
    return {
      guestPath: guestPath(`${at}.guestPath`, value.guestPath),
      hostPath: hostPath(`${at}.hostPath`, value.hostPath),
      readOnly: value.readOnly !== false,
    };
  }
  if ('guest' in value || 'host' in value) {
    const dirWrite = writable(`${at}.dirPerms`, value.dirPerms ?? value.dir_perms);
    const fileWrite = writable(`${at}.filePerms`, value.filePerms ?? value.file_perms);
    if (dirWrite !== fileWrite) {
      throw codedError('ERR_NOT_SUPPORTED', `${at}: dirPerms and filePerms that differ are not supported by @polybox/node (a mount is read-only or read-write as a whole): give both "read" or both "read-write"`);
    }
    return {
      guestPath: guestPath(`${at}.guest`, value.guest),
      hostPath: hostPath(`${at}.host`, value.host),
      readOnly: !dirWrite,
    };
  }
  throw invalid(`${at} needs guestPath and hostPath (or isola's guest and host)`);
}

// `nodeModules`: a host directory, or { hostPath, guestPath }; read-only,
// at /node_modules by default (where every program's package lookup ends).
function nodeModules(value) {
  if (value === undefined) return [];
  if (typeof value === 'string') return [{ guestPath: '/node_modules', hostPath: hostPath('nodeModules', value), readOnly: true }];
  if (!isObject(value)) throw invalid(`nodeModules must be a host path or { hostPath, guestPath }, not ${describe(value)}`);
  return [{
    guestPath: value.guestPath === undefined ? '/node_modules' : guestPath('nodeModules.guestPath', value.guestPath),
    hostPath: hostPath('nodeModules.hostPath', value.hostPath),
    readOnly: true,
  }];
}

// The function the addon calls a tool's handler through (see `reply`).
const toolInvoker = (handler) => (argsJson) => reply(() => handler(JSON.parse(argsJson)[0]));

/**
 * `tools` (secure-exec's shape: name → { description, inputSchema,
 * handler }) as native tools, or null for none.
 */
function tools(value) {
  if (value === undefined) return null;
  if (!isObject(value)) throw invalid(`tools must be an object of tool definitions, not ${describe(value)}`);
  const gathered = new native.NativeTools();
  for (const [name, tool] of Object.entries(value)) {
    const at = `tools.${name}`;
    if (!isObject(tool)) throw invalid(`${at} must be { description, inputSchema, handler }, not ${describe(tool)}`);
    if (typeof tool.handler !== 'function') throw invalid(`${at}.handler must be a function`);
    if (tool.description !== undefined && typeof tool.description !== 'string') throw invalid(`${at}.description must be a string`);
    const schema = tool.inputSchema ?? { type: 'object' };
    if (!isObject(schema) && typeof schema !== 'boolean') throw invalid(`${at}.inputSchema must be a JSON Schema object`);
    gathered.add(name, tool.description ?? '', JSON.stringify(schema), toolInvoker(tool.handler));
  }
  return gathered;
}

// A handler's response headers: an object, [name, value] pairs or a
// Headers, as [name, value] pairs of strings.
function headerPairs(value) {
  if (value === undefined || value === null) return [];
  const entries = typeof value.entries === 'function' && !Array.isArray(value) ? [...value.entries()] : Array.isArray(value) ? value : isObject(value) ? Object.entries(value) : null;
  if (entries === null) throw new TypeError(`the http handler's headers must be an object or [name, value] pairs, not ${describe(value)}`);
  return entries.map((pair) => {
    if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError('each of the http handler\'s headers must be a [name, value] pair');
    return [String(pair[0]), String(pair[1])];
  });
}

// A handler's response body: bytes, a string, or nothing; base64 or null.
function bodyText(value) {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return Buffer.from(value, 'utf8').toString('base64');
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (value instanceof ArrayBuffer) return Buffer.from(value).toString('base64');
  throw new TypeError(`the http handler's body must be a Buffer, a string or null, not ${describe(value)}`);
}

/**
 * `http` (isola's option): `true` (requests go out through the host, as
 * the `network` policy allows: the default), or an async handler `(request:
 * { method, url, headers, body: Buffer | null }) => { status, headers?,
 * body? }` that answers them instead, on the main thread. Returns the
 * function the addon calls it through, or null.
 */
function http(value) {
  if (value === undefined || value === true || value === false || value === null) return null;
  if (typeof value !== 'function') throw invalid(`http must be true or a function (request) => response, not ${describe(value)}`);
  return (argsJson) => reply(async () => {
    const [request] = JSON.parse(argsJson);
    const response = await value({
      method: request.method,
      url: request.url,
      headers: Object.fromEntries(request.headers),
      body: request.body === null ? null : Buffer.from(request.body, 'base64'),
    });
    if (!isObject(response)) throw new TypeError(`the http handler must return { status, headers?, body? }, not ${describe(response)}`);
    const { status } = response;
    if (!Number.isInteger(status) || status < 100 || status > 599) throw new RangeError(`the http handler's status must be an integer from 100 to 599, not ${String(status)}`);
    return { status, headers: headerPairs(response.headers), body: bodyText(response.body) };
  });
}

/** The native form of the create options' capabilities. */
function capabilities(options) {
  const mounts = options.mounts;
  if (mounts !== undefined && !Array.isArray(mounts)) throw invalid(`mounts must be an array, not ${describe(mounts)}`);
  const { permissions } = options;
  if (permissions !== undefined && !isObject(permissions)) throw invalid(`permissions must be an object, not ${describe(permissions)}`);
  return {
    files: files(options.files),
    mounts: [...(mounts ?? []).map(mount), ...nodeModules(options.nodeModules)],
    permissions: permissions === undefined ? null : JSON.stringify(permissions),
  };
}

module.exports = { capabilities, http, tools };
