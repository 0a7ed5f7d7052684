"""The decoder's float stage: g_s over the latent, tile by tile with a halo, into the pixel array.

g_s runs on each tile's rectangle (clipped to the requested region) plus a halo wider than its
receptive field (format/tiling.py), so the stitched pixels equal the whole-image synthesis up to
float summation order, and a region decode equals the same crop of the full decode.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from jpegai_fast import pixels
from jpegai_fast.decoder.latent import ParsedStream
from jpegai_fast.errors import DecodeError
from jpegai_fast.format import container, tiling
from jpegai_fast.format.tiling import LATENT_PX


def check_finite(x: np.ndarray) -> None:
    """DecodeError for a non-finite synthesis output (min/max carry any NaN or inf, no temporary copy).

    The latent bound (decoder/latent.py) keeps g_s's input within what the model can produce, but that
    alone cannot prove the float transform finite (interval arithmetic over g_s at that bound allows
    ~1e56), so a stream that still overflows it is refused here instead of casting inf/NaN to pixels.
    """
    if x.size and not (np.isfinite(x.min()) and np.isfinite(x.max())):
        raise DecodeError("corrupted stream: the synthesis transform overflowed (non-finite output); "
                          "no encoder makes such a latent")


def synthesise_into(g_s: Callable, y_hat: np.ndarray, core: tuple[int, int, int, int], halo: int,
                    out: np.ndarray, region: tuple[int, int, int, int], channels: int, bit_depth: int,
                    px: int = LATENT_PX) -> None:
    """Run g_s on the latent rectangle ``core`` plus ``halo`` and write its pixels into ``out``.

    ``g_s(y, crop)`` maps a planar float32 array (M, h, w) to the rectangle ``crop`` = (y0, y1, x0, x1) of
    its (3, px h, px w) output (px = 16 for the full synthesis, fewer for a preview head, decoder/scaled.py;
    runtime/engine.with_crop makes one of a whole-output transform). ``y_hat`` is the whole latent (M, lh, lw)
    (only the rectangle and halo are read), ``region`` = (x, y, w, h) the rectangle of that pixel grid
    ``out`` holds; only the part of ``core`` inside it is made and written.
    """
    lh, lw = y_hat.shape[1:]
    ey0, ey1, ex0, ex1 = tiling.expand(core, halo, lh, lw)
    rx, ry, rw, rh = region
    # pixel rectangle of the core, clipped to the region
    py0, py1 = max(core[0] * px, ry), min(core[1] * px, ry + rh)
    px0, px1 = max(core[2] * px, rx), min(core[3] * px, rx + rw)
    if py0 >= py1 or px0 >= px1:
        return
    oy, ox = ey0 * px, ex0 * px
    y, crop = np.ascontiguousarray(y_hat[:, ey0:ey1, ex0:ex1]), (py0 - oy, py1 - oy, px0 - ox, px1 - ox)
    dst = out[py0 - ry:py1 - ry, px0 - rx:px1 - rx]
    if channels == 3 and hasattr(g_s, "pixels_into"):    # the integer synthesis: integers to pixels in the core
        g_s.pixels_into(y, crop, dst, bit_depth)
        return
    part = g_s(y, crop)
    check_finite(part)
    dst[...] = pixels.from_model_output(part, channels, bit_depth)


def learned_cores(p: ParsedStream, cores: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """The ``cores`` (each inside one tile) whose tile the model codes: a plane tile's pixels come from its planes."""
    return [c for c in cores if p.grid.covering(*c)[0] not in p.plane_tiles]


def decode_pixels(p: ParsedStream, region: tuple[int, int, int, int], device, threads: int) -> np.ndarray:
    """The pixels of ``region`` = (x, y, w, h) (checked by the caller), alpha appended when present.

    Only the tiles the region's synthesis needs (its cores plus the halo's neighbours) are decoded.
    """
    h, g, halo = p.header, p.grid, p.eng.synthesis_halo
    rx, ry, rw, rh = region
    px = LATENT_PX
    latent_rect = (ry // px, -(-(ry + rh) // px), rx // px, -(-(rx + rw) // px))
    cores = tiling.synthesis_cores(g, latent_rect)
    needed = sorted({i for c in cores for i in g.covering(*tiling.expand(c, halo, g.lh, g.lw))})
    # ParsedStream already checked every substream's tables (alpha's included); the latent comes first
    # because the alpha plane costs a pass over every pixel (and its memory) that a bad tile makes useless
    y_hat = p.latent(needed, threads)
    a = p.alpha()
    colour = container.colour_channels(h.channels)
    out = np.empty((rh, rw) if colour == 1 else (rh, rw, 3), np.uint8 if h.bit_depth == 8 else np.uint16)
    g_s = p.eng.synthesis(h.version, device, threads)
    for core in learned_cores(p, cores):
        synthesise_into(g_s, y_hat, core, halo, out, region, colour, h.bit_depth)
    if p.plane is not None:
        p.plane.paint(out, region, threads)
    if a is not None:
        a = a[ry:ry + rh, rx:rx + rw]
        out = np.ascontiguousarray(np.dstack([out, a]) if out.ndim == 3 else np.stack([out, a], axis=-1))
    return out
