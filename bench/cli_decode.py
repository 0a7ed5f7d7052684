"""The command line decode, end to end, against libwebp's dwebp in the same run (issue 33 item 4).

kodim23 (or --image) coded at --bpp by jpegai_fast (the API), and by cwebp at the largest quality whose
file is no larger; then, taking turns, `python -P -m jpegai_fast decode s.jai out.png --overwrite` (process
start, imports, decode, PNG at the default fast zlib level, atomic write) and `dwebp s.webp -o out.png`,
wall time per process, best and median of --repeat. dwebp/cwebp are found on PATH or given (--libwebp-bin: a
folder holding both, e.g. a build of https://github.com/webmproject/libwebp); without them the script says
so and stops.

  PYTHONPATH=$PWD python -P bench/cli_decode.py [--libwebp-bin DIR] [--bpp 0.5] [--repeat 7]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KODIM23 = ROOT / ".." / "shared" / "datasets" / "kodak" / "kodim23.png"


def _tool(name: str, folder: str | None) -> str | None:
    if folder:
        path = Path(folder) / name
        return str(path) if path.exists() else None
    return shutil.which(name)


def _wall(cmd: list[str], env: dict) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def _cwebp_at_most(cwebp: str, src: Path, nbytes: int, out: Path) -> int:
    """cwebp at the largest quality (bisection over 0..100, method 4) whose file has at most ``nbytes``."""
    lo, hi, best = 0, 100, None
    while lo <= hi:
        q = (lo + hi) // 2
        subprocess.run([cwebp, "-quiet", "-q", str(q), str(src), "-o", str(out)], check=True)
        if out.stat().st_size <= nbytes:
            best, lo = q, q + 1
        else:
            hi = q - 1
    if best is None:
        raise SystemExit(f"cwebp cannot make a file of {nbytes} bytes or fewer")
    subprocess.run([cwebp, "-quiet", "-q", str(best), str(src), "-o", str(out)], check=True)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", default=str(KODIM23))
    ap.add_argument("--bpp", type=float, default=0.5)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--libwebp-bin", default=None)
    args = ap.parse_args()
    dwebp, cwebp = _tool("dwebp", args.libwebp_bin), _tool("cwebp", args.libwebp_bin)
    if not (dwebp and cwebp):
        raise SystemExit("dwebp and cwebp not found (PATH or --libwebp-bin): nothing to compare against")
    import jpegai_fast
    from jpegai_fast.files.images import read_image
    img = read_image(args.image)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "s.jai").write_bytes(jpegai_fast.encode(img, bpp=args.bpp))
        q = _cwebp_at_most(cwebp, Path(args.image), (tmp / "s.jai").stat().st_size, tmp / "s.webp")
        ours_cmd = [sys.executable, "-P", "-m", "jpegai_fast", "decode", str(tmp / "s.jai"), str(tmp / "a.png"),
                    "--overwrite", "--quiet"]
        webp_cmd = [dwebp, "-quiet", str(tmp / "s.webp"), "-o", str(tmp / "b.png")]
        _wall(ours_cmd, env)                    # warm the file cache and the bytecode once
        _wall(webp_cmd, env)
        ours, theirs = [], []
        for _ in range(args.repeat):
            ours.append(_wall(ours_cmd, env))
            theirs.append(_wall(webp_cmd, env))
        start = _wall([sys.executable, "-P", "-c", "pass"], env)
        sizes = ((tmp / "s.jai").stat().st_size, (tmp / "s.webp").stat().st_size)
    print(f"{Path(args.image).name}: jpegai_fast {sizes[0]:,} B, cwebp -q {q} {sizes[1]:,} B")
    print(f"CLI decode to PNG, wall per process (best / median of {args.repeat}): "
          f"jpegai_fast {min(ours):.3f} / {statistics.median(ours):.3f} s, dwebp {min(theirs):.3f} / "
          f"{statistics.median(theirs):.3f} s: {min(ours) / min(theirs):.1f}x (best), "
          f"{statistics.median(ours) / statistics.median(theirs):.1f}x (median); a bare python -P start: {start:.3f} s")


if __name__ == "__main__":
    main()
