#!/usr/bin/env bash
# Installs what tests/e2e/novnc.test.ts drives: Debian's novnc (the real web client), and a real
# VNC server (x11vnc on an Xvfb display). Idempotent: does nothing when all three are present.
set -euo pipefail

if [ -f /usr/share/novnc/vnc_lite.html ] && command -v x11vnc >/dev/null && command -v Xvfb >/dev/null; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends novnc x11vnc xvfb
