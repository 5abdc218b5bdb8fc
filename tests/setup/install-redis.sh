#!/usr/bin/env bash
# Installs redis-server, redis-cli and redis-benchmark for tests/e2e/client-forward-redis.test.ts.
# Idempotent: does nothing when all three are already on PATH. Debian/Ubuntu (apt) only.
set -euo pipefail

if command -v redis-server >/dev/null && command -v redis-cli >/dev/null && command -v redis-benchmark >/dev/null; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends redis-server redis-tools
# The tests start their own redis-server on a free loopback port; a packaged service is not needed.
redis-server --version
