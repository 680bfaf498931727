# The two commands a newcomer needs: `make run` and `make test`.

CARGO ?= cargo
# PostgreSQL used by the tests when IDP_TEST_POSTGRES_URL is not set and a server answers here.
PG_HOST ?= 127.0.0.1
PG_USER ?= postgres
PG_TEST_DB ?= idp_test

.PHONY: run test lint build bench bench-signing conformance browser-test clean fuzz cargo-tools

## Run the server on the embedded SQLite database (./data/idp.db, created and migrated on
## first start). `make run DEMO=1` first seeds the demo organisation, helper, usagers, client,
## and serves in demo mode (the demo upstream provider stands in for FranceConnect).
## `make run PORT=8090` listens on 127.0.0.1:8090, and the issuer follows (unless IDP__ISSUER
## or idp.toml sets it).
PORT ?=
RUN_ENV = $(if $(PORT),IDP__HTTP__BIND=127.0.0.1:$(PORT)) $(if $(DEMO),IDP__DEMO__ENABLED=true)
## The pages link to the State design system, which npm installs (node_modules/@gouvfr/dsfr).
run: node_modules/.package-lock.json
	@[ -x target/debug/idp ] || echo "First build: SQLite, libpq and OpenSSL are compiled from source (about 8 minutes on 2 cores)."
	$(CARGO) build -p idp
	@if [ -n "$(DEMO)" ]; then $(RUN_ENV) IDP__LOG__FORMAT=pretty ./target/debug/idp demo seed; fi
	$(RUN_ENV) IDP__LOG__FORMAT=$${IDP__LOG__FORMAT:-pretty} ./target/debug/idp serve

## Run every test, on SQLite and on PostgreSQL. Every temporary file of the run goes into one
## folder (TMPDIR), removed when the run ends (`make test KEEP_TMP=1` keeps it, for the logs of
## a failure). Outside CI, PostgreSQL tests that found no server are counted at the end. The npm
## packages come first: the server's tests serve the design system's files from node_modules.
## The browser suite and the certification plans run at the same time (both mostly wait on the
## server and the clock); the plans' output follows the suite's. Each stage says how long it took
## (docs/decisions/0018-test-suite-time.md).
test: node_modules/.package-lock.json
	@tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/idp-test.XXXXXX"); \
	if [ -n "$(KEEP_TMP)" ]; then trap 'echo "temporary files kept in $$tmp"' EXIT; else trap 'rm -rf "$$tmp"' EXIT; fi; \
	export TMPDIR="$$tmp" IDP_TEST_SKIPS_FILE="$$tmp/skipped-on-postgres"; \
	if [ -z "$$IDP_TEST_POSTGRES_URL" ] && command -v pg_isready >/dev/null && pg_isready -q -h $(PG_HOST); then \
		psql -h $(PG_HOST) -U $(PG_USER) -tAc "SELECT 1 FROM pg_database WHERE datname = '$(PG_TEST_DB)'" | grep -q 1 \
			|| psql -h $(PG_HOST) -U $(PG_USER) -qc 'CREATE DATABASE $(PG_TEST_DB)'; \
		export IDP_TEST_POSTGRES_URL=postgres://$(PG_USER)@$(PG_HOST):5432/$(PG_TEST_DB); \
		echo "PostgreSQL tests on $$IDP_TEST_POSTGRES_URL"; \
	fi; \
	status=0; \
	{ $(call STAGE,lint,$(MAKE) --no-print-directory lint) \
		&& $(call STAGE,cargo test,$(CARGO) test --workspace --no-fail-fast) \
		&& $(call STAGE,fuzzing (bounded),$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_CI_SECONDS) FUZZ_BUILD=dev) \
		&& $(call STAGE,browser suite and certification plans,$(BROWSER_AND_CONFORMANCE)); } || status=$$?; \
	if [ -s "$$IDP_TEST_SKIPS_FILE" ]; then \
		store=$$(sort -u "$$IDP_TEST_SKIPS_FILE" | grep -c '^mandate-store '); \
		server=$$(sort -u "$$IDP_TEST_SKIPS_FILE" | grep -c '^idp '); \
		echo; \
		echo "SKIPPED ON POSTGRESQL: $$store store tests and $$server server tests (no IDP_TEST_POSTGRES_URL and no server on $(PG_HOST)); they ran on SQLite only. Under CI this is a failure."; \
	fi; \
	exit $$status

# A stage of `make test`, timed: `$(call STAGE,name,command)` fails as the command does.
STAGE = { stage_start=$$(date +%s); $(2); stage_status=$$?; \
	echo "== $(1): $$(( $$(date +%s) - stage_start )) s"; [ $$stage_status -eq 0 ]; }
# The certification plans in the background, their output kept for after the browser suite's.
BROWSER_AND_CONFORMANCE = $(MAKE) --no-print-directory conformance >"$$TMPDIR/conformance.log" 2>&1 & plans=$$!; \
	$(MAKE) --no-print-directory browser-test; suite=$$?; \
	wait $$plans; plans_status=$$?; cat "$$TMPDIR/conformance.log"; \
	[ $$suite -eq 0 ] && [ $$plans_status -eq 0 ]

