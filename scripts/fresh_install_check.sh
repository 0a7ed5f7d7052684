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
# Start-up and the CLI against the API (median of 5, kodim23, quality 50): the CLI command, the same work
# as a fresh Python process through the API, and inside one process the first and a later encode call.
python - "$KODAK" "$W" <<'PY'
import statistics, subprocess, sys, time
kodak, w = sys.argv[1], sys.argv[2]
def wall(cmd):
    ts = []
    for _ in range(5):
        t = time.perf_counter(); subprocess.run(cmd, check=True, capture_output=True); ts.append(time.perf_counter() - t)
    return statistics.median(ts)
api_script = ("import jpegai_fast; from jpegai_fast.files.images import read_image, write_image; "
              f"open('{w}/a.jai', 'wb').write(jpegai_fast.encode(read_image('{kodak}'), quality=50))")
for name, cmd in [("--help", ["jpegai-fast", "--help"]), ("--version", ["jpegai-fast", "--version"]),
                  ("info", ["jpegai-fast", "info", f"{w}/k.jai"]), ("import", [sys.executable, "-c", "import jpegai_fast"])]:
    print(f"{name}: {wall(cmd):.3f} s")
cli = wall(["jpegai-fast", "encode", kodak, f"{w}/c.jai", "-q", "50", "--quiet"])
api_proc = wall([sys.executable, "-c", api_script])
import jpegai_fast
from jpegai_fast.files.images import read_image
img = read_image(kodak)
t = time.perf_counter(); jpegai_fast.encode(img, quality=50); first = time.perf_counter() - t
warm = []
for _ in range(5):
    t = time.perf_counter(); jpegai_fast.encode(img, quality=50); warm.append(time.perf_counter() - t)
print(f"CLI encode {cli:.3f} s; the same through the API in a fresh process {api_proc:.3f} s (CLI x{cli / api_proc:.2f}); "
      f"in-process first encode {first:.3f} s (CLI x{cli / first:.2f}), later {statistics.median(warm):.3f} s; "
      f"torch imported: {'torch' in sys.modules}")
PY
