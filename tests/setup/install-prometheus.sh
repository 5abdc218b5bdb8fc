#!/usr/bin/env bash
# Installs promtool (Debian's prometheus package) for the metrics tests, which check every
# exposition with `promtool check metrics`. Idempotent. Debian/Ubuntu (apt) only. The package's
# service is not needed: nothing here runs a Prometheus server.
set -euo pipefail

if command -v promtool >/dev/null; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends prometheus
promtool --version | head -1
