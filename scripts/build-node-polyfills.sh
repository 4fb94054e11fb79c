#!/usr/bin/env bash
# Bundles the Node.js core modules and the web globals the JavaScript guest
# takes from npm (js-guest-component/node: package.json, its lock file,
# entry.js, web.js and fetch.js) into js-guest-component/node/dist/polyfills.js,
# dist/web.js and dist/fetch.js, which the guest embeds, and gathers the licenses of every
# package in them into dist/LICENSES.txt. Both are committed, so building Polybox needs no npm;
# with --check this rebuilds them and fails if the committed ones differ.
#
# Usage: scripts/build-node-polyfills.sh [--check]
set -euo pipefail
dir=$(cd "$(dirname "$0")/../js-guest-component/node" && pwd)
cd "$dir"
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
# Builds the bundles into $1 (polyfills.js from entry.js: Node's modules;
# web.js from web.js: the web globals; fetch.js from fetch.js: fetch's classes) and the licenses of every package in
# them into $1/LICENSES.txt.
build() {
    for bundle in polyfills:entry.js web:web.js fetch:fetch.js; do
        # Each bundle is one expression, a function that returns the
        # factories: the guest evaluates it in place, without copying or
        # wrapping it. `global` is what Node calls the global object.
        node_modules/.bin/esbuild "${bundle#*:}" --bundle --format=iife --global-name=bundle \
            --platform=neutral --main-fields=main --target=es2022 --minify \
            --define:global=globalThis --legal-comments=eof --charset=utf8 --log-level=warning \
            --banner:js='(function () {' --footer:js=$'return bundle;\n})' \
            --metafile="$1/${bundle%%:*}.meta.json" --outfile="$1/${bundle%%:*}.js"
    done
    node -e '
      const fs = require("node:fs");
      const dir = process.argv[1];
      const packages = new Set();
      for (const meta of fs.readdirSync(dir).filter((f) => f.endsWith(".meta.json"))) {
        const { inputs } = JSON.parse(fs.readFileSync(`${dir}/${meta}`, "utf8"));
        for (const path of Object.keys(inputs)) {
          const name = path.match(/node_modules\/((@[^/]+\/)?[^/]+)\//)?.[1];
          if (name) packages.add(name);
        }
        fs.rmSync(`${dir}/${meta}`);
      }
      let text = "The packages bundled into polyfills.js, web.js and fetch.js, with their licenses.\n";
      for (const name of [...packages].sort()) {
        const pkg = `node_modules/${name}`;
        const { version, license } = JSON.parse(fs.readFileSync(`${pkg}/package.json`, "utf8"));
        const file = fs.readdirSync(pkg).find((f) => /^licen[cs]e/i.test(f));
        text += `\n==== ${name} ${version} (${license})\n\n`;
        text += file ? fs.readFileSync(`${pkg}/${file}`, "utf8").trim() + "\n" : "(no license file in the package)\n";
      }
      fs.writeFileSync(`${dir}/LICENSES.txt`, text);
    ' "$1"
}
if [ "${1:-}" = "--check" ]; then
    fresh=$(mktemp -d)
    trap 'rm -rf "$fresh"' EXIT
    build "$fresh"
    for file in polyfills.js web.js fetch.js LICENSES.txt; do
        cmp -s "$fresh/$file" "dist/$file" || {
            echo "dist/$file is out of date with package-lock.json and entry.js: run scripts/build-node-polyfills.sh"
            exit 1
        }
    done
    echo "the Node.js polyfill bundle is up to date"
else
    mkdir -p dist
    build dist
    echo "wrote dist/polyfills.js ($(stat -c %s dist/polyfills.js) bytes), dist/web.js ($(stat -c %s dist/web.js) bytes), dist/fetch.js ($(stat -c %s dist/fetch.js) bytes) and dist/LICENSES.txt"
fi
