# The two commands a newcomer needs: `make up` (the whole system, locally, with demo data) and
# `make test` (everything CI checks). Both install what is missing first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PYTHON ?= python3
CARGO ?= cargo

.PHONY: help up test soak venv system-deps build fmt-check clippy unit-and-e2e validate-template validate-openapi deny deny-advisories bench bench-build bench-webhooks bench-hot-sku bench-reports bench-console bench-arm64 bench-intake bench-routing bench-documents capacity clean-venv
.PHONY: load

help:
	@echo "make up     - build, start the emulator and the local runner in the foreground, seed demo data (Ctrl-C stops all)"
	@echo "make test   - fmt, clippy -D warnings, cargo-deny, OpenAPI lint, unit tests, template validation, end-to-end tests"
	@echo "make validate-template - cfn-lint + aws-sam-translator on template.yaml, offline"
	@echo "make validate-openapi - the OpenAPI linter (Redocly CLI) on openapi.yaml, offline"
	@echo "make deny   - cargo-deny: licences, bans, sources; advisories against a local database copy"
	@echo "make deny-advisories - cargo-deny's advisories, fetching the RustSec database (needs GitHub)"
	@echo "make soak   - the long reliability runs: 1000 racing orders, 100 crash runs (figures for RELIABILITY.md)"
	@echo "make bench  - release build, then the system benchmarks (about 10 minutes); rewrites BENCHMARKS.md"
	@echo "make bench-webhooks - webhook delivery latency and a slow receiver's throughput on the local stack (figures for BENCHMARKS.md)"
	@echo "make bench-hot-sku  - the hot-sku race at 1, 2, 4 and 8 stock shards on the local stack (figures for BENCHMARKS.md)"
	@echo "make bench-documents - size and render time of a delivery note (release)"
	@echo "make bench-routing - routing time for 100 lines x 20 sources"
	@echo "make capacity - the capacity model: template.yaml + tools/capacity/profile.json -> docs/capacity-figures.md"
	@echo "make bench-console - the console's page times with 10,000 orders (figures for BENCHMARKS.md)"
	@echo "make bench-intake - POST /orders latency over 500 sequential requests (figures for BENCHMARKS.md)"
	@echo "make load   - local stack + load driver: ramp 5 -> 50 rps over 60 s, hold 60 s (at most 10,000 requests); writes docs/load/local.{json,svg}"

# System tools the tests use: pdftotext (poppler-utils) reads the rendered PDFs back; the
# portal's browser test drives Debian's chromium with playwright-core (node), which npm installs
# into tests/portal/node_modules from its lock file (it downloads no browser of its own).
system-deps:
	@command -v pdftotext >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq poppler-utils; }
	@{ test -x /usr/bin/chromium && command -v node >/dev/null && command -v npm >/dev/null; } || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium \
			$$(command -v node >/dev/null || echo nodejs) $$(command -v npm >/dev/null || echo npm); }
	@{ test -d tests/portal/node_modules/playwright-core && test -d tests/portal/node_modules/bpmn-moddle; } || npm ci --prefix tests/portal --no-audit --no-fund

# The project-local virtualenv with the pinned emulator and the template validators.
venv: $(VENV)/.installed
$(VENV)/.installed: infra/requirements.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r infra/requirements.txt
	@touch $@

build:
	$(CARGO) build --workspace --bins

up: venv build
	DROPSHIP_SEED=infra/demo-data.json exec target/debug/local-runner

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

validate-template: venv
	$(VENV)/bin/python infra/validate_template.py

# The OpenAPI linter: Redocly CLI, pinned in infra/openapi-lint with its rules (redocly.yaml) and
# the reasoned exceptions (.redocly.lint-ignore.yaml). Chosen over openapi-spec-validator, which
# checks only the schema, for its rules (unique operationIds, error answers, contact, licence,
# servers); it is one npm package with no dependencies: about 2 s to install, 1 s to lint.
OPENAPI_LINT := infra/openapi-lint
$(OPENAPI_LINT)/node_modules/.installed: $(OPENAPI_LINT)/package-lock.json
	npm ci --prefix $(OPENAPI_LINT) --no-audit --no-fund --loglevel=error
	@touch $@

