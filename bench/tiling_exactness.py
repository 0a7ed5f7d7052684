"""How far the stitched tiled transforms are from the whole-image ones (docs/benchmarks.md).

For each image: y from g_a tile by tile (with halo) vs g_a on the whole image (max |difference|,
and relative to max |y|), and the tiled decode vs g_s on the whole decoded latent (code values).

  PYTHONPATH=$PWD python -P bench/tiling_exactness.py --images 1 4 --tile-size 8
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

import jpegai_fast
from jpegai_fast import pixels
from jpegai_fast.encoder import analysis
from jpegai_fast.format import tiling
from jpegai_fast.api import decode_latent, get_engine
from jpegai_fast.files.images import read_image

KODAK = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "kodak"
CPU = torch.device("cpu")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--tile-size", type=int, default=8)
    args = ap.parse_args()
    eng = get_engine()
    g_a = eng.transform("g_a", CPU, 2)
    for n in args.images:
        img = read_image(KODAK / f"kodim{n:02d}.png")
        grid = tiling.make_grid(*eng.latent_shape(*img.shape[:2]), args.tile_size)
        whole = eng.analyse(pixels.pad_to_multiple(pixels.to_model_input(img, 8), 64), CPU)[0]
        stitched = np.zeros_like(whole)
        for i in range(grid.count):
            y0, y1, x0, x1 = grid.rect(i)
            stitched[:, y0:y1, x0:x1] = analysis.analyse_tile(g_a, img, 8, grid, i, eng.analysis_halo)
        dy = float(np.abs(stitched - whole).max())
        data = jpegai_fast.encode(img, quality=50, tile_size=args.tile_size)
        tiled = jpegai_fast.decode(data)
        _, _, y_hat = decode_latent(data)
        ref = pixels.from_model_output(eng.synthesise(y_hat, CPU)[:, :img.shape[0], :img.shape[1]], 3, 8)
        diff = np.abs(ref.astype(int) - tiled)
        print(f"kodim{n:02d} tiles={grid.count} analysis max|dy|={dy:.2e} (max|y|={np.abs(whole).max():.1f}) "
              f"synthesis max diff={diff.max()} code values, differing pixels={np.count_nonzero(diff)}", flush=True)


if __name__ == "__main__":
    main()
