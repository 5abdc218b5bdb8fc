#!/usr/bin/env bash
# Installs Debian's chromium for tests/e2e/client-browser.test.ts (driven by playwright-core at
# /usr/bin/chromium). Idempotent: does nothing when /usr/bin/chromium already runs.
set -euo pipefail

if [ -x /usr/bin/chromium ] && /usr/bin/chromium --version >/dev/null 2>&1; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium
/usr/bin/chromium --version
