#!/usr/bin/env bash
# Runs the given tests N times in a row (default 20) and says how many runs passed: the check a test
# that kills processes must pass before it is trusted (CONTRIBUTING.md). Each failing run's output is
# kept as $OUT/fail_<i>.txt.
#   N=20 bash scripts/repeat_tests.sh tests/tools/test_batch.py::test_killed_batch_resumes_... [more tests]
set -uo pipefail
cd "$(dirname "$0")/.."
N=${N:-20}
OUT=${OUT:-$(mktemp -d)}
passed=0
for i in $(seq 1 "$N"); do
  PYTHONPATH=$PWD python -P -m pytest -q -p no:cacheprovider "$@" > "$OUT/run.txt" 2>&1
  rc=$?
  echo "run $i: rc=$rc $(tail -1 "$OUT/run.txt")"
  if [ $rc = 0 ]; then passed=$((passed + 1)); else cp "$OUT/run.txt" "$OUT/fail_$i.txt"; fi
done
echo "$passed of $N runs passed"
[ "$passed" = "$N" ]
