"""The encoder's pipeline: analysis once, then quantise and code at a fixed rate or under rate control.

Arguments arrive checked (api.encode). With a target size the rate-independent analysis is kept
and each rate probe only re-quantises and codes (rate_control.search_rate); effort > 1 refines
the latent for the real decoder at the rate the plain encoder needs, then searches again.
"""
from __future__ import annotations

import numpy as np

from jpegai_fast.encoder.analysis import AnalysedImage
from jpegai_fast.encoder.effort import DEFAULT_EFFORT
from jpegai_fast.encoder.rate_control import search_rate
from jpegai_fast.runtime.engine import Engine


def encode_stream(eng: Engine, arr: np.ndarray, bit_depth: int, *, rate_q: int | None, target_bytes: float | None,
                  tile_size: int, layers: int, effort: int, threads: int, device, metadata: dict, orientation: int,
                  alpha: bytes | None) -> bytes:
    """The stream of colour/grey pixels ``arr`` at ``rate_q``, or within [0.9, 1] x ``target_bytes``."""
    def stream_of(analysed: AnalysedImage):
        return lambda rq: analysed.stream(eng, rq, layers, threads, metadata, orientation, alpha)

    if target_bytes is None:
        return stream_of(AnalysedImage(eng, arr, bit_depth, tile_size, threads, device, fixed_rate=rate_q,
                                       layers=layers, effort=effort))(rate_q)
    found = search_rate(stream_of(AnalysedImage(eng, arr, bit_depth, tile_size, threads, device, layers=layers)),
                        target_bytes, eng.rate_q_max)
    if effort == DEFAULT_EFFORT:
        return found.data
    # Refine at the rate the plain encoder needs for the target, then search again over the refined
    # latent: it codes smaller at that rate, so the final rate lands a little higher.
    refined = AnalysedImage(eng, arr, bit_depth, tile_size, threads, device, layers=layers, effort=effort,
                            effort_rate=found.rate_q)
    return search_rate(stream_of(refined), target_bytes, eng.rate_q_max).data
