#!/usr/bin/env bash
# Installs Debian's PyJWT and cryptography for src/auth/jwks.test.ts and tests/e2e/ticket-jwks.test.ts:
# an independent JWT implementation mints the RS256, ES256 and EdDSA tickets and the key set.
# Idempotent: does nothing when /usr/bin/python3 already imports both. Debian/Ubuntu (apt) only.
set -euo pipefail

if /usr/bin/python3 -c 'import jwt, cryptography' 2>/dev/null; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends python3 python3-jwt python3-cryptography
/usr/bin/python3 -c 'import jwt; print("PyJWT", jwt.__version__)'
