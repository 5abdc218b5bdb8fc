# Every target installs what it needs: a fresh machine has only Node.js and npm.
BUN := node_modules/.bin/bun
ARGS ?=
BINARY ?= dist/socket2web
# Where `make install` puts the socket2web command: $(PREFIX)/bin, e.g. PREFIX=$HOME/.local.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin

.PHONY: help deps install test-deps run test test-steps test-stress check lint format typecheck unit e2e build test-binary bench bench-quick release clean

# `make test` collects every bun test run's output here and prints one total at its end.
TEST_LOG ?=
RECORD := bash tests/bin/record.sh "$(TEST_LOG)"
# `make test-stress N=…`: how many runs of the end-to-end suite under load.
N ?= 5
# The end-to-end suites start about a thousand socket2web processes: each gets the runtime
# settings it would otherwise restart itself for (src/process/runtime-restart.ts), so that none
# pays the restart; tests/e2e/runtime-restart.test.ts starts its servers without them.
E2E_ENV := MIMALLOC_PURGE_DELAY=$${MIMALLOC_PURGE_DELAY:-1000} BUN_JSC_useFTLJIT=$${BUN_JSC_useFTLJIT:-false}

# Each target's line ends with "## what it does": `make help` (also plain `make`) lists them.
.DEFAULT_GOAL := help
help: ## list the targets, one line each
	@awk -F ':.*## ' '/^[a-z][a-z0-9-]*:.*## / { printf "  %-13s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@# Bun's postinstall puts the real binary in place; run it ourselves if npm skipped scripts.
	@$(BUN) --version >/dev/null 2>&1 || (cd node_modules/bun && node install.js)
	@$(BUN) --version
	@touch $@

deps: node_modules/.installed ## npm packages and the pinned Bun (every other target runs it first)

# The single executable, installed as `socket2web` where a shell finds it.
install: build ## build this machine's binary and install it as PREFIX/bin/socket2web (PREFIX=/usr/local)
	@mkdir -p "$(DESTDIR)$(BINDIR)"
	install -m 0755 "$(BINARY)" "$(DESTDIR)$(BINDIR)/socket2web"
	@echo "installed $(DESTDIR)$(BINDIR)/socket2web ($$(du -m "$(BINARY)" | cut -f1) MB)"
	@case ":$$PATH:" in *":$(BINDIR):"*) ;; *) echo "note: $(BINDIR) is not on PATH; add it, or choose PREFIX=..." ;; esac

# Real programs the end-to-end tests drive: redis (through `forward`), Debian's chromium, ssh,
# noVNC with x11vnc on Xvfb, tshark (reads capture files); qemu-user, promtool and
# systemd-analyze for the operations tests.
test-deps: ## install the real programs the end-to-end tests drive (apt; sudo when not root)
	bash tests/setup/install-redis.sh
	bash tests/setup/install-chromium.sh
	bash tests/setup/install-ssh-client.sh
	bash tests/setup/install-socks-tools.sh
	bash tests/setup/install-vnc.sh
	bash tests/setup/install-operations-tools.sh
	bash tests/setup/install-tshark.sh
	bash tests/setup/install-proxy-protocol-servers.sh
	bash tests/setup/install-python-jwt.sh

run: deps ## run the proxy from source: make run ARGS="--port 8080"
	$(BUN) run src/main.ts $(ARGS)

lint: deps ## Biome lint and format check
	node_modules/.bin/biome ci --colors=off .

format: deps ## Biome: format and fix in place
	node_modules/.bin/biome check --write .

typecheck: deps ## tsc (strict), and the console page against the DOM library
	node_modules/.bin/tsc -p tsconfig.json
	@# The console page runs in a browser: checked against the DOM library, without Bun's types.
	node_modules/.bin/tsc -p tsconfig.console.json

check: lint typecheck ## lint and typecheck

unit: deps ## unit tests beside the code (src/**/*.test.ts)
	$(RECORD) $(BUN) test --timeout 30000 src

e2e: deps test-deps ## end-to-end tests against real processes, loopback only
	$(E2E_ENV) $(RECORD) $(BUN) test --timeout 30000 tests

build: deps ## the single executable for this machine: dist/socket2web
	$(BUN) build --compile --splitting --bytecode --format=esm --minify --sourcemap src/main.ts --outfile $(BINARY)

# The end-to-end suite again, against the compiled executable.
test-binary: build test-deps ## the end-to-end suite against the compiled executable
	$(E2E_ENV) SOCKET2WEB_BIN=$(abspath $(BINARY)) $(RECORD) $(BUN) test --timeout 30000 tests/e2e

# Everything, then one line adding up all bun test runs: "N passed, N failed" (CI reads it).
test: ## everything (check, unit, e2e, test-binary), then one "N passed, N failed" line
	@mkdir -p dist && rm -f dist/test-output.log dist/test-output.log.lock
	@$(MAKE) --no-print-directory test-steps TEST_LOG=$(abspath dist/test-output.log); \
	  status=$$?; bash tests/bin/total.sh dist/test-output.log; exit $$status

# The source and binary end-to-end suites run side by side (their tests wait on processes and
# sockets more than they use CPU); each one's output is printed whole when it ends.
test-steps: check unit ## what make test runs, without the total
	@$(MAKE) --no-print-directory -j2 --output-sync=target e2e test-binary

# The end-to-end suite N times (default 5) with a CPU hog on every core; lists every test that
# failed at least once and fails if any did.
test-stress: deps test-deps ## the end-to-end suite N times (N=5) with a CPU hog on every core
	$(E2E_ENV) bash tests/bin/stress.sh $(N) $(BUN) test --timeout 30000 tests

# dist/: binaries for linux-x64, linux-arm64, darwin-arm64 and windows-x64, and SHA256SUMS.
# Each platform's Bun runtime comes from its npm package (fetched once through npm's cache).
release: deps ## dist/: the binaries for every platform and SHA256SUMS
	$(BUN) run scripts/release.ts

bench: deps ## benchmarks against peers
	$(BUN) run bench/run.ts

bench-quick: deps ## the benchmarks, shorter
	$(BUN) run bench/run.ts --quick

clean: ## remove dist, coverage and node_modules
	rm -rf dist coverage node_modules
