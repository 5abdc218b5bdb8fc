#!/usr/bin/env bash
# Installs the real programs the operations tests drive (Debian/Ubuntu, apt). Idempotent.
#   qemu-user + libc6-arm64-cross  tests/release: the linux-arm64 binary under qemu-aarch64
#   prometheus (for promtool)      metrics tests: `promtool check metrics` on every exposition
#   systemd (systemd-analyze)      tests/deploy: `systemd-analyze verify` of the unit
#   systemd-container (nspawn)     tests/deploy: the unit booted under systemd in a container
# The prometheus package's service is not needed: nothing here runs a Prometheus server.
set -euo pipefail

missing=()
command -v qemu-aarch64 >/dev/null || missing+=(qemu-user)
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || missing+=(libc6-arm64-cross)
command -v promtool >/dev/null || missing+=(prometheus)
command -v systemd-analyze >/dev/null || missing+=(systemd)
command -v systemd-nspawn >/dev/null || missing+=(systemd-container)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
