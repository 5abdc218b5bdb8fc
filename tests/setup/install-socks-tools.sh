#!/usr/bin/env bash
# Installs what tests/e2e/client-socks*.test.ts drive besides curl: OpenBSD netcat (ssh's
# ProxyCommand `nc -X 5`) and an sshd started on loopback. Idempotent. Debian/Ubuntu (apt) only.
set -euo pipefail

missing=()
if ! nc -h 2>&1 | grep -q OpenBSD; then missing+=(netcat-openbsd); fi
if [ ! -x /usr/sbin/sshd ]; then missing+=(openssh-server); fi
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