## Formatting and lints, as `make test` runs them first: any rustfmt difference or clippy
## warning fails; so does a dependency under a license deny.toml does not allow, a wildcard
## version, or a crate from anywhere but crates.io (`cargo install --locked cargo-deny`;
## advisories are not checked: docs/decisions/0024-known-advisories.md).
## The two cargo tools that `make lint` (cargo-deny) and `make fuzz` (cargo-fuzz) use, installed
## from crates.io the first time (about 3 minutes on 2 cores), so that `make test` needs nothing else.
cargo-tools:
	@command -v cargo-deny >/dev/null || $(CARGO) install --locked cargo-deny
	@command -v cargo-fuzz >/dev/null || $(CARGO) install --locked cargo-fuzz

lint: cargo-tools
	$(CARGO) fmt --all --check
	$(CARGO) fmt --manifest-path fuzz/Cargo.toml --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) deny check --hide-inclusion-graph licenses bans sources
	$(CARGO) deny --manifest-path fuzz/Cargo.toml check --hide-inclusion-graph licenses bans sources

## Coverage-guided fuzzing of the parsers a stranger reaches (fuzz/, docs/fuzzing.md): libFuzzer
## through cargo-fuzz on the stable toolchain (`cargo install --locked cargo-fuzz`). Each target
## runs FUZZ_RUNS executions (10⁷ by default; docs/fuzzing.md gives the rates), from the
## committed seeds and the corpus grown before; `make fuzz FUZZ_SECONDS=60` stops each target after a minute,
## `make fuzz FUZZ_TARGETS=token_request` runs one. `make test` runs each for FUZZ_CI_SECONDS.
FUZZ_RUNS ?= 10000000
FUZZ_SECONDS ?= 0
FUZZ_CI_SECONDS ?= 10
FUZZ_TARGETS ?=
## FUZZ_BUILD=dev: an unoptimised build (what `make test` uses: cheaper to build, slower to run).
FUZZ_BUILD ?= release
fuzz: cargo-tools
	FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_BUILD=$(FUZZ_BUILD) fuzz/run $(FUZZ_TARGETS)

build:
	$(CARGO) build --workspace --release

## Run the OpenID certification plans (conformance/) against the server, started on SQLite and
## on PostgreSQL at the same time; prints one table and fails on any FAILED module.
## `make conformance ARGS="--backend sqlite --plan oidcc-basic-certification-test-plan"` narrows it.
## (Built by `cargo test --workspace --no-run`, exactly as `cargo test --workspace` builds, so that
## after the tests nothing is compiled again.)
conformance:
	$(CARGO) test --workspace --no-run
	IDP_BIN=$(CURDIR)/target/debug/idp ./target/debug/conformance $(ARGS)

## The browser suite (tests/browser/): Playwright drives Debian's Chromium (/usr/bin/chromium,
## `apt-get install chromium`; no browser is ever downloaded) through the helper's pages against
## an `idp serve` on a fresh SQLite database, with axe-core on every page, once in each theme
## (ui.theme dsfr and neutral, both at the same time, each with its own server; each line is
## prefixed with its theme); a screenshot of every page goes to target/browser/ (and
## target/browser/neutral/). Needs Node.js 20 or newer. `make browser-test FILES=login`
## runs tests/browser/login.test.mjs only; `BROWSER_THEMES=dsfr` runs one theme.
## (Built by `cargo test --workspace --no-run`, so that inside `make test` nothing is compiled again.)
NODE ?= node
NPM ?= npm
BROWSER_THEMES ?= dsfr neutral
browser-test: node_modules/.package-lock.json
	$(CARGO) test --workspace --no-run
	IDP_BIN=$(CURDIR)/target/debug/idp BROWSER_THEMES="$(BROWSER_THEMES)" $(NODE) tests/browser/run.mjs \
		$(foreach f,$(FILES),tests/browser/$(f).test.mjs)

## The npm packages, exactly as package-lock.json pins them (npm ci never changes it): the State
## design system the server serves, and the browser suite's tools. The design system's terms of
## use are accepted in .dsfr.yml, which its install step reads.
node_modules/.package-lock.json: package-lock.json
	$(NPM) ci --no-audit --no-fund

clean:
	$(CARGO) clean

## The load generator (bench/, docs/decisions/0019-load-generator.md): release builds of the
## server and of `idp-bench`, which starts `idp serve` on SQLite then on PostgreSQL
## (IDP_BENCH_POSTGRES_URL, or a database it creates and drops on 127.0.0.1) and drives the
## login flow, the SSO flow, the code exchange alone, discovery and JWKS at concurrency 1, 8 and
## 32, 20 s a case; prints and writes bench/results/DATE.{json,md}: rates, p50/p99, memory, each
## rate as a ratio to the signing and argon2id limits measured in the same run, and the targets.
## `make bench QUICK=1`: about a second a case at 1 and 8 on the debug build, nothing written
## (what `cargo test` runs). `make bench ARGS="--backend sqlite --seconds 10"` narrows a run.
bench: node_modules/.package-lock.json
ifdef QUICK
	$(CARGO) build -p idp -p bench
	./target/debug/idp-bench --quick $(ARGS)
else
	$(CARGO) build --release -p idp -p bench
	./target/release/idp-bench $(ARGS)
endif

## RS256 tokens per second: our held-key signer against jsonwebtoken::encode.
bench-signing:
	$(CARGO) bench -p idp --bench signing
