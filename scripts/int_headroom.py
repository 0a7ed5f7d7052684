"""Before shipping weights (docs/training.md, "Shipping"): does the integer synthesis of format version 7 hold
their activations? Encodes Kodak images with the given weights at several qualities, decodes each latent and
runs g_s step by step in the normative integers (core/int_headroom.py), and prints per step the largest
|activation| as a fraction of its int16 limit and the share of values clipped at it. Exit status 1 if a
hidden step clips more than MAX_CLIPPED of its values: the weights need other fixed-point formats, a new
format version.

  PYTHONPATH=$PWD python -P scripts/int_headroom.py [--weights light.npz] [--images kodim01,kodim23]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image

import jpegai_fast
from jpegai_fast.api import decode_latent
from jpegai_fast.core.int_headroom import MAX_CLIPPED, headroom
from jpegai_fast.core.int_synthesis import IntSynthesis
from jpegai_fast.runtime import network
from jpegai_fast.runtime.weights_file import PATH_ENV

KODAK = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "kodak"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", help="a weights .npz (default: the shipped model)")
    ap.add_argument("--images", default="kodim01,kodim04,kodim08,kodim13,kodim19,kodim23")
    ap.add_argument("--qualities", default="5,40,75,100")
    args = ap.parse_args()
    opts = {}
    if args.weights:  # the encoder takes the path; the decoder finds the model by its id in that folder
        opts["model"] = args.weights
        os.environ[PATH_ENV] = str(Path(args.weights).resolve().parent)
    latents, syn = [], None
    for name in args.images.split(","):
        img = np.asarray(Image.open(KODAK / f"{name}.png").convert("RGB"))
        for q in map(float, args.qualities.split(",")):
            _header, eng, y = decode_latent(jpegai_fast.encode(img, quality=q, **opts))
            syn = syn or IntSynthesis.from_layers(network.transform_layers(eng.weights, "g_s"))
            latents.append(y)
    rows = headroom(syn, latents)
    print("| step | kind | peak / limit | clipped |")
    print("| ---: | --- | ---: | ---: |")
    for r in rows:
        print(f"| {r['step']} | {r['kind']} | {r['peak']:.3g} | {r['saturated']:.2e} |")
    hidden = rows[:-1]
    worst = max(r["saturated"] for r in hidden)
    print(f"\nlargest hidden peak {max(r['peak'] for r in hidden):.3f} of the int16 limit, largest clipped share "
          f"{worst:.2e} (allowed {MAX_CLIPPED:.0e}) over {len(latents)} latents")
    return 1 if worst > MAX_CLIPPED else 0


if __name__ == "__main__":
    sys.exit(main())
