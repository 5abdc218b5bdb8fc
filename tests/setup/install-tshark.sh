#!/usr/bin/env bash
# Installs Debian's tshark for the capture tests (tests/e2e/capture-*.test.ts read every capture
# file with it). Idempotent: does nothing when tshark already runs.
set -euo pipefail

if command -v tshark >/dev/null && tshark --version >/dev/null 2>&1; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# tshark's package asks whether non-root users may capture; we only read files.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends tshark
tshark --version | head -1
