"""Peak memory and time of tiled encode / decode on a large image (docs/benchmarks.md, "Large images").

Each stage runs in its own child process; its peak RSS is VmHWM from /proc/self/status, which is
per address space (ru_maxrss can carry a forking parent's peak). Time per pipeline stage (g_a,
h_a, z coding, integer h_s, context loop, y coding, g_s) is measured by jpegai_fast.tools.profiling's
wrappers around the engine's stage functions.
The test image is ../shared/datasets/large/flower_foveon.png mirror-tiled to the requested size
(mirroring keeps the photo's native statistics, unlike an upscale).

  PYTHONPATH=$PWD python -P bench/large_image.py --size 7680x4320 --threads 2 --quality 50
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SOURCE = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "large" / "flower_foveon.png"


def test_image(width: int, height: int) -> np.ndarray:
    """flower_foveon mirror-tiled to height x width x 3 uint8."""
    from jpegai_fast.files.images import read_image
    src = read_image(SOURCE)
    h, w = src.shape[:2]
    reps_y, reps_x = -(-height // h), -(-width // w)
    rows = np.concatenate([src if r % 2 == 0 else src[::-1] for r in range(reps_y)], axis=0)[:height]
    del src
    out = np.concatenate([rows if c % 2 == 0 else rows[:, ::-1] for c in range(reps_x)], axis=1)[:, :width]
    return np.ascontiguousarray(out)


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM), in MB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0   # not Linux: best effort


def child(stage: str, width: int, height: int, path: str, quality: float, threads: int) -> None:
    import torch
    torch.set_num_threads(threads)
    from collections import defaultdict

    import jpegai_fast
    from jpegai_fast.tools.profiling import _timed_stages
    jpegai_fast.decode(jpegai_fast.encode(np.zeros((64, 64, 3), np.uint8)))   # load weights outside the timing
    stages = defaultdict(float)
    if stage == "encode":
        img = test_image(width, height)
        base = peak_rss_mb()
        t = time.perf_counter()
        with _timed_stages(stages):
            data = jpegai_fast.encode(img, quality=quality, threads=threads)
        seconds = time.perf_counter() - t
        Path(path).write_bytes(data)
        extra = {"bytes": len(data), "bpp": 8 * len(data) / (width * height), "tiles": jpegai_fast.info(data)["tiles"]}
    else:
        data = Path(path).read_bytes()
        base = peak_rss_mb()
        t = time.perf_counter()
        with _timed_stages(stages):
            out = jpegai_fast.decode(data, threads=threads)
        seconds = time.perf_counter() - t
        extra = {"shape": list(out.shape)}
    print(json.dumps({"stage": stage, "size": f"{width}x{height}", "seconds": round(seconds, 2),
                      "s_per_mpx": round(seconds / (width * height / 1e6), 3),
                      "peak_rss_mb": round(peak_rss_mb(), 1), "rss_before_mb": round(base, 1),
                      "stages_s": {k: round(v, 2) for k, v in stages.items()}, **extra}),
          flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="7680x4320")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quality", type=float, default=50.0)
    ap.add_argument("--stage", choices=["encode", "decode"], help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    if args.stage:
        child(args.stage, width, height, args.path, args.quality, args.threads)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "stream.jai")
        for stage in ("encode", "decode"):
            subprocess.run([sys.executable, "-P", __file__, "--size", args.size, "--threads", str(args.threads),
                            "--quality", str(args.quality), "--stage", stage, "--path", path], check=True)


if __name__ == "__main__":
    main()
