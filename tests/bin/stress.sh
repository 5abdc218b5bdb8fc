#!/usr/bin/env bash
# Usage: stress.sh RUNS COMMAND...
# Runs COMMAND (the end-to-end suite) RUNS times while a CPU hog keeps every core busy, then
# prints each test that failed at least once (with how many times) and exits non-zero if any did.
set -uo pipefail
runs=${1:?usage: stress.sh RUNS COMMAND...}
shift
# Each run's full output stays here for a look at what failed.
workdir=${STRESS_DIR:-dist/stress}
rm -rf "$workdir" && mkdir -p "$workdir"
hogs=()
stop_hogs() {
  for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${hogs[@]}"; do wait "$pid" 2>/dev/null; done
  hogs=()
}
trap stop_hogs EXIT
trap 'exit 130' INT TERM

cores=$(nproc)
for ((i = 0; i < cores; i++)); do
  (while :; do :; done) &
  hogs+=("$!")
done
echo "stress: ${runs} runs with ${cores} CPU hogs: $*"

crashed=0
for ((run = 1; run <= runs; run++)); do
  log="$workdir/run-$run.log"
  started=$SECONDS
  "$@" >"$log" 2>&1
  status=$?
  grep -E '^\(fail\) ' "$log" | sed -E 's/ \[[0-9.]+m?s\]$//' | sort -u >"$workdir/failed-$run"
  summary=$(grep -E '^ *[0-9]+ (pass|fail)$' "$log" | tr -s ' \n' ' ')
  echo "stress: run ${run}/${runs}: exit ${status}, ${summary:-no summary}, $((SECONDS - started)) s"
  if [[ $status -ne 0 && ! -s "$workdir/failed-$run" ]]; then
    crashed=$((crashed + 1))
    echo "stress: run ${run} failed without naming a test; its last lines:"
    tail -n 20 "$log"
  fi
done
stop_hogs

flaky=$(cat "$workdir"/failed-* | sort | uniq -c | sort -rn)
if [[ -n "$flaky" ]]; then
  echo "stress: tests that failed at least once (count of ${runs} runs):"
  echo "$flaky"
  echo "stress: full output of each run in ${workdir}/run-N.log"
  exit 1
fi
if [[ $crashed -gt 0 ]]; then
  echo "stress: ${crashed} run(s) failed without naming a test"
  exit 1
fi
echo "stress: no test failed in ${runs} runs"
