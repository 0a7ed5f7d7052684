"""Progressive up to lossless (``encode(arr, lossless=True, layers=L)``, L >= 2; docs/format.md, "Lossless
streams over a learned base"): the model's stream of the picture, in L - 1 layers, is the preview the
stream starts with; the exact layer after it is the plane coder's lossless stream of the colour (its
alpha plane is the base's, which is exact). Every layer boundary is a decodable prefix.

The exact layer is coded without looking at the base, so the exact decode needs no model and runs at the
plane coder's speed. Measured before choosing so (`scripts/lossless_residual_probe.py`, kodim01 and 03):
predictors and contexts that read the decoded base would win back about a fifth to a half of the base's
bytes (kodim01, quality 30: +1.4 % -> +0.7 % over the plain lossless stream; quality 50: +7.0 % -> +3.6 %),
at the price of a model synthesis, bit-exact on every machine, inside every exact decode.
"""
from __future__ import annotations

import dataclasses
import warnings

from jpegai_fast.encoder import content, lossless, pipeline
from jpegai_fast.encoder.options import RATE_KNOBS, EncodeOptions
from jpegai_fast.format import container
from jpegai_fast.format import lossless as lossless_format
from jpegai_fast.format.container import Kind
from jpegai_fast.format.progressive import layer_chunks
from jpegai_fast.runtime.engine import Engine

#: The base's quality when no rate knob is given: a preview, not a rendition. On kodim01 quality 30 costs
#: 0.15 bpp, +1.4 % on the lossless stream (quality 50: 0.73 bpp, +7 %); quality= or bpp= asks for more.
PREVIEW_QUALITY = 30.0
#: ... costing at most this share of the exact stream's bytes (rate control to that size, down to the model's
#: lowest rate; the base's alpha plane, which the exact layer does not repeat, counts on both sides): on drawn
#: content the model's quality 30 is no preview worth its bytes (frymire: 55 KB, +25 %, for 18.4 dB;
#: bench/progressive_lossless.py); on Kodak 1-6 quality 30 costs 0.5-1.7 % and is kept.
PREVIEW_SHARE = 0.02


def encode(eng: Engine, picture: pipeline.Picture, opts: EncodeOptions, threads: int, device) -> bytes:
    """The progressive-to-lossless stream of ``picture``: the exact layer in ``opts.tile_size`` tiles (default
    lossless.TILE_SIZE) after the learned base at ``opts``' rate knob (default: PREVIEW_QUALITY, held to
    PREVIEW_SHARE of the exact stream), effort and layers - 1 layers (the model's default tiles). The metadata
    and orientation are the outer stream's; the base carries neither."""
    arr = picture.pixels
    colour = content.colour_and_alpha(arr)[0]
    header, tiles = lossless.code(dataclasses.replace(picture, pixels=colour), threads,
                                  tile_size=opts.tile_size or lossless.TILE_SIZE)
    bare = dataclasses.replace(picture, metadata={}, orientation=1)

    def base(**knob) -> bytes:
        base_opts = EncodeOptions(**knob, effort=opts.effort, layers=opts.layers - 1, bit_depth=opts.bit_depth)
        return pipeline.learned(eng, bare, base_opts, threads, device)

    knobs = {k: getattr(opts, k) for k in RATE_KNOBS if getattr(opts, k) is not None}
    if knobs:
        data = base(**knobs)
    else:
        data = base(quality=PREVIEW_QUALITY)
        # the share is the preview's cost: the base's alpha plane is the stream's own (the exact layer has none)
        alpha = sum(s.length for s in container.read(data).substreams if s.kind == Kind.ALPHA)
        exact = sum(len(t.copy_map) + sum(map(len, t.planes)) for t in tiles) + alpha
        cap = max(1, int(PREVIEW_SHARE * exact))
        if len(data) - alpha > cap:
            with warnings.catch_warnings():     # below the model's lowest rate: that rate, as the default's floor
                warnings.simplefilter("ignore")
                data = base(size=cap + alpha)
    chunks = layer_chunks(data)
    header.channels = arr.shape[2] if arr.ndim == 3 else 1
    header.num_layers = len(chunks) + 1
    return lossless_format.assemble(header, lossless.metadata_of(picture), tiles, chunks)
