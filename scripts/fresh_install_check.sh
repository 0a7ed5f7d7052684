#!/usr/bin/env bash
# The README's main job as a new user runs it: a fresh clone of this checkout's HEAD, a fresh venv with no
# torch, `pip install .`, `jpegai-fast demo`; timed, with the installed size and what got imported.
#   bash scripts/fresh_install_check.sh [WORKDIR]        (docs/benchmarks.md "Install and start-up")
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=${1:-$(mktemp -d)}
KODAK=$ROOT/../shared/datasets/kodak/kodim23.png
rm -rf "$W/fresh" "$W/fv"
git clone -q "$ROOT" "$W/fresh"
cd "$W/fresh"
python -m venv "$W/fv"
source "$W/fv/bin/activate"
/usr/bin/time -f "pip install . : %e s" pip install -q . 2>&1 | grep -v "is ignored"
du -sh "$W/fv" | sed 's/^/installed environment: /'
pip list 2>/dev/null | grep -i -E "^(torch|scipy|matplotlib) " || echo "torch, scipy, matplotlib: not installed"
/usr/bin/time -f "jpegai-fast demo: %e s" jpegai-fast demo --out "$W/demo_out"
python -c "import jpegai_fast" 2>&1 | tail -1         # from the clone's root: the unbuilt tree says what to do
cd "$W"
python - "$KODAK" <<'PY'
import sys
import jpegai_fast
from jpegai_fast.files.images import read_image
img = read_image(sys.argv[1])
out = jpegai_fast.decode(jpegai_fast.encode(img, bpp=0.5))
print("API round trip", out.shape, "- torch imported:", "torch" in sys.modules)
PY
jpegai-fast encode "$KODAK" "$W/k.jai" --bpp 0.5 && jpegai-fast decode "$W/k.jai" "$W/k.png"
