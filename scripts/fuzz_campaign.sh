#!/usr/bin/env bash
# The documented fuzz campaign (docs/format.md, "Conformance and fuzzing"): every atheris harness of
# tests/fuzz/, seeded, with per-input time and memory limits. Any finding stops a harness with a
# crash-* / timeout-* / oom-* file in $OUT/<harness>/ and makes this script exit non-zero.
#   bash scripts/fuzz_campaign.sh [RUNS] [OUT] [HARNESS...]     (defaults 1000000 /tmp/fuzz, all five)
# The harnesses: decode (the rANS coder), container (parser, stream rules, info, decode with valid
# CRCs around mutated payloads), alpha (the alpha payload decoder and round trips), metadata (the
# ICC/EXIF/XMP substreams and the file writers that take them), image_files (the PNG/TIFF/JPEG/WebP
# readers and their metadata parsers: decompression bombs).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-1000000}
OUT=${2:-/tmp/fuzz}
shift $(( $# > 2 ? 2 : $# ))
HARNESSES=("$@")
[ ${#HARNESSES[@]} -gt 0 ] || HARNESSES=(decode container alpha metadata image_files)
#: per harness: libFuzzer flags (-timeout is the per-input time limit of docs/format.md)
declare -A FLAGS=(
  [decode]="-timeout=1 -rss_limit_mb=2048"
  [container]="-timeout=1 -rss_limit_mb=2048 -max_len=65536 -len_control=0"
  [alpha]="-timeout=1 -rss_limit_mb=2048 -max_len=65536"
  [metadata]="-timeout=1 -rss_limit_mb=2048 -max_len=1048576"
  [image_files]="-timeout=2 -rss_limit_mb=2048 -max_len=1048576"
)
status=0
for h in "${HARNESSES[@]}"; do
  dir="$OUT/$h"
  mkdir -p "$dir/corpus"
  python "$ROOT/tests/fuzz/fuzz_$h.py" --make-seeds "$dir/corpus" || { echo "$h: seeding failed"; status=1; continue; }
  start=$(date +%s)
  # shellcheck disable=SC2086
  (cd "$dir" && python "$ROOT/tests/fuzz/fuzz_$h.py" -runs="$RUNS" ${FLAGS[$h]} -seed=11 corpus 2> log.txt)
  rc=$?
  echo "$h: $RUNS runs, $(( $(date +%s) - start )) s, exit $rc: $(grep -E '^Done' "$dir/log.txt")"
  [ $rc = 0 ] || { status=1; ls "$dir" | grep -E '^(crash|timeout|oom|leak)-' | sed "s|^|  finding: $dir/|"; }
done
exit $status
