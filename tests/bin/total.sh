#!/usr/bin/env bash
# Usage: total.sh LOG
# Prints one line, "N passed, N failed", adding up bun's summaries of every run record.sh logged.
set -uo pipefail
awk '
  /^ *[0-9]+ pass$/ { passed += $1 }
  /^ *[0-9]+ fail$/ { failed += $1; run_failed += $1 }
  /^record\.sh: exit / {
    # A run that exited non-zero but reported no failed test counts as one failure.
    if ($3 != 0 && run_failed == 0) failed += 1
    run_failed = 0
  }
  END { printf "%d passed, %d failed\n", passed, failed }
' "${1:?usage: total.sh LOG}"
