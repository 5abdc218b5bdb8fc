#!/usr/bin/env bash
# Usage: record.sh LOG COMMAND...
# Runs one `bun test` command, showing its output and appending it to LOG (when LOG is not
# empty), so that total.sh can add up every run of `make test`. Exits with the command's status.
set -uo pipefail
log=$1
shift
if [[ -z "$log" ]]; then
  exec "$@"
fi
"$@" 2>&1 | tee -a "$log"
status=${PIPESTATUS[0]}
# A run that failed without reporting a failed test (a crash, a file that did not load) still
# counts as one failure in the total.
echo "record.sh: exit ${status}" >>"$log"
exit "$status"
