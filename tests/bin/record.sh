#!/usr/bin/env bash
# Usage: record.sh LOG COMMAND...
# Runs one `bun test` command, showing its output and appending it to LOG (when LOG is not
# empty), so that total.sh can add up every run of `make test`. Exits with the command's status.
# `make test` runs two suites side by side: each run's output goes into LOG whole, under a lock,
# so that one run's summary lines never interleave with another's.
set -uo pipefail
log=$1
shift
if [[ -z "$log" ]]; then
  exec "$@"
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$@" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
# A run that failed without reporting a failed test (a crash, a file that did not load) still
# counts as one failure in the total.
echo "record.sh: exit ${status}" >>"$out"
flock "$log.lock" cat "$out" >>"$log"
exit "$status"
