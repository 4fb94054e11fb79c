# Polybox. `make run` installs prerequisites, builds and runs the quickstart;
# `make test` runs every check and test. Both work on a fresh machine.
#
# One cargo profile (dev, with optimised dependencies) serves tests, the CLI,
# the benchmark, examples and the Node addon, so wasmtime compiles once. And
# every cargo command here runs from the workspace root without `-p`: cargo
# then unifies features over the same packages (the default members) each
# time, so a step reuses what an earlier one built instead of building the
# library again with another feature set. Targets pick what to build
# (`--bin polybox`, `--example quickstart`).

SHELL := /bin/bash
CARGO ?= cargo
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
APT_PACKAGES := clang-19 lld-19 llvm-19 wasi-libc
VM_PACKAGES := qemu-system-x86 busybox-static cpio xz-utils zstd
TARGET_DIR = $${CARGO_TARGET_DIR:-target}
APT_INSTALL = $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends

# Downloaded and built tools (hyperlight-wasm-aot, the test VM's kernel) live
# outside the clone so they survive it.
TOOLS_DIR ?= $(HOME)/.cache/polybox-tools
HYPERLIGHT_WASM_AOT_VERSION := 0.15.0
HYPERLIGHT_WASM_AOT ?= $(TOOLS_DIR)/hyperlight-wasm-aot-$(HYPERLIGHT_WASM_AOT_VERSION)/bin/hyperlight-wasm-aot
VM_CACHE ?= $(TOOLS_DIR)/vm
## componentize-py builds the Python guest (host/build.rs runs it); it lives
## in a virtualenv of its own, pinned.
COMPONENTIZE_PY_VERSION := 0.25.1
PYTHON_VENV ?= $(TOOLS_DIR)/componentize-py-$(COMPONENTIZE_PY_VERSION)
COMPONENTIZE_PY ?= $(PYTHON_VENV)/bin/componentize-py
export HYPERLIGHT_WASM_AOT VM_CACHE COMPONENTIZE_PY
RUST_EXAMPLES := $(basename $(notdir $(wildcard examples/rust/*.rs)))

NODE_EXAMPLES := $(wildcard napi-binding/examples/*.js)

COMPONENTS := echo-handler textkit kv-store
GUEST_BUILD = $(CARGO) build --target wasm32-wasip2 --profile guest --target-dir $(TARGET_DIR)/polybox-guest

.PHONY: all deps python-tools deps-vm npm-fixtures mcp-clients test-mcp hyperlight-tools test-hyperlight build components run test lint test-rust soak examples dependent node test-node package test-package bench bench-node fuzz fuzz-quickjs wit clean

all: build

## Prerequisites, installed only when missing: Debian's clang/lld/llvm 19 and
## wasi-libc headers (the QuickJS guest), Rust's wasm32-wasip2 target,
## componentize-py (the Python guest) and hyperlight-wasm-aot (the
## Hyperlight backend is built into the workspace).
deps: hyperlight-tools python-tools
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; $(APT_INSTALL) $$missing; \
	fi
	@rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2

## hyperlight-wasm-aot compiles the JS guest for Hyperlight's guest engine;
## it must match hyperlight-wasm's version. Built once (about 8 minutes).
hyperlight-tools:
	@[ -x $(HYPERLIGHT_WASM_AOT) ] || $(CARGO) install hyperlight-wasm-aot \
	  --version $(HYPERLIGHT_WASM_AOT_VERSION) --locked --quiet \
	  --root $(TOOLS_DIR)/hyperlight-wasm-aot-$(HYPERLIGHT_WASM_AOT_VERSION)

## componentize-py, from PyPI into its own virtualenv (python3-venv from
## Debian when the interpreter lacks venv).
python-tools:
	@[ -x $(COMPONENTIZE_PY) ] || { \
	  python3 -c 'import venv, ensurepip' 2>/dev/null || $(APT_INSTALL) python3-venv; \
	  python3 -m venv $(PYTHON_VENV) && \
	  $(PYTHON_VENV)/bin/pip install --quiet --disable-pip-version-check componentize-py==$(COMPONENTIZE_PY_VERSION); }

## What scripts/run-in-vm.sh needs: QEMU, a static busybox, cpio, and the
## decompressors for the kernel modules.
deps-vm:
	@missing=$$(for p in $(VM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; $(APT_INSTALL) $$missing; \
	fi

## Every binary, test, example and the addon.
build: deps components
	$(CARGO) build --all-targets

## The example components (components/), built with stock tools (cargo,
## wit-bindgen, wasm32-wasip2) into components/dist/.
components: deps
	$(GUEST_BUILD) $(addprefix -p ,$(COMPONENTS))
	@mkdir -p components/dist
	@for c in $(subst -,_,$(COMPONENTS)); do cp $(TARGET_DIR)/polybox-guest/wasm32-wasip2/guest/$$c.wasm components/dist/; done

## The quickstart: builds the command alone, then runs the greeting handler.
run: deps
	$(CARGO) run -q --bin polybox -- run examples/handlers/greet.js --event '{"name":"World"}'

## Everything CI checks.
test: deps lint test-rust test-hyperlight soak examples dependent test-node test-mcp test-package
	$(CARGO) run -q --bin polybox -- bench --quick

## The parity suite's Hyperlight cases, run where Hyperlight guests really
## run: inside a software-emulated AMD VM with nested KVM (this machine's own
## /dev/kvm cannot run them; `cargo test` reports them skipped, with why).
test-hyperlight: deps deps-vm
	@binary=$$($(CARGO) test -q --test parity --no-run --message-format=json \
	  | grep '"name":"parity"' | grep -o '"executable":"[^"]*"' | cut -d'"' -f4); \
	[ -n "$$binary" ] || { echo "the parity test did not build"; exit 1; }; \
	echo "== $$binary hyperlight:: (in a VM)"; \
	VM_TIMEOUT=300 scripts/run-in-vm.sh -e POLYBOX_REQUIRE_BACKEND=hyperlight $$binary hyperlight::

## 20,000 calls with kills, timeouts and restores; fails on a wrong result
## or memory growth (the README reports a 1,000,000-call run).
soak: deps
	$(CARGO) run -q --bin soak -- --calls 20000

lint: deps
	$(CARGO) fmt --all --check
	scripts/build-node-polyfills.sh --check
	$(CARGO) clippy --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps -q
	$(CARGO) clippy -p polybox-js-guest --target wasm32-wasip2 --profile guest -- -D warnings
	$(CARGO) clippy $(addprefix -p ,$(COMPONENTS) runaway-handler unlinkable escape-probe http-hello) --target wasm32-wasip2 --profile guest -- -D warnings

test-rust: deps npm-fixtures
	$(CARGO) test

## Real npm packages the tests import from a mounted node_modules, installed
## from their lock file.
NPM_FIXTURES = tests/fixtures/npm/node_modules/.package-lock.json
npm-fixtures: $(NPM_FIXTURES)
$(NPM_FIXTURES): tests/fixtures/npm/package-lock.json
	cd tests/fixtures/npm && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error

## The MCP client the MCP tests and the agent example use (the official
## TypeScript SDK), installed from their lock files.
MCP_CLIENTS := cli/tests/mcp/node_modules/.package-lock.json examples/mcp/node_modules/.package-lock.json
mcp-clients: $(MCP_CLIENTS)
%/node_modules/.package-lock.json: %/package-lock.json
	cd $* && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error

## `polybox mcp` driven by the official MCP client, over stdio and HTTP.
test-mcp: deps mcp-clients
	$(CARGO) build -q --bin polybox
	cd cli/tests/mcp && POLYBOX_BIN="$$(realpath $(TARGET_DIR))/debug/polybox" node --test

examples: deps components mcp-clients
	@set -e; for example in $(RUST_EXAMPLES); do \
	  echo "== example $$example"; $(CARGO) run -q --example $$example; \
	done
	@echo "== polybox run examples/handlers/greet.js"
	@$(CARGO) run -q --bin polybox -- run examples/handlers/greet.js --event '{"name":"World"}'
	@echo "== polybox run examples/handlers/stats.py"
	@$(CARGO) run -q --bin polybox -- run examples/handlers/stats.py --event '{"values":[3,1,2]}'
	@echo "== polybox exec examples/programs/word_count.py"
	@echo "the cat and the hat" | $(CARGO) run -q --bin polybox -- exec examples/programs/word_count.py
	@echo "== polybox run components/dist/echo_handler.wasm"
	@$(CARGO) run -q --bin polybox -- run components/dist/echo_handler.wasm --event '{"x":1}'
	@$(CARGO) run -q --bin polybox -- run components/dist/echo_handler.wasm \
	  --host-component kv=components/dist/kv_store.wasm --event '{"key":"k","value":"v"}'
	@echo "== polybox exec examples/programs/word-count.js"
	@echo "the cat and the hat" | $(CARGO) run -q --bin polybox -- exec examples/programs/word-count.js rhyme
	@echo "== polybox exec -e"
	@$(CARGO) run -q --bin polybox -- exec -e "console.log('hi'); console.error('oops'); process.exit(3)" \
	  || [ $$? -eq 3 ]
	@echo "== examples/mcp/agent.js (a scripted agent loop over polybox mcp)"
	@$(CARGO) build -q --bin polybox
	@cd examples/mcp && POLYBOX_BIN="$$(realpath $(TARGET_DIR))/debug/polybox" node agent.js
	@echo "== polybox inspect components/dist/textkit.wasm"
	@$(CARGO) run -q --bin polybox -- inspect components/dist/textkit.wasm
	@echo "== the component recipes of wit/README.md"
	@$(CARGO) build -q --bin polybox
	@scripts/check-wit-recipes.sh $(TARGET_DIR)/debug/polybox components/dist/kv_store.wasm $(TARGET_DIR)/wit-recipes

## The crate as a user's project uses it: examples/dependent, copied outside
## this repository (so none of its cargo settings apply) and pointed at
## host/, built with default features, run. It takes the workspace's
## Cargo.lock so it resolves the same versions and reuses their build.
DEPENDENT_DIR ?= $(TMPDIR_OR_TMP)/polybox-dependent
TMPDIR_OR_TMP = $${TMPDIR:-/tmp}
dependent: deps
	@rm -rf $(DEPENDENT_DIR) && mkdir -p $(DEPENDENT_DIR) && cp -r examples/dependent/src $(DEPENDENT_DIR)/
	@sed 's|path = "../../host"|path = "$(CURDIR)/host"|' examples/dependent/Cargo.toml > $(DEPENDENT_DIR)/Cargo.toml
	@cp Cargo.lock $(DEPENDENT_DIR)/
	@echo "== a project outside the workspace: cargo run in $(DEPENDENT_DIR)"
	cd $(DEPENDENT_DIR) && $(CARGO) run -q

## The Node addon: the workspace's libraries, built as every other step
## builds them (the addon is one of them, a cdylib), and the addon copied to
## where `native.js` loads it.
node: deps
	$(CARGO) build --lib
	cp $(TARGET_DIR)/debug/libpolybox_node.so napi-binding/polybox.linux-x64-gnu.node

## The npm package of the addon: an optimised build (cargo's release
## profile; it is also what makes hyperlight-wasm build its guest runtime
## without debug information), stripped, with the package's README and the
## LICENSE, packed by npm into $(NPM_DIR).
NPM_DIR = $(TARGET_DIR)/npm
package: deps
	$(CARGO) build --release -p polybox-node
	@rm -rf $(NPM_DIR)/stage && mkdir -p $(NPM_DIR)/stage
	cp napi-binding/package.json napi-binding/lib.js napi-binding/common.js napi-binding/node-runtime.js napi-binding/capabilities.js napi-binding/isola.js \
	  napi-binding/native.js napi-binding/index.d.ts \
	  napi-binding/README.md LICENSE $(NPM_DIR)/stage/
	strip -o $(NPM_DIR)/stage/polybox.linux-x64-gnu.node $(TARGET_DIR)/release/libpolybox_node.so
	cd $(NPM_DIR) && npm pack ./stage --pack-destination . --loglevel=warn

## The package as a user installs it: a fresh project, `npm install` of the
## tarball, the example of the package's README.
test-package: package
	scripts/check-npm-package.sh $(NPM_DIR)/polybox-node-$$(node -p "require('./napi-binding/package.json').version").tgz

test-node: node components npm-fixtures
	cd napi-binding && node --test test/
	@set -e; for example in $(NODE_EXAMPLES); do \
	  echo "== node $$example"; (cd napi-binding && node examples/$$(basename $$example)); \
	done

bench: deps
	@dpkg -s wrk >/dev/null 2>&1 || (echo "installing: wrk"; $(APT_INSTALL) wrk)
	$(CARGO) run -q --bin polybox -- bench --json bench/results/latest.json

## The addon against quickjs-emscripten and isolated-vm (isolated-vm compiles
## with node-gyp against the local Node headers).
bench-node: node
	cd napi-binding/bench && npm_config_nodedir=$$(dirname $$(dirname $$(command -v node))) \
	  npm install --no-audit --no-fund --foreground-scripts && node bench.js --json results.json

## Each fuzz target for FUZZ_RUNS executions (nightly Rust and cargo-fuzz,
## installed when missing). Guests are built with the stable toolchain, as
## shipped: a nightly libc would pull WASI into the JS guest.
FUZZ_RUNS ?= 1000000
FUZZ_TARGETS := event_json source_registration host_call_args fs_paths net_rules
fuzz: deps
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@rustup target list --installed --toolchain nightly | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2 --toolchain nightly
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	@set -e; for target in $(FUZZ_TARGETS); do \
	  (cd fuzz && POLYBOX_GUEST_TOOLCHAIN=stable cargo +nightly fuzz run -O $$target -- \
	    -runs=$(FUZZ_RUNS) -max_len=4096 -rss_limit_mb=4096 -print_final_stats=1); \
	done

## The vendored QuickJS's changes (vendor/rquickjs-sys/POLYBOX.md) under
## libFuzzer, natively with AddressSanitizer and UBSan (Debian's clang-19):
## once with QuickJS's small-block arenas, and once with every allocation a
## block of its own, so that a word read past any buffer's end is caught.
## QuickJS turns its arenas off when __SANITIZE_ADDRESS__ is defined, which
## GCC does under AddressSanitizer and clang does not, hence the -D.
QUICKJS_DIR := vendor/rquickjs-sys/quickjs
QUICKJS_FUZZ = $(TARGET_DIR)/quickjs-fuzz
fuzz-quickjs: deps
	@mkdir -p $(QUICKJS_FUZZ)/corpus
	@set -e; for mode in arenas blocks; do \
	  clang-19 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -D_GNU_SOURCE -DNDEBUG $$([ $$mode = blocks ] && echo -D__SANITIZE_ADDRESS__) \
	    -I$(QUICKJS_DIR) $(addprefix $(QUICKJS_DIR)/,libregexp.c libunicode.c quickjs.c dtoa.c) \
	    vendor/rquickjs-sys/fuzz/json_strings.c -lm -o $(QUICKJS_FUZZ)/json_strings_$$mode; \
	  $(QUICKJS_FUZZ)/json_strings_$$mode -runs=$(FUZZ_RUNS) -max_len=4096 \
	    -print_final_stats=1 $(QUICKJS_FUZZ)/corpus; \
	done

## Re-encodes wit/sandbox.wit as wit/sandbox.wasm (what the Hyperlight
## backend's build reads); a test fails while they differ. hyperlight-wasm and
## the guest runtime it builds watch WIT_WORLD's value, not the file's
## contents, so both are made stale here.
wit:
	POLYBOX_UPDATE_WIT=1 $(CARGO) test -q -p polybox-build --test wit_world
	$(CARGO) clean -q -p hyperlight-wasm
	rm -rf $(TARGET_DIR)/hyperlight-wasm-runtime/*/*/.fingerprint/hyperlight-wasm-runtime-*

clean:
	$(CARGO) clean
