# Polybox. `make run` installs prerequisites, builds and runs the quickstart;
# `make test` runs every check and test. Both work on a fresh machine.
#
# One cargo profile (dev, with optimised dependencies) serves tests, the CLI,
# the benchmark and examples, so wasmtime compiles once.

SHELL := /bin/bash
CARGO ?= cargo
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
APT_PACKAGES := clang-19 lld-19 llvm-19 wasi-libc
RUST_EXAMPLES := $(basename $(notdir $(wildcard examples/rust/*.rs)))

NODE_EXAMPLES := $(wildcard napi-binding/examples/*.js)

COMPONENTS := echo-handler textkit kv-store
GUEST_BUILD := $(CARGO) build --target wasm32-wasip2 --profile guest --target-dir target/polybox-guest

.PHONY: all deps build components run test lint test-rust soak examples node test-node bench bench-node fuzz clean

all: build

## Prerequisites, installed only when missing: Debian's clang/lld/llvm 19 and
## wasi-libc headers (the QuickJS guest), and Rust's wasm32-wasip2 target.
deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	@rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2

build: deps components
	$(CARGO) build --all-targets

## The example components (components/), built with stock tools (cargo,
## wit-bindgen, wasm32-wasip2) into components/dist/.
components: deps
	$(GUEST_BUILD) $(addprefix -p ,$(COMPONENTS))
	@mkdir -p components/dist
	@for c in $(subst -,_,$(COMPONENTS)); do cp target/polybox-guest/wasm32-wasip2/guest/$$c.wasm components/dist/; done

run: build
	$(CARGO) run -q -p polybox-cli -- run examples/handlers/greet.js --event '{"name":"World"}'

## Everything CI checks.
test: deps lint test-rust soak examples test-node
	$(CARGO) run -q -p polybox-cli -- bench --quick

## 20,000 calls with kills, timeouts and restores; fails on a wrong result
## or memory growth (the README reports a 1,000,000-call run).
soak: deps
	$(CARGO) run -q -p polybox-tests --bin soak -- --calls 20000

lint: deps
	$(CARGO) fmt --all --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) clippy -p polybox-js-guest --target wasm32-wasip2 --profile guest -- -D warnings
	$(CARGO) clippy $(addprefix -p ,$(COMPONENTS) runaway-handler unlinkable escape-probe) --target wasm32-wasip2 --profile guest -- -D warnings

test-rust: deps
	$(CARGO) test

examples: deps components
	@set -e; for example in $(RUST_EXAMPLES); do \
	  echo "== example $$example"; $(CARGO) run -q -p polybox-examples --example $$example; \
	done
	@echo "== polybox run examples/handlers/greet.js"
	@$(CARGO) run -q -p polybox-cli -- run examples/handlers/greet.js --event '{"name":"World"}'
	@echo "== polybox run components/dist/echo_handler.wasm"
	@$(CARGO) run -q -p polybox-cli -- run components/dist/echo_handler.wasm --event '{"x":1}'
	@$(CARGO) run -q -p polybox-cli -- run components/dist/echo_handler.wasm \
	  --host-component kv=components/dist/kv_store.wasm --event '{"key":"k","value":"v"}'
	@echo "== polybox inspect components/dist/textkit.wasm"
	@$(CARGO) run -q -p polybox-cli -- inspect components/dist/textkit.wasm

## The Node addon, built by @napi-rs/cli with the workspace's dev profile.
node: deps
	cd napi-binding && npm install --no-audit --no-fund && npx napi build --platform --js native.js --dts native.d.ts

test-node: node components
	cd napi-binding && node --test test/
	@set -e; for example in $(NODE_EXAMPLES); do \
	  echo "== node $$example"; (cd napi-binding && node examples/$$(basename $$example)); \
	done

bench: deps
	$(CARGO) run -q -p polybox-cli -- bench --json bench/results/latest.json

## The addon against quickjs-emscripten and isolated-vm (isolated-vm compiles
## with node-gyp against the local Node headers).
bench-node: node
	cd napi-binding/bench && npm_config_nodedir=$$(dirname $$(dirname $$(command -v node))) \
	  npm install --no-audit --no-fund --foreground-scripts && node bench.js

## Each fuzz target for FUZZ_RUNS executions (nightly Rust and cargo-fuzz,
## installed when missing).
FUZZ_RUNS ?= 1000000
FUZZ_TARGETS := event_json source_registration host_call_args
fuzz: deps
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@rustup target list --installed --toolchain nightly | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2 --toolchain nightly
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	@set -e; for target in $(FUZZ_TARGETS); do \
	  (cd fuzz && cargo +nightly fuzz run -O $$target -- -runs=$(FUZZ_RUNS) -max_len=4096 -rss_limit_mb=4096); \
	done

clean:
	$(CARGO) clean
