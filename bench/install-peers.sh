#!/usr/bin/env bash
# Installs the peer proxies that the benchmark compares against. Idempotent:
# it only calls apt-get when a tool is missing. npm peers (wisp-js) come from
# package.json through `make deps`.
set -euo pipefail

missing=()
command -v socat >/dev/null 2>&1 || missing+=(socat)
command -v websockify >/dev/null 2>&1 || missing+=(websockify)

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-peers: socat and websockify already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}"
echo "install-peers: installed ${missing[*]}"
