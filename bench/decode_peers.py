"""API decode time of one image against the classical decoders, in the same process and run (issue 33 item 6).

The image (kodim23 by default) is coded by jpegai_fast at --bpp (rate control), then by OpenJPEG (JPEG 2000),
libwebp, libavif, libjxl and libjpeg (imagecodecs) at the quality whose stream is closest to that size below
or at it. Each decoder then decodes its own stream to a numpy array: the codecs take turns in every round (so
a load spike hits them alike), --repeat rounds, best and median per codec, and the ratio of jpegai_fast's
time to each peer's. Threads: jpegai_fast's --threads; the peers as imagecodecs runs them (one thread each
unless the library threads itself). No torch is imported.

  PYTHONPATH=$PWD python -P bench/decode_peers.py [--image kodim23] [--bpp 0.5] [--threads 2] [--repeat 15]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

KODAK = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "kodak"


def _peers():
    import imagecodecs as ic
    # name -> (encode(img, q) -> bytes, decode(bytes) -> array, quality grid)
    return {
        "OpenJPEG (JPEG 2000)": (lambda a, q: ic.jpeg2k_encode(a, level=q, codecformat="j2k"), ic.jpeg2k_decode,
                                 [x / 2 for x in range(2, 200)]),
        "libwebp": (lambda a, q: ic.webp_encode(a, level=q, lossless=False), ic.webp_decode, list(range(0, 101))),
        "libavif": (lambda a, q: ic.avif_encode(a, level=q), ic.avif_decode, list(range(0, 101))),
        "libjxl": (lambda a, q: ic.jpegxl_encode(a, level=q), ic.jpegxl_decode, list(range(0, 101))),
        "libjpeg": (lambda a, q: ic.jpeg8_encode(a, level=q), ic.jpeg8_decode, list(range(1, 101))),
    }


def _closest_below(encode, img: np.ndarray, grid: list, limit: int) -> bytes:
    """The largest stream of ``encode`` over the (monotone in size) quality grid that is at most ``limit``
    bytes, by bisection; the smallest stream if none is."""
    lo, hi, best = 0, len(grid) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        data = encode(img, grid[mid])
        if len(data) <= limit:
            best, lo = data, mid + 1
        else:
            hi = mid - 1
    return best if best is not None else encode(img, grid[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", default="kodim23")
    ap.add_argument("--bpp", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    import jpegai_fast
    from PIL import Image
    with Image.open(KODAK / f"{args.image}.png") as im:
        img = np.asarray(im.convert("RGB"))
    px = img.shape[0] * img.shape[1]
    ours = jpegai_fast.encode(img, bpp=args.bpp, threads=args.threads)
    decoders = {"jpegai_fast": (ours, lambda d: jpegai_fast.decode(d, threads=args.threads))}
    for name, (encode, decode, grid) in _peers().items():
        decoders[name] = (_closest_below(encode, img, grid, len(ours)), decode)
    for data, decode in decoders.values():
        decode(data)                                    # warm-up: the model, the libraries' tables
    times: dict[str, list[float]] = {name: [] for name in decoders}
    for _ in range(args.repeat):
        for name, (data, decode) in decoders.items():
            t = time.perf_counter()
            decode(data)
            times[name].append(time.perf_counter() - t)
    base = min(times["jpegai_fast"])
    print(f"{args.image}, jpegai_fast at {8 * len(ours) / px:.3f} bpp, {args.threads} threads, best / median of "
          f"{args.repeat} rounds")
    print("| decoder | bytes | bpp | best ms | median ms | jpegai_fast / this (best) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, (data, _) in decoders.items():
        best, med = min(times[name]), statistics.median(times[name])
        print(f"| {name} | {len(data):,} | {8 * len(data) / px:.3f} | {1e3 * best:.1f} | {1e3 * med:.1f} | "
              f"{base / best:.1f}x |")


if __name__ == "__main__":
    main()
