#!/usr/bin/env bash
# Installs the npm tarball of @polybox/node into a fresh project, as a user
# would, and runs the example of its README there. Fails if it does not
# install, if the example prints other than the README says, or if the
# addon is over 80 MiB (it is about 61 MiB, 24 of them the Python guest's
# component and first memory; a build that is not the optimised, stripped one
# is over 100 MiB).
#
# Usage: scripts/check-npm-package.sh TARBALL
set -euo pipefail
tarball=$(realpath "$1")
readme=$(realpath "$(dirname "$0")/../napi-binding/README.md")
project=$(mktemp -d)
trap 'rm -rf "$project"' EXIT

cd "$project"
npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error "$tarball"
addon=$(ls node_modules/@polybox/node/*.node)
size=$(stat -c %s "$addon")
echo "installed @polybox/node from $(basename "$tarball"); its addon is $((size / 1024 / 1024)) MiB"
[ "$size" -lt $((80 * 1024 * 1024)) ] || { echo "the addon is over 80 MiB"; exit 1; }
for file in README.md LICENSE index.d.ts; do
    [ -f "node_modules/@polybox/node/$file" ] || { echo "the package has no $file"; exit 1; }
done

# The README's example, in an async function, and the result it promises.
python3 - "$readme" > example.js <<'PY'
import re, sys
text = open(sys.argv[1]).read()
code = re.search(r"```js\n(.*?)```", text, re.S).group(1)
lines = [line for line in code.splitlines() if not line.startswith("// ")]
print("(async () => {\n" + "\n".join(lines) + "\n})();")
PY
expected=$(python3 - "$readme" <<'PY'
import re, sys
print(re.search(r"```js\n.*?\n// (\{.*?\})\n```", open(sys.argv[1]).read(), re.S).group(1))
PY
)
printed=$(node example.js)
[ "$printed" = "$expected" ] || { echo "the README example printed: $printed (expected $expected)"; exit 1; }
echo "the README example ran in a fresh project: $printed"
