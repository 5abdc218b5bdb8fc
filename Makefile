# Every target installs what it needs: a fresh machine has only Node.js and npm.
BUN := node_modules/.bin/bun
ARGS ?=
BINARY := dist/socket2web

.PHONY: install test-deps run test check lint format typecheck unit e2e build test-binary bench bench-quick clean

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@# Bun's postinstall puts the real binary in place; run it ourselves if npm skipped scripts.
	@$(BUN) --version >/dev/null 2>&1 || (cd node_modules/bun && node install.js)
	@$(BUN) --version
	@touch $@

install: node_modules/.installed

# Real programs the end-to-end tests drive: redis (through `forward`), Debian's chromium, and
# tshark (reads every capture file).
test-deps:
	bash tests/setup/install-redis.sh
	bash tests/setup/install-chromium.sh
	bash tests/setup/install-tshark.sh

run: install
	$(BUN) run src/main.ts $(ARGS)

lint: install
	node_modules/.bin/biome ci --colors=off .

format: install
	node_modules/.bin/biome check --write .

typecheck: install
	node_modules/.bin/tsc -p tsconfig.json
	@# The console page runs in a browser: checked against the DOM library, without Bun's types.
	node_modules/.bin/tsc -p tsconfig.console.json

check: lint typecheck

unit: install
	$(BUN) test src

e2e: install test-deps
	$(BUN) test tests

build: install
	$(BUN) build --compile --bytecode --format=esm --minify --sourcemap src/main.ts --outfile $(BINARY)

# The end-to-end suite again, against the compiled executable.
test-binary: build test-deps
	SOCKET2WEB_BIN=$(abspath $(BINARY)) $(BUN) test tests/e2e

test: check unit e2e test-binary

bench: install
	$(BUN) run bench/run.ts

bench-quick: install
	$(BUN) run bench/run.ts --quick

clean:
	rm -rf dist coverage node_modules
