"""The lossless encode (docs/format.md, "Lossless streams"): every candidate plane of the colour
transforms (format/lossless.py) through the alpha coder at the image's full bit depth, in parallel with
the alpha plane; the transform whose planes code smallest is kept (ties: the lowest value). Then the
copy search (core/copy_map.py) weighs repeats of earlier pixels against the planes' estimated bits, and
the planes are coded again without the copied pixels; the copy map is kept only when the stream gets
smaller. Near-lossless (max_error = N >= 1): R, G, B (or grey) as they are, each within +-N, no copy
map, the alpha plane exact (format/lossless.py). decoder/lossless.py mirrors it. No model is loaded: the
stream's model-id field is all zeros.
"""
from __future__ import annotations

import numpy as np

from jpegai_fast.core import alpha_coder, copy_map
from jpegai_fast.format import lossless
from jpegai_fast.format.container import NO_MODEL_ID, ColourTransform, Header, Kind
from jpegai_fast.runtime.execution import map_tiles


def encode(picture, threads: int, max_error: int = 0) -> bytes:
    """The lossless stream of ``picture`` (encoder/pipeline.Picture: checked pixels, bit depth, metadata), or
    with ``max_error`` >= 1 (checked against the bit depth by the caller) the near-lossless one."""
    arr, bit_depth = picture.pixels, picture.bit_depth
    has_alpha = arr.ndim == 3 and arr.shape[2] in (2, 4)
    colour = arr if not has_alpha else (arr[..., :-1] if arr.shape[2] == 4 else arr[..., 0])
    if max_error:
        return _near_lossless(picture, colour, has_alpha, max_error, threads)
    if colour.ndim == 2:
        planes = {"grey": lossless.forward(colour, bit_depth)[0]}
    else:
        planes = lossless.derived(colour, bit_depth,      # the exact transforms' candidate planes
                                  dict.fromkeys(n for t in ColourTransform.LOSSLESS for n in lossless.PLANES[t]))
    if has_alpha:
        planes["alpha"] = arr[..., -1]
    # one plane per thread: the coder releases the GIL, and the bytes never depend on the split
    names = list(planes)
    coded = dict(zip(names, map_tiles(lambda n, _inner: alpha_coder.encode(planes[n], bit_depth, bit_depth),
                                      names, threads)))
    if colour.ndim == 2:
        transform, names = lossless.GREY_TRANSFORM, ["grey"]
    else:
        transform = min(ColourTransform.LOSSLESS, key=lambda t: (sum(len(coded[n]) for n in lossless.PLANES[t]), t))
        names = list(lossless.PLANES[transform])
    names += ["alpha"] * has_alpha
    copies, coded = _with_copies(arr, bit_depth, {n: planes[n] for n in names}, {n: coded[n] for n in names},
                                 threads)
    side = _side(picture)
    if has_alpha:
        side[Kind.ALPHA] = coded["alpha"]
    h, w = arr.shape[:2]
    header = Header(w, h, arr.shape[2] if arr.ndim == 3 else 1, bit_depth, NO_MODEL_ID, 0,
                    colour_transform=transform, orientation=picture.orientation)
    return lossless.assemble(header, side, [coded[n] for n in names if n != "alpha"], copies)


def _near_lossless(picture, colour: np.ndarray, has_alpha: bool, near: int, threads: int) -> bytes:
    """The near-lossless stream: colour planes within +-``near``, the alpha plane exact, no copy map. A colour
    image of at most 15 bits is coded every way (R, G, B as they are; G, then R against G as decoded, then B
    against G' or against the mean of R' and G') and the smallest kept (ties: the lowest transform value)."""
    arr, bit_depth = picture.pixels, picture.bit_depth
    planes = lossless.forward(colour, bit_depth, ColourTransform.NEAR_LOSSLESS)   # R, G, B or the grey plane
    green = 1 if len(planes) == 3 else None

    def as_they_are(i, _inner):
        """(payload, G as decoded or None) of plane i; i = len(planes): the alpha plane, exact."""
        if i == len(planes):
            return alpha_coder.encode(arr[..., -1], bit_depth, bit_depth), None
        if i == green:
            return alpha_coder.encode_near(planes[i], bit_depth, near)
        return alpha_coder.encode(planes[i], bit_depth, bit_depth, near=near), None

    coded = map_tiles(as_they_are, list(range(len(planes) + has_alpha)), threads)
    candidates = {ColourTransform.NEAR_LOSSLESS: [c[0] for c in coded[:len(planes)]]}
    if green is not None and bit_depth <= 15:
        bits, g = bit_depth + 1, coded[green][1]
        (r_payload, r_plane), (b_payload, _) = map_tiles(
            lambda p, _inner: alpha_coder.encode_near(p, bits, near),
            [lossless.near_residual(planes[0], g, bit_depth), lossless.near_residual(planes[2], g, bit_depth)], threads)
        candidates[ColourTransform.NEAR_LOSSLESS_SUBTRACT_GREEN] = [coded[green][0], r_payload, b_payload]
        r = lossless.near_unresidual(r_plane, g, bit_depth)
        t = ColourTransform.NEAR_LOSSLESS_B_MINUS_MEAN
        b_mean = lossless.near_residual(planes[2], lossless.b_prediction(t, r, g), bit_depth)
        candidates[t] = [coded[green][0], r_payload, alpha_coder.encode(b_mean, bits, bits, near=near)]
    transform = min(candidates, key=lambda t: (sum(map(len, candidates[t])), t))
    payloads = candidates[transform]
    side = _side(picture)
    if has_alpha:
        side[Kind.ALPHA] = coded[-1][0]
    h, w = arr.shape[:2]
    header = Header(w, h, arr.shape[2] if arr.ndim == 3 else 1, bit_depth, NO_MODEL_ID, near,
                    colour_transform=transform, orientation=picture.orientation)
    return lossless.assemble(header, side, payloads)


def _side(picture) -> dict:
    """{kind: payload} of the metadata the picture carries."""
    return {kind: bytes(picture.metadata[name]) for kind, name in Kind.NAMES.items()
            if picture.metadata.get(name) is not None}


def _with_copies(arr: np.ndarray, bit_depth: int, planes: dict, coded: dict, threads: int) -> tuple[bytes, dict]:
    """(copy map, the payloads by plane name): the planes coded again around the copies the search finds,
    when that makes the stream smaller; else (b"", ``coded`` as it was)."""
    names = list(planes)
    costs = map_tiles(lambda n, _inner: alpha_coder.pixel_costs(planes[n], bit_depth), names, threads)
    found = copy_map.find(arr, sum(costs))
    if not found:
        return b"", coded
    again = dict(zip(names, map_tiles(lambda n, _inner: alpha_coder.encode(planes[n], bit_depth, bit_depth, found),
                                      names, threads)))
    if len(found) + sum(map(len, again.values())) < sum(map(len, coded.values())):
        return found, again
    return b"", coded
