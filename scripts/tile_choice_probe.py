"""What would a per-tile choice between the model and the plane coder gain? (issue 32 item 3; the measurement that
came before encoder/tile_choice.py.) Each tile of an image is coded **on its own** (a crop: no shared
synthesis halo, so the learned side is a little pessimistic) by the model alone at several qualities and by
the plane coder exact and within bounds 1 .. 16; then, per quality, every tile keeps whichever coding costs
least by the model's training cost, lambda(t) x MSE x 255^2 + bits per pixel. Prints both curves and their
BD-rate against an anchor's points when given.

  PYTHONPATH=$PWD python -P scripts/tile_choice_probe.py ../shared/datasets/graphics/artificial.png \\
      --tile 512 --anchor "0.1205:33.18,0.2498:37.64,0.4902:41.37,0.7612:42.63,0.977:42.79"

(the anchor above: WebP on artificial.png at the JPEG AI rates, docs/graphics_anchors/results.csv)
"""
from __future__ import annotations

import argparse

import numpy as np
from PIL import Image

import jpegai_fast
from jpegai_fast.encoder import mode_choice
from jpegai_fast.eval.bdrate import bd_rate
from jpegai_fast.runtime.engine import get_engine

QUALITIES = (10, 25, 40, 55, 70, 85, 100)
BOUNDS = (0, 1, 2, 3, 4, 6, 8, 12, 16)


def _coded(crop: np.ndarray, **kw) -> tuple[int, float]:
    data = jpegai_fast.encode(crop, threads=1, **kw)
    return len(data), float(np.sum((jpegai_fast.decode(data).astype(np.float64) - crop) ** 2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("image")
    ap.add_argument("--tile", type=int, default=512)
    ap.add_argument("--anchor", help="bpp:dB,bpp:dB,... of a peer on the same image")
    args = ap.parse_args()
    img = np.asarray(Image.open(args.image).convert("RGB"))
    h, w = img.shape[:2]
    mode_choice.looks_drawn = lambda _colour: False      # the model alone for the learned codings
    tiles = []
    for y in range(0, h, args.tile):
        for x in range(0, w, args.tile):
            crop = np.ascontiguousarray(img[y:y + args.tile, x:x + args.tile])
            tiles.append(({q: _coded(crop, quality=q) for q in QUALITIES},
                          [_coded(crop, lossless=True) if n == 0 else _coded(crop, max_error=n) for n in BOUNDS]))
    eng = get_engine()
    curves = {"model alone": [], "per-tile choice": []}
    print("quality  model alone (bpp, dB)  per-tile choice (bpp, dB)  plane tiles")
    for q in QUALITIES:
        lam = eng.lmbda(q / 100.0 * (eng.num_rate_points - 1))
        alone = [t[0][q] for t in tiles]
        mixed = [min([t[0][q]] + t[1], key=lambda o: 8 * o[0] + lam * o[1] / 3) for t in tiles]
        row = []
        for name, picks in (("model alone", alone), ("per-tile choice", mixed)):
            nbytes, sse = sum(p[0] for p in picks), sum(p[1] for p in picks)
            point = (nbytes * 8 / (h * w), min(100.0, 10 * np.log10(255 ** 2 * h * w * 3 / max(sse, 1e-9))))
            curves[name].append(point)
            row.append(f"{point[0]:.3f} / {point[1]:.2f}")
        print(f"{q:7d}  {row[0]:>21}  {row[1]:>25}  {sum(m is not a for m, a in zip(mixed, alone))}")
    if args.anchor:
        ar, aq = zip(*(map(float, p.split(":")) for p in args.anchor.split(",")))
        for name, pts in curves.items():
            r, q = zip(*pts)
            print(f"BD-rate vs the anchor, {name}: {bd_rate(ar, aq, r, q):+.1f} %")


if __name__ == "__main__":
    main()
