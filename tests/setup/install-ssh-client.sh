#!/usr/bin/env bash
# Installs the OpenSSH client for tests/e2e/client-ssh.test.ts (connect as a ProxyCommand).
# Idempotent: does nothing when ssh is already on PATH. Debian/Ubuntu (apt) only.
set -euo pipefail

if command -v ssh >/dev/null; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends openssh-client
ssh -V
