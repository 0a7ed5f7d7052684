"""Reduced-resolution decode: the pixels of ``decode(data, scale=s)``, s in 2, 4, 8 (docs/preview.md).

The latent is decoded as for the full image (the same integer path, only the tiles the region needs);
then the preview head of the stream's model (runtime/preview.py) maps it, piece by piece with a halo,
straight to 1/s size pixels, so no full-resolution pixels exist at any time. A model with no head
falls back to the full synthesis tile by tile, each tile area-downscaled as soon as it is made
(core tiles are whole multiples of 16 px, so no box straddles two of them): the same pixels as an
area downscale of the full decode.

Geometry: the scaled image is ceil(H/s) x ceil(W/s); scaled pixel (i, j) stands for the full-resolution
box [s i, s i + s) x [s j, s j + s) clipped to the image. A region (x, y, w, h) in full-resolution
pixels gives every scaled pixel whose box it touches: columns x // s to ceil((x + w) / s).
"""
from __future__ import annotations

import warnings

import numpy as np

from jpegai_fast import _core, pixels
from jpegai_fast.decoder.latent import ParsedStream
from jpegai_fast.decoder.synthesis import learned_cores, synthesise_into
from jpegai_fast.errors import PreviewFallbackWarning
from jpegai_fast.format import container, tiling
from jpegai_fast.format.tiling import LATENT_PX
from jpegai_fast.runtime import preview

Rect = tuple[int, int, int, int]

#: The pieces the head runs on, in latent positions: bands of 64 rows as wide as the region up to 512
#: columns (8K is 480 wide). The head needs no tile grid (the latent is in memory), so only a piece's
#: edges pay the halo (64 x 64 tiles paid 27 % more work at 8K); the cap keeps the engine's arrays per
#: piece bounded whatever the width (measured peaks at 8K: 215 MB at scale 8, 268 MB at scale 2).
HEAD_PIECE_ROWS, HEAD_PIECE_COLS = 64, 512


def scaled_region(region: Rect, scale: int) -> Rect:
    """The scaled image's rectangle (x, y, w, h) that full-resolution ``region`` touches (module docstring)."""
    x, y, w, h = region
    x0, y0 = x // scale, y // scale
    return x0, y0, -(-(x + w) // scale) - x0, -(-(y + h) // scale) - y0


def full_span(scaled: Rect, scale: int, width: int, height: int) -> Rect:
    """The full-resolution pixels (x, y, w, h) that the boxes of ``scaled`` cover, clipped to the image."""
    x, y, w, h = scaled
    x0, y0 = x * scale, y * scale
    return x0, y0, min((x + w) * scale, width) - x0, min((y + h) * scale, height) - y0


def _latent_rect(region: Rect, px: int) -> Rect:
    """(y0, y1, x0, x1) latent positions whose px x px pixel blocks cover ``region``."""
    x, y, w, h = region
    return y // px, -(-(y + h) // px), x // px, -(-(x + w) // px)


def _needed_tiles(p: ParsedStream, cores: list[Rect], halo: int) -> list[int]:
    g = p.grid
    return sorted({i for c in cores for i in g.covering(*tiling.expand(c, halo, g.lh, g.lw))})


def _empty(p: ParsedStream, w: int, h: int) -> np.ndarray:
    colour = container.colour_channels(p.header.channels)
    return np.empty((h, w) if colour == 1 else (h, w, 3), np.uint8 if p.header.bit_depth == 8 else np.uint16)


def _with_alpha(p: ParsedStream, out: np.ndarray, scaled: Rect, scale: int) -> np.ndarray:
    """``out`` with the alpha plane's box means appended, when the stream has alpha."""
    a = p.alpha()
    if a is None:
        return out
    x, y, w, h = full_span(scaled, scale, p.header.width, p.header.height)
    a = pixels.area_downscale(a[y:y + h, x:x + w], scale)
    return np.ascontiguousarray(np.dstack([out, a]) if out.ndim == 3 else np.stack([out, a], axis=-1))


def _pieces(rect: Rect) -> list[Rect]:
    y0, y1, x0, x1 = rect
    return [(r, min(r + HEAD_PIECE_ROWS, y1), c, min(c + HEAD_PIECE_COLS, x1))
            for r in range(y0, y1, HEAD_PIECE_ROWS) for c in range(x0, x1, HEAD_PIECE_COLS)]


def _by_head(p: ParsedStream, head: preview.PreviewHead, scaled: Rect, scale: int, threads: int) -> np.ndarray:
    r = preview.pixels_per_latent(scale)
    cores = _pieces(_latent_rect(scaled, r))
    y_hat = p.latent(_needed_tiles(p, cores, head.halo), threads)
    out = _empty(p, scaled[2], scaled[3])
    colour = container.colour_channels(p.header.channels)
    scratch = _core.TransformScratch()         # one activation storage for every piece

    def g(y: np.ndarray, crop: Rect) -> np.ndarray:
        return head.run(y, scale, threads, crop, scratch)

    for core in cores:
        synthesise_into(g, y_hat, core, head.halo, out, scaled, colour, p.header.bit_depth, px=r)
    return out


def _by_full_synthesis(p: ParsedStream, scaled: Rect, scale: int, device, threads: int) -> np.ndarray:
    span = full_span(scaled, scale, p.header.width, p.header.height)
    halo = p.eng.synthesis_halo
    cores = tiling.synthesis_cores(p.grid, _latent_rect(span, LATENT_PX))
    y_hat = p.latent(_needed_tiles(p, cores, halo), threads)
    out = _empty(p, scaled[2], scaled[3])
    colour = container.colour_channels(p.header.channels)
    g_s = p.eng.synthesis(p.header.version, device, threads)
    sx, sy, _, _ = span
    for core in learned_cores(p, cores):
        y0, y1 = max(core[0] * LATENT_PX, sy), min(core[1] * LATENT_PX, sy + span[3])
        x0, x1 = max(core[2] * LATENT_PX, sx), min(core[3] * LATENT_PX, sx + span[2])
        piece = _empty(p, x1 - x0, y1 - y0)
        synthesise_into(g_s, y_hat, core, halo, piece, (x0, y0, x1 - x0, y1 - y0), colour, p.header.bit_depth)
        small = pixels.area_downscale(piece, scale)      # x0 - sx, y0 - sy are multiples of scale (docstring)
        oy, ox = (y0 - sy) // scale, (x0 - sx) // scale
        out[oy:oy + small.shape[0], ox:ox + small.shape[1]] = small
    return out


def decode_scaled(p: ParsedStream, region: Rect, scale: int, device, threads: int) -> np.ndarray:
    """The 1/``scale`` size pixels of full-resolution ``region`` (checked by the caller), alpha appended."""
    scaled = scaled_region(region, scale)
    head = preview.head_for(p.eng.model_id.hex())
    if head is None:
        warnings.warn(f"no preview head for model {p.eng.model_id.hex()}: decode(scale={scale}) runs the full "
                      "synthesis, then an area downscale (same pixels, slower; docs/preview.md)",
                      PreviewFallbackWarning, stacklevel=3)
        out = _by_full_synthesis(p, scaled, scale, device, threads)
    else:
        out = _by_head(p, head, scaled, scale, threads)
    if p.plane is not None:
        p.plane.paint(out, scaled, threads, scale)
    return _with_alpha(p, out, scaled, scale)
