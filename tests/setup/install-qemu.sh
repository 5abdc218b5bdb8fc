#!/usr/bin/env bash
# Installs qemu-user and the arm64 C library for tests/release/release.test.ts, which runs the
# linux-arm64 release binary under qemu-aarch64. Idempotent. Debian/Ubuntu (apt) only.
set -euo pipefail

if command -v qemu-aarch64 >/dev/null && [ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends qemu-user libc6-arm64-cross
qemu-aarch64 --version | head -1
