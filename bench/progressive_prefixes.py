"""Progressive layers: PSNR and decode time of every prefix against single-layer streams of the same
size (docs/benchmarks.md, "Progressive layers"; issue 31's targets: every prefix within 1 dB, the whole
layered stream within 0.25 dB).

  PYTHONPATH=$PWD python -P bench/progressive_prefixes.py --images 23 1 --quality 75 --layers 4 \
      --plot docs/progressive_prefixes.png
  PYTHONPATH=$PWD python -P bench/progressive_prefixes.py --bd --images $(seq 1 24) --layers 4

The single-layer reference is a curve of streams at qualities 0, 5, .., 100 of the same image; a
prefix's gap is its PSNR minus that curve's (linear in log bytes) at the prefix's size. ``--bd``: the
BD-rate (PSNR-RGB) of whole layered streams against single-layer ones over a quality sweep.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import jpegai_fast
from jpegai_fast.files.images import read_image

KODAK = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "kodak"


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0 ** 2 / max(mse, 1e-12)))


def decode_time(data: bytes, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        jpegai_fast.decode(data, threads=1)
        best = min(best, time.perf_counter() - t0)
    return best


def single_layer_curve(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bytes, PSNR) of single-layer streams at qualities 0, 5, .., 100, by size."""
    points = sorted((len(d), psnr(img, jpegai_fast.decode(d)))
                    for d in (jpegai_fast.encode(img, quality=q) for q in range(0, 101, 5)))
    return np.array([p[0] for p in points], float), np.array([p[1] for p in points])


def prefixes(n: int, quality: float, layers: int) -> dict:
    img = read_image(KODAK / f"kodim{n:02d}.png")
    sizes, quality_curve = single_layer_curve(img)
    data = jpegai_fast.encode(img, quality=quality, layers=layers)
    rows = []
    for k, end in enumerate(jpegai_fast.info(data)["layer_ends"]):
        p = psnr(img, jpegai_fast.decode(data[:end]))
        ref = float(np.interp(np.log(end), np.log(sizes), quality_curve))
        rows.append({"layer": k, "bytes": end, "bpp": 8 * end / img.shape[0] / img.shape[1], "psnr": p,
                     "single_layer_psnr": ref, "gap_db": p - ref, "decode_s": decode_time(data[:end])})
    single = jpegai_fast.encode(img, quality=quality)
    return {"image": f"kodim{n:02d}", "rows": rows, "curve": (sizes, quality_curve),
            "single_decode_s": decode_time(single), "pixels": img.shape[0] * img.shape[1]}


def report(results: list[dict], quality: float, layers: int) -> None:
    print("| image | prefix | bytes | bpp | PSNR | single layer at that size | gap | decode s (1 thread) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        for row in r["rows"]:
            print(f"| {r['image']} | 0-{row['layer']} | {row['bytes']:,} | {row['bpp']:.3f} | {row['psnr']:.2f} | "
                  f"{row['single_layer_psnr']:.2f} | {row['gap_db']:+.2f} | {row['decode_s']:.3f} |")
        print(f"| {r['image']} | single layer q{quality:g} | | | | | | {r['single_decode_s']:.3f} |")
    worst = min(row["gap_db"] for r in results for row in r["rows"][:-1])
    full = min(r["rows"][-1]["gap_db"] for r in results)
    print(f"\nworst prefix gap {worst:+.2f} dB (target >= -1.0); worst whole-stream gap {full:+.2f} dB "
          f"(target >= -0.25); {layers} layers at quality {quality:g}")


def plot(results: list[dict], path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r, colour in zip(results, ("tab:blue", "tab:orange", "tab:green", "tab:red")):
        sizes, curve = r["curve"]
        ax.plot(8 * sizes / r["pixels"], curve, "-", color=colour, label=f"{r['image']} single-layer streams")
        ax.plot([row["bpp"] for row in r["rows"]], [row["psnr"] for row in r["rows"]], "o--", color=colour,
                label=f"{r['image']} prefixes of one layered stream")
    ax.set_xscale("log")
    ax.set_xlabel("bits per pixel")
    ax.set_ylabel("PSNR-RGB (dB)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Progressive prefixes against single-layer streams (Kodak)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def layering_bd_rate(images: list[int], qualities: list[float], layers: int) -> None:
    from jpegai_fast.eval.bdrate import bd_rate
    per_image, curves = [], {"single": [], "single_psnr": [], "layered": [], "layered_psnr": []}
    for n in images:
        img = read_image(KODAK / f"kodim{n:02d}.png")
        px = img.shape[0] * img.shape[1]
        point = {k: [] for k in curves}
        for q in qualities:
            for name, kw in (("single", {}), ("layered", {"layers": layers})):
                data = jpegai_fast.encode(img, quality=q, **kw)
                point[name].append(8 * len(data) / px)
                point[name + "_psnr"].append(psnr(img, jpegai_fast.decode(data)))
        per_image.append(bd_rate(point["single"], point["single_psnr"], point["layered"], point["layered_psnr"]))
        for k in curves:
            curves[k].append(point[k])
        print(f"kodim{n:02d}: BD-rate of {layers} layers {per_image[-1]:+.2f}%", flush=True)
    m = {k: np.mean(v, axis=0) for k, v in curves.items()}
    print(f"BD-rate of {layers} layers vs one: {bd_rate(m['single'], m['single_psnr'], m['layered'], m['layered_psnr']):+.2f}% "
          f"(mean curves), {np.mean(per_image):+.2f}% (mean of per-image), max {np.max(per_image):+.2f}%")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, nargs="+", default=[23, 1])
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--quality", type=float, default=75.0)
    ap.add_argument("--plot", help="write the curves to this PNG")
    ap.add_argument("--bd", action="store_true", help="BD-rate of whole layered streams over a quality sweep")
    ap.add_argument("--bd-qualities", type=float, nargs="+", default=[15, 30, 45, 60, 75, 90, 100])
    args = ap.parse_args()
    if args.bd:
        layering_bd_rate(args.images, args.bd_qualities, args.layers)
        return
    results = [prefixes(n, args.quality, args.layers) for n in args.images]
    report(results, args.quality, args.layers)
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()
