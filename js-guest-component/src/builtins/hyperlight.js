// What hyperlight-js gives its guests besides the standard library, so that
// handlers written for it run unchanged: a global `require`, which imports
// a module by name (as `import()` does, but returning its namespace at once
// when the module has no top-level `await`), `String.bytesFrom`, and the
// modules `console`, `io` and `require` (see `modules.rs`). Evaluated once
// as a function of the native `importNow(name)`.
(function (natives) {
  "use strict";

  const define = (target, name, value) =>
    Object.defineProperty(target, name, { value, writable: true, configurable: true });

  define(globalThis, "require", natives.importNow);

  // Decodes base64 (with the URL-safe alphabet or the standard one, padded
  // or not) to the string of the UTF-8 text it holds.
  define(String, "bytesFrom", function bytesFrom(data, encoding) {
    if (encoding !== "base64url") {
      throw new TypeError("Unsupported encoding, only 'base64url' is supported");
    }
    let text = typeof data === "string" ? data : new TextDecoder().decode(data);
    text = text.replace(/=+$/, "").replaceAll("-", "+").replaceAll("_", "/");
    const binary = atob(text.padEnd(text.length + ((4 - (text.length % 4)) % 4), "="));
    return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  });
})