validate-openapi: system-deps $(OPENAPI_LINT)/node_modules/.installed
	REDOCLY_SUPPRESS_NOTIFICATIONS=true $(OPENAPI_LINT)/node_modules/.bin/redocly lint \
		--config $(OPENAPI_LINT)/redocly.yaml openapi.yaml

# cargo-deny (rules and reasoned exceptions in deny.toml), pinned; installed when missing. A cold
# `cargo install --locked` compiles it from source: 43 minutes measured at -j1 on a 2-core machine
# busy with other builds (far less on free cores); CI should cache ~/.cargo/bin. The checks
# themselves take seconds.
CARGO_DENY_VERSION := 0.20.2
CARGO_DENY := $(shell command -v cargo-deny 2>/dev/null || echo $(or $(CARGO_HOME),$(HOME)/.cargo)/bin/cargo-deny)
# The RustSec database is a git repository on GitHub, which CI here cannot reach: `make deny`
# checks advisories only against a copy already on disk (`--offline`; kept fresh by
# `make deny-advisories` where GitHub is reachable) and says so when there is none.
# Where cargo-deny keeps the database (its default db-path).
ADVISORY_DB := $(or $(CARGO_HOME),$(HOME)/.cargo)/advisory-dbs

$(CARGO_DENY):
	$(CARGO) install --locked cargo-deny@$(CARGO_DENY_VERSION)

deny: $(CARGO_DENY)
	$(CARGO_DENY) check licenses bans sources
	@if ls -d $(ADVISORY_DB)/advisory-db-* >/dev/null 2>&1; then \
		$(CARGO_DENY) --offline check advisories; \
	else echo "cargo-deny advisories: no local RustSec database in $(ADVISORY_DB); run make deny-advisories where GitHub is reachable"; fi

deny-advisories: $(CARGO_DENY)
	$(CARGO_DENY) check advisories

# Unit tests, the template validation test and the end-to-end tests (which need the binaries).
unit-and-e2e: venv system-deps build
	$(CARGO) test --workspace

test: venv fmt-check clippy deny validate-openapi unit-and-e2e

# The long reliability runs (not part of `make test`, which runs shorter versions of the same
# tests); their figures go to RELIABILITY.md.
soak: venv system-deps build
	RACE_ORDERS=1000 $(CARGO) test -p e2e-tests --test e2e races:: -- --nocapture
	CRASH_RUNS=100 $(CARGO) test -p e2e-tests --test e2e reliability::orders_survive -- --nocapture
	CRASH_RUNS=100 $(CARGO) test -p e2e-tests --test e2e crash_after_commit:: -- --nocapture

# Benchmarks are not part of `make test` (ignored tests of the one end-to-end binary, run by
# name); their figures go to BENCHMARKS.md.
# `make bench`: release builds of every function, the runner and the examples it runs, then
# tests/tests/e2e/bench_system.rs on the local stack (init, AWS calls per order, overhead,
# throughput, documents, routing, artifacts, cost), which rewrites BENCHMARKS.md's sections.
bench-build:
	$(CARGO) build --release --workspace --bins
	$(CARGO) build --release -p local-runner --example init_probe
	$(CARGO) build --release -p document-generator --example render_bench
	$(CARGO) build --release -p dropship-core --example routing_bench

# The deployed architecture: arm64 release binaries, cross-built (gcc-aarch64-linux-gnu as the
# linker; `rustup target add aarch64-unknown-linux-gnu`). Optional: `make bench` measures their
# size and glibc needs next to the host's when target/aarch64-unknown-linux-gnu/release exists.
ARM64_FUNCTIONS := $(shell sed -n 's/^ *Binary: *\([a-z-]*\).*/\1/p' template.yaml | sort -u)
bench-arm64:
	rustup target add aarch64-unknown-linux-gnu
	command -v aarch64-linux-gnu-gcc >/dev/null || (apt-get update && apt-get install -y gcc-aarch64-linux-gnu)
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
	CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
	$(CARGO) build --release --target aarch64-unknown-linux-gnu $(addprefix -p ,$(ARM64_FUNCTIONS))

