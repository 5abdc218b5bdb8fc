#!/usr/bin/env bash
# Installs haproxy and nginx for tests/e2e/proxy-protocol.test.ts: unmodified servers that parse
# the PROXY protocol. The tests start their own, on loopback, from generated configuration files;
# the packaged services are not needed. Idempotent. Debian/Ubuntu (apt) only.
set -euo pipefail

PATH="$PATH:/usr/sbin:/sbin"
if command -v haproxy >/dev/null && command -v nginx >/dev/null; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends haproxy nginx-light
haproxy -v | head -n 1
nginx -v
