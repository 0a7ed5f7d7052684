#!/usr/bin/env bash
# Campaign insurance (docs/training.md, "Insurance"): a session's processes end with the session, and
# the training worktree's ignored run folder with them (session 4 lost its whole run that way). So,
# every INTERVAL_S seconds, compact the run's newest checkpoint into the tracked state, copy its log
# into docs/training_logs/, and commit exactly those two paths on the current branch: a session that
# stops mid-run keeps all but the last INTERVAL_S of its training.
#
#   bash scripts/campaign_insure.sh RUN_DIR PRIOR_STATE LOG_NAME NOTE [INTERVAL_S]
#     RUN_DIR      the run's folder in its own worktree (holds checkpoint.pt and log.csv)
#     PRIOR_STATE  a copy, outside the repository, of the state this session started from (its
#                  campaign totals; the tracked one is overwritten by the first pass)
#     LOG_NAME     e.g. campaign_2026-12-05_session8_log.csv
#     NOTE         the session's row note in the state
#     INTERVAL_S   seconds between passes (default 1800); 0 makes one pass and returns
#
# Run it from the main checkout, in the background, nice'd; it needs the package installed (it runs
# `$PYTHON -P`, default python, so the source tree's unbuilt package is not imported). Each pass costs
# ~10 s of one core.
set -euo pipefail
[ $# -ge 4 ] || { sed -n 8,14p "$0" >&2; exit 2; }
RUN_DIR=$(realpath "$1"); PRIOR=$(realpath "$2"); LOG_NAME=$3; NOTE=$4; INTERVAL_S=${5:-1800}
PYTHON=${PYTHON:-python}
cd "$(dirname "$0")/.."
STATE=training/light_state.pt
LOG_COPY=docs/training_logs/$LOG_NAME
[ -f "$PRIOR" ] || { echo "campaign_insure: no prior state $PRIOR" >&2; exit 2; }
case "$PRIOR" in "$PWD"/*) echo "campaign_insure: keep the prior state outside the repository" >&2; exit 2;; esac

one_pass() {
  [ -f "$RUN_DIR/checkpoint.pt" ] || { echo "$(date -u +%T) no checkpoint yet"; return 0; }
  nice -n 15 "$PYTHON" -P -m jpegai_fast.training.state --checkpoint "$RUN_DIR/checkpoint.pt" --out "$STATE" \
    --session-date "$(date -u +%F)" --prior "$PRIOR" --note "$NOTE (insurance copy, mid-run)"
  cp "$RUN_DIR/log.csv" "$LOG_COPY"
  git add "$STATE" "$LOG_COPY"
  git commit -q -m "Campaign insurance: state and log mid-run ($(date -u +%H:%M) UTC)" -- "$STATE" "$LOG_COPY"
  echo "$(date -u +%T) committed $(git rev-parse --short HEAD)"
}

if [ "$INTERVAL_S" = 0 ]; then one_pass; exit; fi
while sleep "$INTERVAL_S"; do one_pass || echo "$(date -u +%T) pass failed, will retry"; done
