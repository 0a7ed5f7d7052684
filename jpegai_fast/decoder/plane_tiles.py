"""The plane tiles of a learned stream (format/plane_tiles.py): checked with the stream's other cheap checks,
then decoded by the plane coder, as a lossless or near-lossless stream's tile is (decoder/lossless.py), and
painted over the pixels the synthesis leaves there (full size, or box means for ``decode(scale=)``).

The learned tiles next to a plane tile read its latent through g_s's halo, so a plane tile beside a learned
one gets a latent: g_a of its pixels within the pixels around it, as the encoder's analysis saw the image.
Those come from the learned tiles' synthesis, which reads the plane tiles' latents in turn, so two passes:
first g_a of each such plane tile's pixels mirrored around it, then g_a within the synthesis of its
surroundings over the first pass's latents. Measured on artificial.png at quality 70 (7 learned tiles of
512 px among 17 plane tiles), against the same learned tiles in the stream without plane tiles: a zero
latent cost them 1.5 .. 10 dB, the halo stopped at the plane tile (as at the image border) 1.4 .. 7.9 dB, the
first pass alone 0 .. 2.8 dB, both passes 0 .. 0.8 dB. Everything a plane tile's latent depends on lies
within reach() of it, so a region decode reads only the tiles its pixels need and equals the full decode.
"""
from __future__ import annotations

import numpy as np

from jpegai_fast import pixels
from jpegai_fast.core import alpha_coder, copy_map
from jpegai_fast.decoder.lossless import check_plane
from jpegai_fast.errors import DecodeError
from jpegai_fast.format import container, lossless, tiling
from jpegai_fast.format.container import ColourTransform, Kind
from jpegai_fast.runtime.execution import CPU, map_tiles