bench: venv bench-build build
	$(CARGO) test -p e2e-tests --test e2e bench_system:: -- --ignored --nocapture --test-threads=1
	$(CARGO) test -p e2e-tests --test e2e bench_webhooks:: -- --ignored --nocapture
	$(CARGO) test -p e2e-tests --test e2e bench_hot_sku:: -- --ignored --nocapture
	$(CARGO) test -p e2e-tests --test e2e bench_reports:: -- --ignored --nocapture
	$(CARGO) test -p e2e-tests --test e2e bench_console:: -- --ignored --nocapture

bench-console: venv bench-build build
	$(CARGO) test -p e2e-tests --test e2e bench_console:: -- --ignored --nocapture

bench-webhooks: venv build
	$(CARGO) test -p e2e-tests --test e2e bench_webhooks:: -- --ignored --nocapture

bench-hot-sku: venv build
	$(CARGO) test -p e2e-tests --test e2e bench_hot_sku:: -- --ignored --nocapture

# The sales report over a year of orders from the report aggregates and from the orders.
bench-reports: venv build
	$(CARGO) test -p e2e-tests --test e2e bench_reports:: -- --ignored --nocapture

bench-intake: venv build
	$(CARGO) test -p e2e-tests --test e2e bench_intake:: -- --ignored --nocapture

bench-routing:
	$(CARGO) run --release -p dropship-core --example routing_bench

bench-documents:
	$(CARGO) run --release -p document-generator --example render_bench

# The capacity model (docs/capacity.md): units, partitions, concurrency, quotas and cost per
# 1,000 orders at the profile's order rates, from template.yaml; seconds, no emulator.
capacity:
	$(CARGO) run --quiet -p capacity-model -- template.yaml tools/capacity/profile.json \
		docs/capacity-figures.md target/capacity-figures.json BENCHMARKS.md

# The load driver against the local stack on its own port, bounded (LOAD_PROFILE is
# start-rps,target-rps,ramp-s,hold-s), then the stack is stopped whatever happened. The runner's
# output goes to a temporary file (shown if it fails to start). See docs/load.md.
LOAD_PORT ?= 3950
LOAD_PROFILE ?= 5,50,60,60
LOAD_MAX_REQUESTS ?= 10000
LOAD_MAX_SECONDS ?= 150
LOAD_BIN_DIR ?= target/debug
LOAD_OUT ?= docs/load/local
load: venv build
	@set -euo pipefail; log=$$(mktemp); \
	DROPSHIP_API_PORT=$(LOAD_PORT) DROPSHIP_ADMIN_TOKEN=local-load-admin DROPSHIP_BIN_DIR=$(LOAD_BIN_DIR) \
		target/debug/local-runner >$$log 2>&1 & runner=$$!; \
	trap 'kill -TERM $$runner 2>/dev/null; wait $$runner 2>/dev/null || true; rm -f $$log' EXIT; \
	for _ in $$(seq 240); do grep -q '^READY ' $$log && break; \
		kill -0 $$runner 2>/dev/null || { tail -50 $$log; exit 1; }; sleep 0.5; done; \
	grep -q '^READY ' $$log || { echo "local-runner not READY within 120 s"; tail -50 $$log; exit 1; }; \
	LOAD_ADMIN_TOKEN=local-load-admin target/debug/load-driver --base-url http://127.0.0.1:$(LOAD_PORT) \
		--seed-retailer --profile $(LOAD_PROFILE) --max-requests $(LOAD_MAX_REQUESTS) \
		--max-seconds $(LOAD_MAX_SECONDS) --out $(LOAD_OUT).json --svg $(LOAD_OUT).svg

clean-venv:
	rm -rf $(VENV)
