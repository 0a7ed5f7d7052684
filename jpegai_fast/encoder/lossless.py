"""The lossless encode (docs/format.md, "Lossless streams"), tile by tile: every candidate plane of the
colour transforms (format/lossless.py) through the alpha coder at the image's full bit depth, in parallel
with the alpha plane; the transform whose planes code smallest over all tiles is kept (ties: the lowest
value). Then per tile the copy search (core/copy_map.py) weighs repeats of earlier pixels against the
planes' estimated bits, and the planes are coded again without the copied pixels; a tile keeps its copy
map only when it gets smaller. Near-lossless (max_error = N >= 1): every colour sample within +-N
(format/lossless.py), the alpha plane exact, copies on drawn content. decoder/lossless.py mirrors it. No
model is loaded: the stream's model-id field is all zeros.
"""
from __future__ import annotations

import numpy as np

from jpegai_fast.core import alpha_coder, copy_map
from jpegai_fast.encoder import content
from jpegai_fast.format import lossless, tiling
from jpegai_fast.format.container import NO_MODEL_ID, ColourTransform, Header, Kind
from jpegai_fast.format.lossless import CodedTile
from jpegai_fast.runtime.execution import map_tiles

#: The default tile side of a model-free stream, in latent positions of 16 px: 2048 px. Tiles bound the
#: coder's memory (whole planes: 507 MB for a 3840x2160 encode) and give threads whole tiles to share; each
#: costs bytes (its own tables and contexts, copies only inside it): artificial.png (3072x2048) +1.9 % at
#: 2048 px, +5.5 % at 1024 px. Images up to 2048 px a side stay one tile.
TILE_SIZE = 128
#: The near-lossless encode searches for copies only in a picture where at least this share of the pixels
#: repeat their left neighbour (encoder/content.py): on Kodak 1-6 (shares up to 0.2) the search found no
#: copy that paid and tripled the encode time (6.5x -> 18x JPEG-LS's); on the graphics it saves 12-48 %.
NEAR_COPY_SHARE = 0.25


def encode(picture, threads: int, max_error: int = 0, copies: list[bytes] | None = None,
           tile_size: int = TILE_SIZE) -> bytes:
    """The lossless stream of ``picture`` (encoder/pipeline.Picture: checked pixels, bit depth, metadata), or
    with ``max_error`` >= 1 (checked against the bit depth by the caller) the near-lossless one; ``copies``
    (near-lossless only): each tile's copy map to code with (near_copies; b"": none) instead of searching."""
    header, tiles = code(picture, threads, max_error, copies, tile_size)
    return lossless.assemble(header, metadata_of(picture), tiles)


def code(picture, threads: int, max_error: int = 0, copies: list[bytes] | None = None,
         tile_size: int = TILE_SIZE) -> tuple[Header, list[CodedTile]]:
    """encode()'s header (its substream table left empty) and coded tiles, before their assembly."""
    arr, bit_depth = picture.pixels, picture.bit_depth
    h, w = arr.shape[:2]
    grid = _grid(h, w, tile_size)
    rects = [tiling.pixel_rect(grid, i, h, w) for i in range(grid.count)]
    if max_error:
        transform, tiles = near_tiles(arr, rects, bit_depth, max_error, copies, threads)
    else:
        transform, tiles = exact_tiles(arr, rects, bit_depth, threads)
    header = Header(w, h, arr.shape[2] if arr.ndim == 3 else 1, bit_depth, NO_MODEL_ID, max_error,
                    colour_transform=transform, orientation=picture.orientation, tile_size=grid.size)
    return header, tiles


def _grid(h: int, w: int, tile_size: int) -> tiling.TileGrid:
    return tiling.make_grid(*tiling.latent_shape(h, w), tile_size)


def _crop(arr: np.ndarray, rect) -> np.ndarray:
    y0, y1, x0, x1 = rect
    return arr[y0:y1, x0:x1]


def exact_tiles(arr: np.ndarray, rects, bit_depth: int, threads: int) -> tuple[int, list[CodedTile]]:
    """(colour transform, coded tiles) of the exact stream."""
    grey = content.colour_and_alpha(arr)[0].ndim == 2
    names = (["grey"] if grey else
             list(dict.fromkeys(n for t in ColourTransform.LOSSLESS for n in lossless.PLANES[t])))

    def planes_of(rect, wanted) -> dict:
        colour, alpha = content.colour_and_alpha(_crop(arr, rect))
        out = ({"grey": lossless.forward(colour, bit_depth)[0]} if grey else
               lossless.derived(colour, bit_depth, dict.fromkeys(n for n in wanted if n != "alpha")))
        if alpha is not None and "alpha" in wanted:
            out["alpha"] = alpha
        return out

    with_alpha = names + ["alpha"] * (content.colour_and_alpha(arr)[1] is not None)
    coded = []
    for rect in rects:       # tile by tile (memory: one tile's planes), its planes in parallel (GIL released)
        planes = planes_of(rect, with_alpha)
        coded.append(dict(zip(with_alpha, map_tiles(
            lambda n, _inner: alpha_coder.encode(planes[n], bit_depth, bit_depth), with_alpha, threads))))
    if grey:
        transform, chosen = lossless.GREY_TRANSFORM, ["grey"]
    else:
        transform = min(ColourTransform.LOSSLESS,
                        key=lambda t: (sum(len(c[n]) for c in coded for n in lossless.PLANES[t]), t))
        chosen = list(lossless.PLANES[transform])
    chosen += with_alpha[len(names):]
    tiles = []
    for rect, c in zip(rects, coded):
        planes = planes_of(rect, chosen)      # made again (cheap) rather than every tile's kept from the first pass
        found, payloads = _with_copies(_crop(arr, rect), bit_depth, planes, {n: c[n] for n in chosen}, threads)
        tiles.append(CodedTile(found, [payloads[n] for n in chosen if n != "alpha"], payloads.get("alpha", b"")))
    return transform, tiles


