#!/usr/bin/env bash
# Builds and runs the two recipes of wit/README.md as a component author
# would: new crates outside this repository, wit-bindgen from crates.io, the
# WIT from `polybox wit`. Fails if a recipe does not build or prints other
# than the README says.
#
# Usage: scripts/check-wit-recipes.sh POLYBOX KV_STORE_WASM TARGET_DIR
set -euo pipefail
polybox=$(realpath "$1") kv_store=$(realpath "$2") target=$3
readme=$(realpath "$(dirname "$0")/../wit/README.md")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The fenced block of the README that follows the line `$1`.
block() { python3 - "$readme" "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
start = text.index(sys.argv[2]) + len(sys.argv[2])
print(text[start:text.index("```", start)], end="")
PY
}

new_crate() {
    cargo new -q --lib "$work/$1"
    printf '\n[lib]\ncrate-type = ["cdylib"]\n' >> "$work/$1/Cargo.toml"
    mkdir "$work/$1/wit"
}

new_crate visits
(cd "$work/visits" && cargo add -q wit-bindgen@0.46 serde serde_json)
"$polybox" wit > "$work/visits/wit/sandbox.wit"
block '// src/lib.rs
' > "$work/visits/src/lib.rs"
(cd "$work/visits" && cargo build -q --release --target wasm32-wasip2 --target-dir "$target")
visits=$(printf '{}\n{}\n{}\n' | "$polybox" run "$target/wasm32-wasip2/release/visits.wasm" \
    --host-component "kv=$kv_store" --events -)
[ "$visits" = $'{"visits":1}\n{"visits":2}\n{"visits":3}' ] || { echo "visits printed: $visits"; exit 1; }

new_crate greeter
(cd "$work/greeter" && cargo add -q wit-bindgen@0.46)
block '// wit/greeter.wit
' > "$work/greeter/wit/greeter.wit"
block '// src/lib.rs (Cargo.toml: crate-type = ["cdylib"], as above)
' > "$work/greeter/src/lib.rs"
(cd "$work/greeter" && cargo build -q --release --target wasm32-wasip2 --target-dir "$target")
python3 - "$readme" > "$work/greet.js" <<'PY'
import re, sys
print(re.search(r"cat > greet.js <<'JS'\n(.*?)JS\n", open(sys.argv[1]).read(), re.S).group(1), end="")
PY
greeting=$("$polybox" run "$work/greet.js" --module "greeter=$target/wasm32-wasip2/release/greeter.wasm" \
    --event '{"name":"World"}')
[ "$greeting" = '["Hello, World!","Hello, World!"]' ] || { echo "greeter printed: $greeting"; exit 1; }
echo "wit/README.md recipes: visits and greeter built and ran as documented"
