"""Alpha-plane bytes: jpegai_fast's alpha coder against PNG's and WebP lossless's alpha (docs/benchmarks.md).

Test alphas made from ../shared data (nothing is copied into the repository):
  * matte: a cut-out of the flower photo (large/flower_foveon.png): a soft matte from the petals'
    saturation, blurred over a few pixels like a real keyed matte;
  * graphics: anti-aliased shapes and text from graphics/frymire.png, thresholded at 4x the size and
    area-downsampled (the way renderers anti-alias);
  * mask: a binary mask, kodim23's luminance thresholded.
PNG's alpha: a greyscale PNG of the plane (Pillow, optimize). WebP's: lossless WebP (method 6) of the
RGBA image with black colour, minus the same image fully opaque. Ours: the alpha substream's bytes.
Decode time of the alpha plane is compared with the colour decode of the same image.

  PYTHONPATH=$PWD python -P bench/alpha_bytes.py
"""
from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"


def test_alphas() -> dict[str, np.ndarray]:
    from jpegai_fast.files.images import read_image
    flower = read_image(SHARED / "large" / "flower_foveon.png")[:1024, :1536].astype(np.float32)
    mx, mn = flower.max(axis=2), flower.min(axis=2)
    sat = (mx - mn) / np.maximum(mx, 1)
    matte = np.clip((sat - 0.35) * 6, 0, 1) * 255
    matte = np.asarray(Image.fromarray(matte.astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.5)))
    fry = read_image(SHARED / "graphics" / "frymire.png")
    grey = fry.mean(axis=2) if fry.ndim == 3 else fry.astype(np.float32)
    big = (np.asarray(Image.fromarray(grey.astype(np.uint8)).resize((grey.shape[1] * 4, grey.shape[0] * 4),
                                                                      Image.BICUBIC)) < 128).astype(np.float32)
    h, w = big.shape[0] // 4, big.shape[1] // 4
    graphics = (big[:4 * h, :4 * w].reshape(h, 4, w, 4).mean(axis=(1, 3)) * 255 + 0.5).astype(np.uint8)
    kodak = read_image(SHARED / "kodak" / "kodim23.png").astype(np.float32)
    mask = ((kodak @ np.array([0.299, 0.587, 0.114])) > 110).astype(np.uint8) * 255
    return {"matte": matte.astype(np.uint8), "graphics": graphics, "mask": mask}


def png_alpha(a: np.ndarray) -> int:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG", optimize=True)
    return len(buf.getvalue())


def webp_alpha(a: np.ndarray) -> int:
    def size(alpha):
        buf = io.BytesIO()
        Image.fromarray(np.dstack([np.zeros(a.shape + (3,), np.uint8), alpha])).save(
            buf, format="WEBP", lossless=True, quality=100, method=6)
        return len(buf.getvalue())
    return size(a) - size(np.full_like(a, 255))


def main() -> list:
    import jpegai_fast
    from jpegai_fast import _core
    from jpegai_fast.core import alpha_coder
    rows = []
    for name, a in test_alphas().items():
        ours = len(alpha_coder.encode(a, 8, 8))
        px = a.size
        rgb = np.zeros(a.shape + (3,), np.uint8) + np.uint8(128)
        data = jpegai_fast.encode(np.dstack([rgb, a]), quality=50, threads=2)
        colour = jpegai_fast.encode(rgb, quality=50, threads=2)
        payload = alpha_coder.encode(a, 8, 8)
        t0 = time.perf_counter()
        for _ in range(5):
            _core.alpha_decode(payload, *a.shape, 8)
        t_alpha = (time.perf_counter() - t0) / 5
        t0 = time.perf_counter()
        jpegai_fast.decode(colour, threads=2)
        t_colour = time.perf_counter() - t0
        row = {"image": name, "size": f"{a.shape[1]}x{a.shape[0]}", "ours": ours, "png": png_alpha(a),
               "webp_lossless": webp_alpha(a), "ours_bpp": 8 * ours / px, "alpha_decode_ms": 1e3 * t_alpha,
               "colour_decode_ms": 1e3 * t_colour}
        assert np.array_equal(jpegai_fast.decode(data)[..., 3], a)
        rows.append(row)
        print(f"{name:9s} {row['size']:>10s}  ours {ours:7d} B ({row['ours_bpp']:.4f} bpp)  PNG {row['png']:7d} B  "
              f"WebP lossless {row['webp_lossless']:7d} B  alpha decode {row['alpha_decode_ms']:.1f} ms vs colour "
              f"{row['colour_decode_ms']:.0f} ms", flush=True)
    return rows


if __name__ == "__main__":
    main()
