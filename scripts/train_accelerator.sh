#!/usr/bin/env bash
# One prepared training command for a lent accelerator (issue 13), <= 9 minutes of bf16 training.
#
# Here, first (no device time):   bash scripts/train_accelerator.sh --prepare
#   copies ../shared/datasets/train into the ignored folder data_cache/train, re-encoded as JPEG q90 4:4:4
#   so that it, the work tree and training/light_state.pt fit the device tool's 64 MiB.
# The device call:   run(command="bash scripts/train_accelerator.sh", carry=["data_cache"], timeout_s=600)
#   builds the C++ core there (cmake, ninja, pybind11 are installed), resumes the campaign from the
#   committed state, trains for $BUDGET seconds at 256^2 crops, batch $BATCH, and writes under $OUT:
#   light_state.pt (the new committed state), light.npz (weights), log.csv, train_log.txt.
# Back here:   cp <files_at>/light_state.pt training/light_state.pt, append log.csv to the session log,
#   evaluate light.npz (docs/training.md) before shipping it.
# Tested on the CPU with:   DEVICE=cpu BATCH=2 CROP=128 BUDGET=20 OUT=/tmp/acc bash scripts/train_accelerator.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ "${1:-}" = "--prepare" ]; then
  rm -rf data_cache/train && mkdir -p data_cache/train
  "$PY" - <<'PYEOF'
from pathlib import Path
from PIL import Image
src, dst = Path("../shared/datasets/train"), Path("data_cache/train")
for p in sorted(src.iterdir()):
    if p.suffix.lower() in (".jpg", ".jpeg", ".png"):
        with Image.open(p) as im:
            im.convert("RGB").save(dst / (p.stem + ".jpg"), quality=90, subsampling=0)
print(f"{len(list(dst.iterdir()))} images, {sum(f.stat().st_size for f in dst.iterdir()) / 2**20:.1f} MiB in {dst}")
PYEOF
  exit 0
fi
OUT=${OUT:-runs/accelerator_out}
DEVICE=${DEVICE:-cuda}
BATCH=${BATCH:-64}
CROP=${CROP:-256}
BUDGET=${BUDGET:-420}          # seconds of training; the build, data loading and export fit in the rest
export PYTHONUNBUFFERED=1
mkdir -p "$OUT"
PYTHON="$PY" bash scripts/dev_build.sh
PYTHONPATH=$PWD "$PY" -P -m jpegai_fast.train --device "$DEVICE" --data data_cache/train --out runs/accelerator \
  --resume-state training/light_state.pt --save-state "$OUT/light_state.pt" --export "$OUT/light.npz" \
  --batch "$BATCH" --crop "$CROP" --steps 10000000 --time-budget-s "$BUDGET" --lr 1e-4 \
  --ckpt-every-s 120 --log-every 50 --threads "$(nproc)" 2>&1 | tee "$OUT/train_log.txt"
cp runs/accelerator/log.csv "$OUT/log.csv"
