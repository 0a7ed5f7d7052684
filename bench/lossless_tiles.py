"""Model-free streams in tiles (issue 32 item 1): bytes, encode and decode time and peak memory of a
lossless encode at a tile size, each run in its own process so its peak RSS is its own.

  PYTHONPATH=$PWD python -P bench/lossless_tiles.py [--images artificial 4k 8k] [--tiles 0 128 64] [--threads 2]

Tile 0 = whole planes (what every stream before tiles was; the encoder's internal call, the API's
tile_size stops at 256). 4k / 8k: ../shared/datasets/large/flower_foveon.png resized (Lanczos) to
3840x2160 / 7680x4320, so nothing repeats that a whole-plane copy map could exploit and tiles could not.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"
SIZES = {"4k": (3840, 2160), "8k": (7680, 4320)}


def _image(name: str):
    import numpy as np
    from PIL import Image
    if name in SIZES:
        src = Image.open(DATA / "large" / "flower_foveon.png").convert("RGB")
        return np.asarray(src.resize(SIZES[name], Image.LANCZOS))
    return np.asarray(Image.open(DATA / "graphics" / f"{name}.png").convert("RGB"))


def _one(name: str, tile: int, threads: int) -> dict:
    """One encode + exact decode in this process."""
    import numpy as np
    import jpegai_fast
    from jpegai_fast.encoder import lossless
    from jpegai_fast.encoder.pipeline import Picture
    img = _image(name)
    t = time.perf_counter()
    data = lossless.encode(Picture(img, 8, {}), threads, tile_size=tile or 1 << 20)
    enc = time.perf_counter() - t
    t = time.perf_counter()
    out = jpegai_fast.decode(data, threads=threads)
    dec = time.perf_counter() - t
    assert np.array_equal(out, img)
    return {"image": name, "tile": tile, "bytes": len(data), "encode_s": round(enc, 2), "decode_s": round(dec, 3),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", nargs="+", default=["artificial", "4k", "8k"])
    ap.add_argument("--tiles", type=int, nargs="+", default=[0, 128, 64])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)     # (image, tile): the child's job
    args = ap.parse_args()
    if args.one:
        print(json.dumps(_one(args.one[0], int(args.one[1]), args.threads)))
        return
    for name in args.images:
        for tile in args.tiles:
            run = subprocess.run([sys.executable, "-P", __file__, "--one", name, str(tile), "--threads",
                                  str(args.threads)], capture_output=True, text=True, check=True)
            print(run.stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
