"""The lossless encode (docs/format.md, "Lossless streams"): every candidate plane of the colour
transforms (format/lossless.py) through the alpha coder at the image's full bit depth, in parallel with
the alpha plane; the transform whose planes code smallest is kept (ties: the lowest value).
decoder/lossless.py mirrors it. No model is loaded: the stream's model-id field is all zeros.
"""
from __future__ import annotations

from jpegai_fast.core import alpha_coder
from jpegai_fast.format import lossless
from jpegai_fast.format.container import NO_MODEL_ID, Header, Kind
from jpegai_fast.runtime.execution import map_tiles


def encode(picture, threads: int) -> bytes:
    """The lossless stream of ``picture`` (encoder/pipeline.Picture: checked pixels, bit depth, metadata)."""
    arr, bit_depth = picture.pixels, picture.bit_depth
    has_alpha = arr.ndim == 3 and arr.shape[2] in (2, 4)
    colour = arr if not has_alpha else (arr[..., :-1] if arr.shape[2] == 4 else arr[..., 0])
    if colour.ndim == 2:
        planes = {"grey": lossless.forward(colour, bit_depth)[0]}
    else:
        planes = lossless.derived(colour, bit_depth)
    if has_alpha:
        planes["alpha"] = arr[..., -1]
    # one plane per thread: the coder releases the GIL, and the bytes never depend on the split
    names = list(planes)
    coded = dict(zip(names, map_tiles(lambda n, _inner: alpha_coder.encode(planes[n], bit_depth, bit_depth),
                                      names, threads)))
    if colour.ndim == 2:
        transform, chosen = lossless.GREY_TRANSFORM, [coded["grey"]]
    else:
        transform = min(lossless.PLANES, key=lambda t: (sum(len(coded[n]) for n in lossless.PLANES[t]), t))
        chosen = [coded[n] for n in lossless.PLANES[transform]]
    side = {kind: bytes(picture.metadata[name]) for kind, name in Kind.NAMES.items()
            if picture.metadata.get(name) is not None}
    if has_alpha:
        side[Kind.ALPHA] = coded["alpha"]
    h, w = arr.shape[:2]
    header = Header(w, h, arr.shape[2] if arr.ndim == 3 else 1, bit_depth, NO_MODEL_ID, 0,
                    colour_transform=transform, orientation=picture.orientation)
    return lossless.assemble(header, side, chosen)
