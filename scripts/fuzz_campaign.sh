#!/usr/bin/env bash
# The documented fuzz campaign (docs/format.md, "Conformance and fuzzing"): the coder harness and the
# container/whole-stream harness, seeded, with per-input time and memory limits. Any finding stops a
# harness with a crash-* / timeout-* / oom-* file in $OUT and a non-zero exit.
#   bash scripts/fuzz_campaign.sh [CODER_RUNS] [CONTAINER_RUNS] [OUT]     (defaults 600000 400000 /tmp/fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
CODER_RUNS=${1:-600000}
CONTAINER_RUNS=${2:-400000}
OUT=${3:-/tmp/fuzz}
mkdir -p "$OUT/coder_corpus" "$OUT/container_corpus"
python tests/fuzz/fuzz_decode.py --make-seeds "$OUT/coder_corpus"
python tests/fuzz/fuzz_container.py --make-seeds "$OUT/container_corpus"
cd "$OUT"
start=$(date +%s)
python "$OLDPWD/tests/fuzz/fuzz_decode.py" -runs="$CODER_RUNS" -timeout=1 -rss_limit_mb=2048 -seed=11 \
  coder_corpus 2> coder.log
echo "coder harness: $CODER_RUNS runs, $(( $(date +%s) - start )) s: $(grep -E '^Done' coder.log)"
start=$(date +%s)
python "$OLDPWD/tests/fuzz/fuzz_container.py" -runs="$CONTAINER_RUNS" -timeout=1 -rss_limit_mb=2048 \
  -max_len=65536 -len_control=0 -seed=12 container_corpus 2> container.log
echo "container harness: $CONTAINER_RUNS runs, $(( $(date +%s) - start )) s: $(grep -E '^Done' container.log)"
