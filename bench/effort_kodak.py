"""Encoder effort levels on Kodak with real streams: BD-rate against effort 1 and encode time per level.

Each (image, effort, quality) is one real encode + decode; rows are appended to ``--out`` (JSON lines) as
they finish, so a long run can be stopped and resumed (rows already there are skipped). ``--summary``
prints BD-rate (PSNR-RGB and MS-SSIM, mean curves and mean of per-image values) of every effort level
against effort 1 over the images that have all qualities, and the median encode time per level.

  PYTHONPATH=$PWD python -P bench/effort_kodak.py --images 1 2 3 4 5 6 7 8 --efforts 1 9 \\
      --qualities 30 45 60 75 --threads 2 --out bench/results/effort_kodak.jsonl
  PYTHONPATH=$PWD python -P bench/effort_kodak.py --summary --out bench/results/effort_kodak.jsonl
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

KODAK = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "kodak"


def measure(images, efforts, qualities, threads: int, out: Path) -> None:
    import jpegai_fast
    from jpegai_fast.runtime.engine import get_engine
    from jpegai_fast.eval.metrics import ms_ssim_rgb, psnr_rgb
    from jpegai_fast.files.images import read_image
    done = set()
    if out.exists():
        for line in out.read_text().splitlines():
            r = json.loads(line)
            done.add((r["image"], r["effort"], r["quality"]))
    model_id = get_engine().model_id.hex()
    for n in images:
        img = read_image(KODAK / f"kodim{n:02d}.png")
        for q in qualities:
            for e in efforts:
                if (n, e, q) in done:
                    continue
                t0 = time.perf_counter()
                data = jpegai_fast.encode(img, quality=q, effort=e, threads=threads)
                t_enc = time.perf_counter() - t0
                dec = jpegai_fast.decode(data, threads=threads)
                row = {"image": n, "effort": e, "quality": q, "bpp": 8 * len(data) / (img.shape[0] * img.shape[1]),
                       "psnr": psnr_rgb(img, dec), "ms_ssim": ms_ssim_rgb(img, dec), "encode_s": t_enc,
                       "threads": threads, "model_id": model_id}
                with out.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                print(f"kodim{n:02d} q{q:g} effort {e}: {row['bpp']:.4f} bpp {row['psnr']:.3f} dB "
                      f"ms-ssim {row['ms_ssim']:.4f} {t_enc:.1f} s", flush=True)


def summary(out: Path) -> dict:
    from jpegai_fast.eval.bdrate import bd_rate
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    qualities = sorted({r["quality"] for r in rows})
    table: dict = {}
    for r in rows:
        table.setdefault(r["effort"], {}).setdefault(r["image"], {})[r["quality"]] = r
    base = table.get(1, {})
    result = {}
    for e in sorted(table):
        if e == 1:
            continue
        images = [n for n in table[e] if n in base and all(q in table[e][n] and q in base[n] for q in qualities)]
        if not images:
            continue

        def curve(eff, key):
            return np.array([[table[eff][n][q][key] for q in qualities] for n in images])
        res = {"images": images}
        for metric in ("psnr", "ms_ssim"):
            ba, qa, bt, qt = curve(1, "bpp"), curve(1, metric), curve(e, "bpp"), curve(e, metric)
            if metric == "ms_ssim":   # BD on the dB scale of MS-SSIM, as CompressAI and JPEG AI report it
                qa, qt = -10 * np.log10(1 - qa), -10 * np.log10(1 - qt)
            res[f"bd_{metric}_mean_curves"] = bd_rate(ba.mean(0), qa.mean(0), bt.mean(0), qt.mean(0))
            res[f"bd_{metric}_per_image"] = float(np.mean([bd_rate(ba[i], qa[i], bt[i], qt[i])
                                                           for i in range(len(images))]))
        res["encode_s_median"] = float(np.median([table[e][n][q]["encode_s"] for n in images for q in qualities]))
        res["encode_s_median_effort1"] = float(np.median([base[n][q]["encode_s"] for n in images for q in qualities]))
        res["bpp_range"] = [float(curve(e, "bpp").mean(0).min()), float(curve(e, "bpp").mean(0).max())]
        result[e] = res
        print(f"effort {e} vs 1 on {len(images)} images x {len(qualities)} qualities: BD-rate PSNR "
              f"{res['bd_psnr_mean_curves']:+.2f}% (per-image {res['bd_psnr_per_image']:+.2f}%), MS-SSIM "
              f"{res['bd_ms_ssim_mean_curves']:+.2f}% (per-image {res['bd_ms_ssim_per_image']:+.2f}%); encode "
              f"median {res['encode_s_median']:.1f} s (effort 1: {res['encode_s_median_effort1']:.2f} s); "
              f"bpp {res['bpp_range'][0]:.3f}-{res['bpp_range'][1]:.3f}")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6, 7, 8])
    ap.add_argument("--efforts", type=int, nargs="+", default=[1, 9])
    ap.add_argument("--qualities", type=float, nargs="+", default=[30, 45, 60, 75])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("bench/results/effort_kodak.jsonl"))
    ap.add_argument("--summary", action="store_true", help="only summarise --out")
    args = ap.parse_args()
    if not args.summary:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        measure(args.images, args.efforts, args.qualities, args.threads, args.out)
    summary(args.out)


if __name__ == "__main__":
    main()
