"""API decode (and encode) time of one image against the classical codecs, in the same process and run (issue 33).

The image (kodim23 by default) is coded by jpegai_fast at --bpp (rate control), then by OpenJPEG (JPEG 2000),
libwebp, libavif, libjxl and libjpeg (imagecodecs) at the quality whose stream is closest to that size below
or at it. Each decoder then decodes its own stream to a numpy array: the codecs take turns in every round (so
a load spike hits them alike), --repeat rounds, best and median per codec, and the ratio of jpegai_fast's
time to each peer's. Encode times the same way: each encoder at the quality found (jpegai_fast at --bpp with
rate control, and at its own largest quality not above that size, without it). Threads: jpegai_fast's --threads; the peers
as imagecodecs runs them (one thread each unless the library threads itself). No torch is imported.

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
        # speed 6: avifenc's default (imagecodecs' own default is libavif's slowest)
        "libavif": (lambda a, q: ic.avif_encode(a, level=q, speed=6), ic.avif_decode, list(range(0, 101))),
        "libjxl": (lambda a, q: ic.jpegxl_encode(a, level=q), ic.jpegxl_decode, list(range(0, 101))),
        "libjpeg": (lambda a, q: ic.jpeg8_encode(a, level=q), ic.jpeg8_decode, list(range(1, 101))),
    }


def _closest_below(encode, img: np.ndarray, grid: list, limit: int) -> tuple[bytes, float]:
    """The largest stream of ``encode`` over the (monotone in size) quality grid that is at most ``limit``
    bytes, by bisection, and its quality; the smallest stream if none is."""
    lo, hi, best = 0, len(grid) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        data = encode(img, grid[mid])
        if len(data) <= limit:
            best, lo = (data, grid[mid]), mid + 1
        else:
            hi = mid - 1
    return best if best is not None else (encode(img, grid[0]), grid[0])


def _rounds(jobs: dict, repeat: int) -> dict[str, list[float]]:
    """Wall times of every job, the jobs taking turns in each of ``repeat`` rounds (after one warm-up each)."""
    for job in jobs.values():
        job()
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(repeat):
        for name, job in jobs.items():
            t = time.perf_counter()
            job()
            times[name].append(time.perf_counter() - t)
    return times


def _ratio(v: float) -> str:
    return f"{v:.2f}x" if v < 1 else f"{v:.1f}x" if v < 100 else f"{v:.0f}x"


def _table(title: str, times: dict[str, list[float]], sizes: dict[str, int], base: str, px: int) -> None:
    print(title)
    print("| codec | bytes | bpp | best ms | median ms | jpegai_fast / this (best) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, ts in times.items():
        size = sizes[name]
        print(f"| {name} | {size:,} | {8 * size / px:.3f} | {1e3 * min(ts):.1f} | {1e3 * statistics.median(ts):.1f} | "
              f"{_ratio(min(times[base]) / min(ts))} |")


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
    by_quality, quality = _closest_below(lambda a, q: jpegai_fast.encode(a, quality=q, threads=args.threads), img,
                                         list(range(1, 101)), len(ours))
    streams, qualities = {"jpegai_fast": ours}, {}
    peers = _peers()
    for name, (encode, _decode, grid) in peers.items():
        streams[name], qualities[name] = _closest_below(encode, img, grid, len(ours))
    sizes = {name: len(data) for name, data in streams.items()}
    decoders = {"jpegai_fast": lambda: jpegai_fast.decode(ours, threads=args.threads)}
    decoders.update({name: (lambda d=streams[name], f=dec: f(d)) for name, (_e, dec, _g) in peers.items()})
    encoders = {"jpegai_fast": lambda: jpegai_fast.encode(img, bpp=args.bpp, threads=args.threads)}
    name_q = f"jpegai_fast (quality {quality}, no rate control)"
    encoders[name_q] = lambda: jpegai_fast.encode(img, quality=quality, threads=args.threads)
    sizes[name_q] = len(by_quality)
    encoders.update({name: (lambda q=qualities[name], f=enc: f(img, q)) for name, (enc, _d, _g) in peers.items()})
    print(f"{args.image}, jpegai_fast at {8 * len(ours) / px:.3f} bpp, {args.threads} threads, best / median of "
          f"{args.repeat} rounds")
    _table("decode", _rounds(decoders, args.repeat), sizes, "jpegai_fast", px)
    _table("encode", _rounds(encoders, args.repeat), sizes, "jpegai_fast", px)

if __name__ == "__main__":
    main()
