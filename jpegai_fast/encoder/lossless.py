"""The lossless encode (docs/format.md, "Lossless streams"): the colour transform (format/lossless.py),
then every plane, alpha included, through the alpha coder at the image's full bit depth, in parallel;
decoder/lossless.py mirrors it. No model is loaded: the stream's model-id field is all zeros.
"""
from __future__ import annotations

from jpegai_fast.core import alpha_coder
from jpegai_fast.format import lossless
from jpegai_fast.format.container import NO_MODEL_ID, ColourTransform, Header, Kind
from jpegai_fast.runtime.execution import map_tiles


def encode(picture, threads: int) -> bytes:
    """The lossless stream of ``picture`` (encoder/pipeline.Picture: checked pixels, bit depth, metadata)."""
    arr, bit_depth = picture.pixels, picture.bit_depth
    has_alpha = arr.ndim == 3 and arr.shape[2] in (2, 4)
    colour = arr if not has_alpha else (arr[..., :-1] if arr.shape[2] == 4 else arr[..., 0])
    planes = lossless.forward(colour, bit_depth) + ([arr[..., -1]] if has_alpha else [])
    # one plane per thread: the coder releases the GIL, and the bytes never depend on the split
    coded = map_tiles(lambda p, _inner: alpha_coder.encode(p, bit_depth, bit_depth), planes, threads)
    side = {kind: bytes(picture.metadata[name]) for kind, name in Kind.NAMES.items()
            if picture.metadata.get(name) is not None}
    if has_alpha:
        side[Kind.ALPHA] = coded.pop()
    h, w = arr.shape[:2]
    header = Header(w, h, arr.shape[2] if arr.ndim == 3 else 1, bit_depth, NO_MODEL_ID, 0,
                    colour_transform=ColourTransform.LOSSLESS_SUBTRACT_GREEN, orientation=picture.orientation)
    return lossless.assemble(header, side, coded)
