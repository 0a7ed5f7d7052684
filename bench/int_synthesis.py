"""The integer synthesis against the float one (issue 33; docs/integer_path.md "Integer synthesis"): on real
Kodak streams of the shipped model, the PSNR-RGB of g_s in integers minus that of the float decode (same
latent, same bits), and both syntheses' time in the same run (best of 3, one thread and two).

  PYTHONPATH=$PWD python -P bench/int_synthesis.py [--images kodim01,kodim23] [--qualities 10,40,70,95]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from PIL import Image

import jpegai_fast
from jpegai_fast.api import decode_latent
from jpegai_fast.core.int_synthesis import IntSynthesis
from jpegai_fast.eval.metrics import psnr_rgb
from jpegai_fast.runtime import network
from jpegai_fast.runtime.execution import resolve_device

KODAK = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "kodak"


def _best(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", default="kodim01,kodim04,kodim08,kodim13,kodim19,kodim23")
    ap.add_argument("--qualities", default="10,40,70,95")
    args = ap.parse_args()
    deltas, times = [], {1: [], 2: []}
    print("| image | quality | bpp | float dB | integer - float dB | g_s float / integer ms, 1 thread | 2 threads |")
    print("| --- | ---: | ---: | ---: | ---: | --- | --- |")
    for name in args.images.split(","):
        img = np.asarray(Image.open(KODAK / f"{name}.png").convert("RGB"))
        for q in map(float, args.qualities.split(",")):
            data = jpegai_fast.encode(img, quality=q)
            _header, eng, y = decode_latent(data)
            syn = IntSynthesis.from_layers(network.transform_layers(eng.weights, "g_s"))
            y32 = np.ascontiguousarray(y, dtype=np.float32)
            out = np.clip(np.floor(np.clip(syn(y, threads=2), 0, 1) * 255 + 0.5), 0, 255).astype(np.uint8)
            ref = psnr_rgb(img, jpegai_fast.decode(data))
            deltas.append(psnr_rgb(img, out.transpose(1, 2, 0)) - ref)
            cells = []
            for threads in (1, 2):
                g_s = eng.transform("g_s", resolve_device("cpu"), threads)
                pair = _best(lambda: g_s(y32)), _best(lambda: syn.run_q(y, threads=threads))
                times[threads].append(pair[1] / pair[0])
                cells.append(f"{pair[0] * 1e3:.0f} / {pair[1] * 1e3:.0f}")
            print(f"| {name} | {q:g} | {len(data) * 8 / img.shape[0] / img.shape[1]:.3f} | {ref:.3f} | "
                  f"{deltas[-1]:+.4f} | {cells[0]} | {cells[1]} |", flush=True)
    print(f"\ninteger - float: mean {np.mean(deltas):+.4f} dB, worst {min(deltas):+.4f} dB over {len(deltas)} points")
    for threads, ratios in times.items():
        print(f"integer / float g_s time, {threads} thread(s): median {np.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
