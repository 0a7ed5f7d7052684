"""The lossless encode (docs/format.md, "Lossless streams"): every candidate plane of the colour
transforms (format/lossless.py) through the alpha coder at the image's full bit depth, in parallel with
the alpha plane; the transform whose planes code smallest is kept (ties: the lowest value). Then the
copy search (core/copy_map.py) weighs repeats of earlier pixels against the planes' estimated bits, and
the planes are coded again without the copied pixels; the copy map is kept only when the stream gets
smaller. Near-lossless (max_error = N >= 1): every colour sample within +-N (format/lossless.py), the
alpha plane exact, the copy map kept when it makes the stream smaller. decoder/lossless.py mirrors it. No model is loaded: the
stream's model-id field is all zeros.
"""
from __future__ import annotations

import numpy as np

from jpegai_fast.core import alpha_coder, copy_map
from jpegai_fast.encoder import content
from jpegai_fast.format import lossless
from jpegai_fast.format.container import NO_MODEL_ID, ColourTransform, Header, Kind
from jpegai_fast.runtime.execution import map_tiles


def encode(picture, threads: int, max_error: int = 0, copies: bytes | None = None) -> bytes:
    """The lossless stream of ``picture`` (encoder/pipeline.Picture: checked pixels, bit depth, metadata), or
    with ``max_error`` >= 1 (checked against the bit depth by the caller) the near-lossless one; ``copies``
    (near-lossless only): the copy map to code with (near_copies; b"": none) instead of searching."""
    arr, bit_depth = picture.pixels, picture.bit_depth
    has_alpha = arr.ndim == 3 and arr.shape[2] in (2, 4)
    colour = arr if not has_alpha else (arr[..., :-1] if arr.shape[2] == 4 else arr[..., 0])
    if max_error:
        return _near_lossless(picture, colour, has_alpha, max_error, threads, copies)
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


#: The near-lossless encode searches for copies only in a picture where at least this share of the pixels
#: repeat their left neighbour (encoder/content.py): on Kodak 1-6 (shares up to 0.2) the search found no
#: copy that paid and tripled the encode time (6.5x -> 18x JPEG-LS's); on the graphics it saves 12-48 %.
NEAR_COPY_SHARE = 0.25


def near_copies(picture, threads: int) -> bytes:
    """The copy map the copy search finds for a near-lossless encode of ``picture`` (b"": none; the same
    for every bound), for callers that code several bounds (encoder/mode_choice.py)."""
    arr = picture.pixels
    has_alpha = arr.ndim == 3 and arr.shape[2] in (2, 4)
    colour = arr if not has_alpha else (arr[..., :-1] if arr.shape[2] == 4 else arr[..., 0])
    planes = lossless.forward(colour, picture.bit_depth, ColourTransform.NEAR_LOSSLESS)
    return copy_map.find(arr, _near_costs(arr, planes, picture.bit_depth, has_alpha, threads))


def _near_lossless(picture, colour: np.ndarray, has_alpha: bool, near: int, threads: int,
                   copies: bytes | None) -> bytes:
    """The near-lossless stream: colour planes within +-``near``, the alpha plane exact; coded without and
    with the copies of equal source pixels the copy search finds (a copy repeats its source's reconstruction,
    within ``near`` of the equal pixel it stands for), the smaller kept; or with ``copies`` as given."""
    arr, bit_depth = picture.pixels, picture.bit_depth
    planes = lossless.forward(colour, bit_depth, ColourTransform.NEAR_LOSSLESS)   # R, G, B or the grey plane
    if copies is None:
        transform, payloads, alpha = _near_planes(arr, planes, bit_depth, has_alpha, near, b"", threads)
        copies = near_copies(picture, threads) if content.repeat_share(colour) >= NEAR_COPY_SHARE else b""
        if copies:
            again = _near_planes(arr, planes, bit_depth, has_alpha, near, copies, threads)
            if len(copies) + sum(map(len, again[1])) + len(again[2]) < sum(map(len, payloads)) + len(alpha):
                transform, payloads, alpha = again
            else:
                copies = b""
    else:
        transform, payloads, alpha = _near_planes(arr, planes, bit_depth, has_alpha, near, copies, threads)
    side = _side(picture)
    if has_alpha:
        side[Kind.ALPHA] = alpha
    h, w = arr.shape[:2]
    header = Header(w, h, arr.shape[2] if arr.ndim == 3 else 1, bit_depth, NO_MODEL_ID, near,
                    colour_transform=transform, orientation=picture.orientation)
    return lossless.assemble(header, side, payloads, copies)


def _near_costs(arr: np.ndarray, planes: list, bit_depth: int, has_alpha: bool, threads: int) -> np.ndarray:
    """What the copy search weighs a copy against: each pixel's estimated lossless bits over the planes. Not
    less what the quantiser saves: on frymire, costs less log2(2N + 1) per sample found fewer copies and
    streams 5-50 % larger at every N from 1 to 37 (a copy also keeps the pixels after it predictable)."""
    costs = map_tiles(lambda p, _inner: alpha_coder.pixel_costs(p, bit_depth), planes, threads)
    if has_alpha:
        costs.append(alpha_coder.pixel_costs(arr[..., -1], bit_depth))
    return sum(costs)


def _near_planes(arr: np.ndarray, planes: list, bit_depth: int, has_alpha: bool, near: int, copies: bytes,
                 threads: int) -> tuple[int, list[bytes], bytes]:
    """(colour transform, colour payloads, alpha payload or b""): a colour image of at most 15 bits coded
    every way (R, G, B as they are; G, then R against G as decoded, then B against G' or against the mean
    of R' and G'), the smallest kept (ties: the lowest transform value)."""
    green = 1 if len(planes) == 3 else None

    def as_they_are(i, _inner):
        """(payload, G as decoded or None) of plane i; i = len(planes): the alpha plane, exact."""
        if i == len(planes):
            return alpha_coder.encode(arr[..., -1], bit_depth, bit_depth, copies), None
        if i == green:
            return alpha_coder.encode_near(planes[i], bit_depth, near, copies)
        return alpha_coder.encode(planes[i], bit_depth, bit_depth, copies, near=near), None

    coded = map_tiles(as_they_are, list(range(len(planes) + has_alpha)), threads)
    candidates = {ColourTransform.NEAR_LOSSLESS: [c[0] for c in coded[:len(planes)]]}
    if green is not None and bit_depth <= 15:
        bits, g = bit_depth + 1, coded[green][1]
        (r_payload, r_plane), (b_payload, _) = map_tiles(
            lambda p, _inner: alpha_coder.encode_near(p, bits, near, copies),
            [lossless.near_residual(planes[0], g, bit_depth), lossless.near_residual(planes[2], g, bit_depth)], threads)
        candidates[ColourTransform.NEAR_LOSSLESS_SUBTRACT_GREEN] = [coded[green][0], r_payload, b_payload]
        r = lossless.near_unresidual(r_plane, g, bit_depth)
        t = ColourTransform.NEAR_LOSSLESS_B_MINUS_MEAN
        b_mean = lossless.near_residual(planes[2], lossless.b_prediction(t, r, g), bit_depth)
        candidates[t] = [coded[green][0], r_payload, alpha_coder.encode(b_mean, bits, bits, copies, near=near)]
    transform = min(candidates, key=lambda t: (sum(map(len, candidates[t])), t))
    return transform, candidates[transform], coded[-1][0] if has_alpha else b""


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
