"""PSNR, time and peak memory of decode(scale=s) per scale (docs/benchmarks.md, "Reduced-resolution decode").

Kodak (kodim23, kodim01 at quality 75; the test set, never trained on), in this process: per scale the
minimum time over ``--repeat`` rounds (scales interleaved in every round, so load spikes hit them alike),
the median over rounds of its time / that round's full decode time, and the PSNR-RGB against
Pillow's ``reduce(s)`` of the original (s = 1: the original) and against the area-
downscaled full decode (what the head was distilled to give). Large image (flower_foveon mirror-tiled,
bench/large_image.py): each decode in its own child process, for its time and peak RSS (VmHWM); the
"latent" row decodes only the latent, the floor every scale shares; ``--large-repeat`` rounds, the time
ratio again the median of same-round ratios (``--alpha``: RGBA, for the memory with an alpha plane).
No torch is imported.

  PYTHONPATH=$PWD python -P bench/preview_scale.py --threads 2 --repeat 11 --large-repeat 3 \\
      --out bench/results/preview_scale.json --plot docs/preview_scale.png
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.large_image import peak_rss_mb, test_image

KODAK = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "kodak"
SCALES = (1, 2, 4, 8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0 ** 2 / max(mse, 1e-12)))


def kodak_rows(names: list[str], quality: float, threads: int, repeat: int) -> list[dict]:
    import jpegai_fast
    from PIL import Image
    from jpegai_fast.pixels import area_downscale
    rows = []
    for name in names:
        with Image.open(KODAK / f"{name}.png") as im:
            original = im.convert("RGB")
        data = jpegai_fast.encode(np.asarray(original), quality=quality, threads=threads)
        outs = {s: jpegai_fast.decode(data, scale=s, threads=threads) for s in SCALES}    # warm-up
        times: dict[int, list[float]] = {s: [] for s in SCALES}
        for _ in range(repeat):
            for s in SCALES:
                t = time.perf_counter()
                jpegai_fast.decode(data, scale=s, threads=threads)
                times[s].append(time.perf_counter() - t)
        best = {s: min(v) for s, v in times.items()}
        # each round against its own full decode (the load moves), the median of those ratios kept
        ratio = {s: float(np.median([t / full for t, full in zip(times[s], times[1])])) for s in SCALES}
        for s in SCALES:
            reference = np.asarray(original.reduce(s) if s > 1 else original)
            bpp = 8 * len(data) / (original.size[0] * original.size[1])
            fidelity = psnr(outs[s], area_downscale(outs[1], s)) if s > 1 else None
            rows.append({"image": name, "quality": quality, "bpp": round(bpp, 4), "scale": s, "shape": list(outs[s].shape),
                         "seconds": round(best[s], 4), "time_vs_full": round(ratio[s], 3),
                         "psnr_vs_pillow_reduce": round(psnr(outs[s], reference), 2),
                         "psnr_vs_downscaled_decode": None if fidelity is None else round(fidelity, 2)})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def child(stage: str, path: str, threads: int) -> None:
    import jpegai_fast
    from jpegai_fast.decoder.latent import ParsedStream
    from jpegai_fast.runtime.execution import resolve_threads
    tiny = jpegai_fast.encode(np.zeros((64, 64, 3), np.uint8))
    for s in SCALES:
        jpegai_fast.decode(tiny, scale=s)           # load the model and the head outside the timing
    data = Path(path).read_bytes()
    base = peak_rss_mb()
    t = time.perf_counter()
    if stage == "latent":
        p = ParsedStream(data)
        p.latent(list(range(p.grid.count)), resolve_threads(threads))
        shape = None
    else:
        shape = list(jpegai_fast.decode(data, scale=int(stage), threads=threads).shape)
    seconds = time.perf_counter() - t
    print(json.dumps({"stage": stage, "seconds": round(seconds, 2), "peak_rss_mb": round(peak_rss_mb(), 1),
                      "rss_before_mb": round(base, 1), "shape": shape}), flush=True)


def large_rows(size: str, quality: float, threads: int, repeat: int, alpha: bool) -> list[dict]:
    import jpegai_fast
    width, height = (int(v) for v in size.lower().split("x"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "large.jai")
        img = test_image(width, height)
        if alpha:                               # a left-to-right ramp with an opaque band: RGBA
            ramp = (np.arange(width, dtype=np.uint32) * 255 // max(1, width - 1)).astype(np.uint8)
            a = np.broadcast_to(ramp, (height, width)).copy()
            a[height // 4:height // 2] = 255
            img = np.dstack([img, a])
        data = jpegai_fast.encode(img, quality=quality, threads=threads)
        del img
        Path(path).write_bytes(data)
        runs: dict[str, list[dict]] = {}
        for _ in range(repeat):                 # stages interleaved per round, as for Kodak
            for stage in ("1", "latent", "8", "4", "2"):
                out = subprocess.run([sys.executable, "-P", __file__, "--stage", stage, "--path", path,
                                      "--threads", str(threads)], check=True, capture_output=True, text=True).stdout
                runs.setdefault(stage, []).append(json.loads(out.strip().splitlines()[-1]))
                print(json.dumps(runs[stage][-1]), flush=True)
        for stage, tries in runs.items():
            # the load of a shared machine moves within minutes: each run is compared with its own
            # round's full decode, and the median of those ratios is kept
            ratios = [t["seconds"] / full["seconds"] for t, full in zip(tries, runs["1"])]
            row = dict(min(tries, key=lambda r: r["seconds"]), size=size, quality=quality, alpha=alpha,
                       bpp=round(8 * len(data) / (width * height), 4), all_seconds=[t["seconds"] for t in tries],
                       time_vs_full=round(float(np.median(ratios)), 3))
            row["peak_rss_mb"] = max(r["peak_rss_mb"] for r in tries)
            rows.append(row)
    return rows


def plot(result: dict, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for i, name in enumerate(sorted({r["image"] for r in result["kodak"]})):
        rows = [r for r in result["kodak"] if r["image"] == name and r["scale"] > 1]
        colour = f"C{i}"
        ax1.plot([r["scale"] for r in rows], [r["psnr_vs_pillow_reduce"] for r in rows], "o-", color=colour,
                 label=f"{name} vs Pillow reduce of the original")
        ax1.plot([r["scale"] for r in rows], [r["psnr_vs_downscaled_decode"] for r in rows], "s--", color=colour,
                 label=f"{name} vs box means of the full decode")
        ax2.plot([r["scale"] for r in rows], [100 * r["time_vs_full"] for r in rows], "o-", color=colour,
                 label=f"{name} (768x512)")
    large = [r for r in result.get("large", []) if r["stage"] not in ("1", "latent")]
    if large:
        large.sort(key=lambda r: int(r["stage"]))
        ax2.plot([int(r["stage"]) for r in large], [100 * r["time_vs_full"] for r in large], "o-", color="C2",
                 label=large[0]["size"])
        floor = next(r for r in result["large"] if r["stage"] == "latent")
        ax2.axhline(100 * floor["time_vs_full"], color="C2", ls=":", label=f"{large[0]['size']}: latent decode alone")
    for ax in (ax1, ax2):
        ax.set_xscale("log", base=2)
        ax.set_xticks([2, 4, 8], ["2", "4", "8"])
        ax.set_xlabel("scale s (output ceil(H/s) x ceil(W/s))")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    ax2.set_ylim(bottom=0)
    ax1.set_ylabel("PSNR-RGB (dB)")
    ax1.set_title("decode(scale=s), quality 75")
    ax2.set_ylabel("decode time, % of the full decode")
    ax2.set_title("time per scale")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", default="kodim23,kodim01")
    ap.add_argument("--quality", type=float, default=75.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--size", default="7680x4320", help="large image (empty: skip)")
    ap.add_argument("--large-repeat", type=int, default=2, help="rounds of runs on the large image")
    ap.add_argument("--alpha", action="store_true", help="give the large image an alpha plane (RGBA)")
    ap.add_argument("--out", help="write the rows as JSON here")
    ap.add_argument("--plot", help="write the figure here (PNG)")
    ap.add_argument("--stage", help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stage:
        child(args.stage, args.path, args.threads)
        return
    rows = kodak_rows([n for n in args.images.split(",") if n], args.quality, args.threads, args.repeat)
    result = {"threads": args.threads, "kodak": rows}
    if args.size:
        result["large"] = large_rows(args.size, args.quality, args.threads, args.large_repeat, args.alpha)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    if args.plot and rows:
        plot(result, args.plot)


if __name__ == "__main__":
    main()
