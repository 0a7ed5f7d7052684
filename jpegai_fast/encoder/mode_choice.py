"""Learned or model-free, per image: on drawn content the plane coder can beat the model at the same rate.

The model was trained on photos; on graphics it saturates (frymire: 21.4 dB however many bits) where the
plane coder (encoder/lossless.py) with its copy map codes the image exactly in 1.41 bpp. So on an image
that looks drawn (``looks_drawn``), a lossy encode also codes the image without the model, near-lossless
at the largest bound whose worst-case error is no worse than the learned stream's, and keeps a model-free
stream when it is **no larger and no worse** (PSNR over the colour samples) than the learned one. It then
spends the bytes the learned stream would have used (or the size target, bpp= or size=): the bound is
lowered while the stream still fits, down to lossless, so quality=100 on a drawing is exact when the
exact stream is no larger than the model's. Beside it, for a picture of few colours, the exact stream of the
picture reduced to the largest palette that fits (frymire at 1 bpp: 28.9 dB against the model's 20.8);
whichever model-free stream decodes closest wins. A PSNR target takes the bound that guarantees it (worst
case), when that stream is smaller than the model's or the model cannot reach the target. Photos never
pay for the try: the test is one comparison of neighbouring pixels (encoder/content.py).

The learned stream it weighs is already mixed: encoder/tile_choice.py has given its drawn tiles to the planes
where the model's own cost says so (docs/format.md, "Plane tiles"); this choice adds the whole-image streams
(near-lossless at one bound for every tile, palettes) beside it.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from jpegai_fast.encoder import content
from jpegai_fast.format.container import max_near

#: An image looks drawn when at least this share of its pixels repeat their left neighbour exactly
#: (encoder/content.py has the measured shares: photos at most 0.40, the shared graphics 0.82 and 0.85).
DRAWN_SHARE = 0.5
#: Most bound probes of a size target's search (each codes the planes once: a bisection over 1 .. N).
MAX_PROBES = 6
#: The palettes tried for a drawing (bisection: three or four exact encodes). Measured on frymire (3,622
#: colours): 64 / 128 / 256 colours code in 0.82 / 0.93 / 1.05 bpp at 25.0 / 27.8 / 30.0 dB, where WebP
#: gives 22.0 dB at 0.76 bpp and 23.4 at 1.0, and the model 20.8 dB at 1.0; on artificial (134,683 colours)
#: 256 colours give 34.9 dB at 0.52 bpp, below the model (38.9 dB at 0.50): the choice keeps the model there.
PALETTE_SIZES = (16, 24, 32, 48, 64, 96, 128, 192, 256)
#: Below this many colours Pillow's median cut, from it on its octree: frymire / artificial at 32 colours
#: 21.3 / 25.1 dB (median cut) against 14.4 / 21.0 (octree), at 64 24.2 / 27.7 against 25.0 / 23.3, at 128
#: 27.7 / 30.6 against 27.8 / 32.1.
OCTREE_FROM = 64
#: Palettes are tried only for a picture of at most this many colours (Pillow's getcolors): frymire has
#: 3,622 and its palettes beat the model; artificial has 134,683, its 256-colour palette gives 34.9 dB at
#: 0.52 bpp against the model's 38.9 dB at 0.50, and trying them cost ~27 s of its encode.
PALETTE_MAX_COLOURS = 16384


def looks_drawn(colour: np.ndarray) -> bool:
    """Whether ``colour`` (H x W or H x W x 3) repeats its left neighbour exactly often enough to be drawn."""
    return content.repeat_share(colour) >= DRAWN_SHARE


def bound_for_mse(mse: float, bit_depth: int) -> int:
    """The largest near-lossless bound N whose worst-case mean squared error, N (N + 1) / 3 (errors spread
    evenly over -N .. N), is at most ``mse``; 0 (lossless) when even N = 1 could be worse."""
    n = int(np.floor((np.sqrt(1.0 + 12.0 * max(mse, 0.0)) - 1.0) / 2.0))
    while n > 0 and n * (n + 1) / 3.0 > mse:          # the float root may land one high
        n -= 1
    return min(n, max_near(bit_depth))


def mse_of(data: bytes, colour: np.ndarray, threads: int, device=None) -> float:
    """Mean squared error of ``data``'s colour samples against ``colour`` (the real decoder's output)."""
    from jpegai_fast.decoder.latent import ParsedStream
    from jpegai_fast.decoder.lossless import LosslessStream
    from jpegai_fast.decoder.synthesis import decode_pixels
    from jpegai_fast.format import container
    header = container.read(data)
    if container.is_model_free(header):
        out = LosslessStream(data, header).decode(threads)
    else:
        h, w = colour.shape[:2]
        out = decode_pixels(ParsedStream(data), (0, 0, w, h), device, threads)
    out = content.colour_and_alpha(out)[0]          # both decoders append the alpha plane
    return float(np.mean((out.astype(np.float64) - colour) ** 2))


def better_stream(picture, learned: bytes, colour: np.ndarray, threads: int, device=None,
                  target_bytes: float | None = None, target_psnr: float | None = None,
                  mse_learned: float | None = None) -> bytes:
    """``learned``, or the best model-free stream of ``picture`` that is no larger (than ``learned``, or than
    ``target_bytes`` when given) and no worse than it: near-lossless or exact (``_bounded``), or the exact
    stream of the picture reduced to a palette (``_palette``), whichever decodes closest. With
    ``target_psnr``: the model-free stream whose bound guarantees the target, when it is smaller than
    ``learned`` or ``learned`` misses the target. ``mse_learned``: ``learned``'s colour MSE when the caller
    has measured it (else it is decoded here)."""
    from jpegai_fast.encoder import lossless
    if mse_learned is None:
        mse_learned = mse_of(learned, colour, threads, device)
    if target_psnr is not None:
        peak = float((1 << picture.bit_depth) - 1)
        mse_target = peak * peak / 10.0 ** (target_psnr / 10.0)
        found = lossless.encode(picture, threads, bound_for_mse(mse_target, picture.bit_depth))
        return found if len(found) < len(learned) or mse_learned > mse_target else learned
    budget = len(learned) if target_bytes is None else max(int(target_bytes), len(learned))
    best, best_mse = learned, mse_learned
    for found in (_bounded(picture, threads, budget, mse_learned), _palette(picture, threads, budget)):
        if found is not None:
            mse = mse_of(found, colour, threads)
            if mse <= best_mse:
                best, best_mse = found, mse
    return best


def _bounded(picture, threads: int, budget: int, mse_learned: float) -> bytes | None:
    """The near-lossless stream of the smallest bound that fits ``budget`` bytes, starting from the bound whose
    worst case is the learned stream's error (lossless when that bound is 0 or even bound 1 fits); None when
    that first bound does not fit."""
    from jpegai_fast.encoder import lossless
    near = bound_for_mse(mse_learned, picture.bit_depth)
    if near == 0:
        exact = lossless.encode(picture, threads)
        return exact if len(exact) <= budget else None
    copies = lossless.near_copies(picture, threads)
    found = lossless.encode(picture, threads, near, copies)
    if len(found) > budget:
        return None
    return _spend_the_budget(picture, threads, copies, budget, near, found)


def _palette(picture, threads: int, budget: int) -> bytes | None:
    """The exact stream of the picture's colour reduced to the largest palette of PALETTE_SIZES whose stream
    fits ``budget`` bytes (Pillow's quantisers, no dithering; the alpha plane kept), or None (none fits,
    or not an 8-bit picture: the quantiser works on 8-bit samples)."""
    from jpegai_fast.encoder import lossless
    if picture.bit_depth != 8 or colours(picture.pixels) > PALETTE_MAX_COLOURS:
        return None
    lo, hi, fits = -1, len(PALETTE_SIZES), None      # bisection: the largest index whose stream fits
    while hi - lo > 1:
        mid = (lo + hi) // 2
        data = lossless.encode(dataclasses.replace(picture, pixels=reduced(picture.pixels, PALETTE_SIZES[mid])),
                               threads)
        if len(data) <= budget:
            lo, fits = mid, data
        else:
            hi = mid
    return fits


def colours(arr: np.ndarray) -> int:
    """How many distinct colours an 8-bit picture has, counted up to PALETTE_MAX_COLOURS + 1."""
    from PIL import Image
    colour, _alpha = content.colour_and_alpha(arr)
    found = Image.fromarray(np.ascontiguousarray(colour)).getcolors(PALETTE_MAX_COLOURS)
    return PALETTE_MAX_COLOURS + 1 if found is None else len(found)


def reduced(arr: np.ndarray, size: int) -> np.ndarray:
    """``arr`` (8-bit, any layout) with its colour samples mapped to a palette of at most ``size`` entries."""
    from PIL import Image
    colour, alpha = content.colour_and_alpha(arr)
    grey = colour.ndim == 2
    image = Image.fromarray(np.ascontiguousarray(np.stack([colour] * 3, -1) if grey else colour), "RGB")
    method = Image.Quantize.FASTOCTREE if size >= OCTREE_FROM else Image.Quantize.MEDIANCUT
    out = np.asarray(image.quantize(colors=size, method=method, dither=Image.Dither.NONE).convert("RGB"))
    out = out[..., 0] if grey else out
    if alpha is None:
        return np.ascontiguousarray(out)
    return np.ascontiguousarray(np.dstack([out, alpha]) if not grey else np.stack([out, alpha], -1))


def _spend_the_budget(picture, threads: int, copies: bytes, budget: int, near: int, fits: bytes) -> bytes:
    """The stream of the smallest bound (bisection over 1 .. ``near``, whose stream ``fits``) that still fits
    ``budget`` bytes; lossless when even bound 1 fits and the exact stream does too."""
    from jpegai_fast.encoder import lossless
    lo, hi = 0, near                       # hi fits; lo (0 = lossless) is not known to
    for _ in range(MAX_PROBES):
        if hi - lo <= 1:
            break
        mid = (lo + hi) // 2
        data = lossless.encode(picture, threads, mid, copies)
        if len(data) <= budget:
            hi, fits = mid, data
        else:
            lo = mid
    if hi == 1:
        exact = lossless.encode(picture, threads)
        if len(exact) <= budget:
            return exact
    return fits