class PlaneTiles:
    """The plane tiles of parsed stream ``p`` (format/stream.StreamLayout), every copy map decoded and every
    plane's header, tables and initial rANS state checked at construction (no pixel decoded)."""

    def __init__(self, p):
        self.p = p
        h = p.header
        self.planes = container.colour_channels(h.channels)
        self.rects = {t: tiling.pixel_rect(p.grid, t, h.height, h.width) for t in p.plane_tiles}
        self.copies = {}
        self._colour: dict[int, np.ndarray] = {}     # decoded once per decode: the analysis and paint() share it
        for t, (transform, _near) in p.plane_tiles.items():
            th, tw = self._size(t)
            if p.has(Kind.COPY_MAP, t):
                try:
                    self.copies[t] = copy_map.decode(p.payload(Kind.COPY_MAP, t), th, tw)
                except DecodeError as e:
                    raise DecodeError(f"{e} (copy map of plane tile {t})") from e
            for i in range(self.planes):
                check_plane(p.payload(Kind.PLANE, t * self.planes + i), th, tw, self._bits(transform, i),
                            f"plane {i} of plane tile {t}")

    def _size(self, t: int) -> tuple[int, int]:
        y0, y1, x0, x1 = self.rects[t]
        return y1 - y0, x1 - x0

    def _bits(self, transform: int, i: int) -> int:
        return lossless.plane_bits(transform, i, self.p.header.bit_depth)

    def colour(self, t: int) -> np.ndarray:
        """Plane tile ``t``'s colour samples (th x tw or th x tw x 3, uint8 for 8 bits, else uint16)."""
        if t not in self._colour:
            transform, near = self.p.plane_tiles[t]
            payloads = [self.p.payload(Kind.PLANE, t * self.planes + i) for i in range(self.planes)]
            self._colour[t] = colour_of(transform, near, payloads, *self._size(t), self.p.header.bit_depth,
                                        self.copies.get(t), f"plane tile {t}")
        return self._colour[t]

    def _beside(self, tiles) -> list[int]:
        """The plane tiles of ``tiles`` with a learned tile among their 8 neighbours, in order."""
        g = self.p.grid
        return sorted(t for t in tiles if t in self.p.plane_tiles
                      and any(i not in self.p.plane_tiles for i in _around(g, t)))

    def reach(self, tiles: list[int]) -> set[int]:
        """Every tile the latents of the plane tiles of ``tiles`` depend on (analyse_into): those within g_a's
        halo plus g_s's of each one beside a learned tile (the learned ones decoded, the plane ones analysed)."""
        g, eng = self.p.grid, self.p.eng
        out = set()
        for t in self._beside(tiles):
            out.update(g.covering(*tiling.expand(g.rect(t), eng.analysis_halo + eng.synthesis_halo, g.lh, g.lw)))
        return out

    def analyse_into(self, y_hat: np.ndarray, tiles: list[int], threads: int) -> None:
        """The latent of each plane tile of ``tiles`` with a learned tile beside it, written into ``y_hat`` (whose
        learned tiles within reach(tiles) are decoded), in the two passes of the module docstring."""
        g = self.p.grid
        second = self._beside(tiles)
        first = self._beside(self.reach(second))
        g_a = self.p.eng.transform("g_a", CPU, threads)          # the CPU engine: no torch needed to decode
        for t in first:
            y0, y1, x0, x1 = g.rect(t)
            y_hat[:, y0:y1, x0:x1] = self._analyse(g_a, t, self._mirrored(t))
        g_s = self.p.eng.synthesis(self.p.header.version, CPU, threads)
        found = [self._analyse(g_a, t, self._surroundings(g_s, y_hat, t)) for t in second]
        for t, y in zip(second, found):
            y0, y1, x0, x1 = g.rect(t)
            y_hat[:, y0:y1, x0:x1] = y

    def _analysis_rect(self, t: int) -> tuple[int, int, int, int]:
        """Plane tile ``t``'s latent rectangle grown by g_a's halo, within the latent."""
        g = self.p.grid
        return tiling.expand(g.rect(t), self.p.eng.analysis_halo, g.lh, g.lw)

    def _analyse(self, g_a, t: int, around: np.ndarray) -> np.ndarray:
        """g_a of ``around`` (the pixels of _analysis_rect(t)) -> the latent of tile ``t`` alone."""
        ay0, _, ax0, _ = self._analysis_rect(t)
        y0, y1, x0, x1 = self.p.grid.rect(t)
        return g_a(pixels.to_model_input(around, self.p.header.bit_depth), (y0 - ay0, y1 - ay0, x0 - ax0, x1 - ax0))

    def _mirrored(self, t: int) -> np.ndarray:
        """Tile ``t``'s pixels mirrored out to _analysis_rect(t) (then edge-replicated, where a tile is
        smaller than the mirror)."""
        ay0, ay1, ax0, ax1 = (v * tiling.LATENT_PX for v in self._analysis_rect(t))
        y0, _, x0, _ = self.rects[t]
        c = self.colour(t)
        before_y, before_x = y0 - ay0, x0 - ax0
        widths = ((before_y, ay1 - ay0 - before_y - c.shape[0]), (before_x, ax1 - ax0 - before_x - c.shape[1]))
        return _pad(c, widths, "symmetric")

    def _surroundings(self, g_s, y_hat: np.ndarray, t: int) -> np.ndarray:
        """The pixels of _analysis_rect(t): the learned tiles' synthesis from ``y_hat``, the plane tiles' own
        pixels, edge-replicated beyond the image (as the encoder's analysis pads it)."""
        h = self.p.header
        ay0, ay1, ax0, ax1 = self._analysis_rect(t)
        py0, px0 = ay0 * tiling.LATENT_PX, ax0 * tiling.LATENT_PX
        py1, px1 = min(ay1 * tiling.LATENT_PX, h.height), min(ax1 * tiling.LATENT_PX, h.width)
        region = (px0, py0, px1 - px0, py1 - py0)
        out = np.empty((py1 - py0, px1 - px0) + ((3,) if self.planes == 3 else ()),
                       np.uint8 if h.bit_depth == 8 else np.uint16)
        from jpegai_fast.decoder.synthesis import synthesise_into
        for core in tiling.synthesis_cores(self.p.grid, (ay0, ay1, ax0, ax1)):
            i = self.p.grid.covering(*core)[0]
            if i in self.p.plane_tiles:
                cy0, cy1, cx0, cx1 = self.rects[i]
                c = self.colour(i)
                sy0, sy1, sx0, sx1 = max(cy0, py0), min(cy1, py1), max(cx0, px0), min(cx1, px1)
                out[sy0 - py0:sy1 - py0, sx0 - px0:sx1 - px0] = c[sy0 - cy0:sy1 - cy0, sx0 - cx0:sx1 - cx0]
            else:
                synthesise_into(g_s, y_hat, core, self.p.eng.synthesis_halo, out, region, self.planes, h.bit_depth)
        rows, cols = (ay1 - ay0) * tiling.LATENT_PX, (ax1 - ax0) * tiling.LATENT_PX
        return _pad(out, ((0, rows - out.shape[0]), (0, cols - out.shape[1])), "edge")

    def paint(self, out: np.ndarray, region: tuple[int, int, int, int], threads: int, scale: int = 1) -> None:
        """Write every plane tile's pixels that ``region`` (x, y, w, h; with ``scale`` > 1 a rectangle of the
        1/scale image, docs/preview.md) meets into ``out`` (that region's pixels): the tile's samples, or
        their box means (a tile starts on a multiple of 64 px, so no box straddles two tiles)."""
        rx, ry, rw, rh = region

        def one(t: int, _inner: int) -> None:
            y0, y1, x0, x1 = (-(-v // scale) for v in self.rects[t])      # the tile's boxes in the scaled image
            cy0, cy1, cx0, cx1 = max(y0, ry), min(y1, ry + rh), max(x0, rx), min(x1, rx + rw)
            if cy0 >= cy1 or cx0 >= cx1:
                return
            c = self.colour(t)
            c = c if scale == 1 else pixels.area_downscale(c, scale)
            out[cy0 - ry:cy1 - ry, cx0 - rx:cx1 - rx] = c[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]

        map_tiles(one, sorted(self.p.plane_tiles), threads)


def colour_of(transform: int, near: int, payloads: list[bytes], th: int, tw: int, bit_depth: int,
              copies: np.ndarray | None = None, where: str = "plane tile") -> np.ndarray:
    """The colour samples (th x tw, or th x tw x 3) of a tile's plane payloads under ``transform`` within
    ``near`` (``copies``: its decoded copy map); a DecodeError names the damaged plane of ``where``."""
    if transform in ColourTransform.NEAR:        # planes of different bits: one at a time
        planes = []
        for i, payload in enumerate(payloads):
            try:
                planes.append(alpha_coder.decode(payload, th, tw, lossless.plane_bits(transform, i, bit_depth), copies,
                                                 near))
            except DecodeError as e:
                raise DecodeError(f"{e} (plane {i} of {where})") from e
    else:
        try:
            planes = alpha_coder.decode_group(payloads, th, tw, bit_depth, copies)
        except DecodeError as e:        # name the damaged plane: the first that fails alone
            for i, payload in enumerate(payloads):
                try:
                    alpha_coder.decode(payload, th, tw, bit_depth, copies)
                except DecodeError as one:
                    raise DecodeError(f"{one} (plane {i} of {where})") from e
            raise DecodeError(f"{e} ({where})") from e
    return lossless.inverse(planes, bit_depth, transform)


def _around(g: tiling.TileGrid, t: int) -> list[int]:
    """Tile ``t``'s neighbours (8-neighbourhood) in grid ``g``."""
    r, c = divmod(t, g.cols)
    return [rr * g.cols + cc for rr in (r - 1, r, r + 1) for cc in (c - 1, c, c + 1)
            if (rr, cc) != (r, c) and 0 <= rr < g.rows and 0 <= cc < g.cols]


def _pad(arr: np.ndarray, widths, mode: str) -> np.ndarray:
    """np.pad of an image's two spatial axes; "symmetric" beyond the array's own size continues as "edge"."""
    if mode == "symmetric":
        (a, b), (c, d) = widths
        h, w = arr.shape[:2]
        arr = np.pad(arr, ((min(a, h), min(b, h)), (min(c, w), min(d, w))) + ((0, 0),) * (arr.ndim - 2), mode="symmetric")
        widths = ((a - min(a, h), b - min(b, h)), (c - min(c, w), d - min(d, w)))
    return np.pad(arr, tuple(widths) + ((0, 0),) * (arr.ndim - 2), mode="edge")