def near_copies(picture, threads: int, tile_size: int = TILE_SIZE) -> list[bytes]:
    """Each tile's copy map the copy search finds for a near-lossless encode of ``picture`` (b"": none; the
    same for every bound), for callers that code several bounds (encoder/mode_choice.py)."""
    arr, bit_depth = picture.pixels, picture.bit_depth
    grid = _grid(*arr.shape[:2], tile_size)
    return [near_search(_crop(arr, tiling.pixel_rect(grid, i, *arr.shape[:2])), bit_depth, threads)
            for i in range(grid.count)]


def near_search(arr: np.ndarray, bit_depth: int, threads: int) -> bytes:
    """The copy map of a near-lossless tile, weighed against the lossless bits of R, G, B (or grey) and alpha.
    Not less what the quantiser saves: on frymire, costs less log2(2N + 1) per sample found fewer copies and
    streams 5-50 % larger at every N from 1 to 37 (a copy also keeps the pixels after it predictable)."""
    colour, alpha = content.colour_and_alpha(arr)
    planes = lossless.forward(colour, bit_depth, ColourTransform.NEAR_LOSSLESS)
    return _find_copies(arr, planes + ([alpha] if alpha is not None else []), bit_depth, threads)


def _find_copies(arr: np.ndarray, planes: list, bit_depth: int, threads: int) -> bytes:
    """The copy search over a tile's pixels, each copy weighed against the planes' estimated bits (the coder's
    own estimate, summed over ``planes``); b"" when none pays."""
    costs = map_tiles(lambda p, _inner: alpha_coder.pixel_costs(p, bit_depth), planes, threads)
    return copy_map.find(arr, sum(costs))


def near_tiles(arr: np.ndarray, rects, bit_depth: int, near: int, copies: list[bytes] | None,
                threads: int) -> tuple[int, list[CodedTile]]:
    """(colour transform, coded tiles) of the near-lossless stream: per tile every layout, without and (on
    drawn content, or with ``copies`` as given) with the copies of equal source pixels (a copy repeats its
    source's reconstruction, within ``near`` of the equal pixel it stands for); the transform smallest over
    all tiles, each tile in its smaller variant."""
    search = copies is None and content.repeat_share(content.colour_and_alpha(arr)[0]) >= NEAR_COPY_SHARE
    options = []        # per tile: [(copy map, {transform: payloads}, alpha payload)]
    for i, rect in enumerate(rects):
        tile = _crop(arr, rect)
        colour, _alpha = content.colour_and_alpha(tile)
        planes = lossless.forward(colour, bit_depth, ColourTransform.NEAR_LOSSLESS)   # R, G, B or grey
        given = copies[i] if copies is not None else b""
        variants = [(given, *_near_planes(tile, planes, bit_depth, near, given, threads))]
        found = near_search(tile, bit_depth, threads) if search else b""
        if found:
            variants.append((found, *_near_planes(tile, planes, bit_depth, near, found, threads)))
        options.append(variants)

    def size(variant, t) -> int:
        found, candidates, alpha = variant
        return len(found) + sum(map(len, candidates[t])) + len(alpha)

    transforms = options[0][0][1]
    transform = min(transforms, key=lambda t: (sum(min(size(v, t) for v in vs) for vs in options), t))
    tiles = []
    for variants in options:
        found, candidates, alpha = min(variants, key=lambda v: size(v, transform))
        tiles.append(CodedTile(found, candidates[transform], alpha))
    return transform, tiles


def _near_planes(arr: np.ndarray, planes: list, bit_depth: int, near: int, copies: bytes,
                 threads: int) -> tuple[dict[int, list[bytes]], bytes]:
    """({colour transform: colour payloads}, alpha payload or b"") of one tile: a colour image of at most 15
    bits coded every way (R, G, B as they are; G, then R against G as decoded, then B against G' or against
    the mean of R' and G'); grey and 16-bit colour only as they are."""
    alpha = content.colour_and_alpha(arr)[1]
    green = 1 if len(planes) == 3 else None

    def as_they_are(i, _inner):
        """(payload, G as decoded or None) of plane i; i = len(planes): the alpha plane, exact."""
        if i == len(planes):
            return alpha_coder.encode(np.ascontiguousarray(alpha), bit_depth, bit_depth, copies), None
        if i == green:
            return alpha_coder.encode_near(planes[i], bit_depth, near, copies)
        return alpha_coder.encode(planes[i], bit_depth, bit_depth, copies, near=near), None

    coded = map_tiles(as_they_are, list(range(len(planes) + (alpha is not None))), threads)
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
    return candidates, coded[-1][0] if alpha is not None else b""


def metadata_of(picture) -> dict:
    """{kind: payload} of the metadata the picture carries."""
    return {kind: bytes(picture.metadata[name]) for kind, name in Kind.NAMES.items()
            if picture.metadata.get(name) is not None}


def _with_copies(arr: np.ndarray, bit_depth: int, planes: dict, coded: dict, threads: int) -> tuple[bytes, dict]:
    """(copy map, the payloads by plane name): the planes coded again around the copies the search finds,
    when that makes the stream smaller; else (b"", ``coded`` as it was)."""
    names = list(planes)
    found = _find_copies(arr, [planes[n] for n in names], bit_depth, threads)
    if not found:
        return b"", coded
    again = dict(zip(names, map_tiles(lambda n, _inner: alpha_coder.encode(planes[n], bit_depth, bit_depth, found),
                                      names, threads)))
    if len(found) + sum(map(len, again.values())) < sum(map(len, coded.values())):
        return found, again
    return b"", coded
