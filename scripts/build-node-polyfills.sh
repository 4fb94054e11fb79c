#!/usr/bin/env bash
# Bundles the Node.js core modules the JavaScript guest takes from npm's
# browser ports (js-guest-component/node: package.json, its lock file and
# entry.js) into js-guest-component/node/dist/polyfills.js, which the guest
# embeds, and gathers the licenses of every package in it into
# dist/LICENSES.txt. Both are committed, so building Polybox needs no npm;
# with --check this rebuilds them and fails if the committed ones differ.
#
# Usage: scripts/build-node-polyfills.sh [--check]
set -euo pipefail
dir=$(cd "$(dirname "$0")/../js-guest-component/node" && pwd)
out=$dir/dist/polyfills.js
cd "$dir"
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
# Builds the bundle into $1/polyfills.js and the licenses into $1/LICENSES.txt.
build() {
    # `process` is the program's, at the time a module is first loaded.
    # The bundle is one expression, a function that returns the factories:
    # the guest evaluates it in place, without copying or wrapping it.
    node_modules/.bin/esbuild entry.js --bundle --format=iife --global-name=polyfills \
        --platform=neutral --main-fields=main --target=es2022 --minify \
        --legal-comments=eof --charset=utf8 --log-level=warning \
        --banner:js='(function () {' --footer:js=$'return polyfills;\n})' \
        --metafile="$1/meta.json" --outfile="$1/polyfills.js"
    node -e '
      const fs = require("node:fs");
      const { inputs } = JSON.parse(fs.readFileSync(process.argv[1] + "/meta.json", "utf8"));
      const packages = [...new Set(Object.keys(inputs)
        .map((path) => path.match(/node_modules\/((@[^/]+\/)?[^/]+)\//)?.[1]).filter(Boolean))].sort();
      let text = "The packages bundled into polyfills.js, with their licenses.\n";
      for (const name of packages) {
        const dir = `node_modules/${name}`;
        const { version, license } = JSON.parse(fs.readFileSync(`${dir}/package.json`, "utf8"));
        const file = fs.readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
        text += `\n==== ${name} ${version} (${license})\n\n`;
        text += file ? fs.readFileSync(`${dir}/${file}`, "utf8").trim() + "\n" : "(no license file in the package)\n";
      }
      fs.writeFileSync(process.argv[1] + "/LICENSES.txt", text);
      fs.rmSync(process.argv[1] + "/meta.json");
    ' "$1"
}
if [ "${1:-}" = "--check" ]; then
    fresh=$(mktemp -d)
    trap 'rm -rf "$fresh"' EXIT
    build "$fresh"
    for file in polyfills.js LICENSES.txt; do
        cmp -s "$fresh/$file" "dist/$file" || {
            echo "dist/$file is out of date with package-lock.json and entry.js: run scripts/build-node-polyfills.sh"
            exit 1
        }
    done
    echo "the Node.js polyfill bundle is up to date"
else
    mkdir -p dist
    build dist
    echo "wrote $out ($(stat -c %s "$out") bytes) and dist/LICENSES.txt"
fi
