"""Progressive layers: the steps of each layer, and which layers a prefix or a damaged stream still holds.

A stream of L layers codes the latent by successive refinement (docs/format.md, "Progressive layers";
csrc/context/refine.h): layer 0 is an ordinary latent at REFINE_RATIO^(L-1) times the stream's final
steps; each later layer splits every bin of the layer below into REFINE_RATIO centred ones. The bins
nest (the ratio is odd), so every prefix of layers is a complete quantisation of the latent at its own
steps, coded almost as compactly as a single-layer stream at those steps: a prefix is worth decoding.
Layer k needs layer k - 1, so a decoder uses the longest run of complete layers from layer 0.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from jpegai_fast.core.constants import CONTEXT_VALUE_LIMIT, REFINE_RATIO
from jpegai_fast.core.intpath import scale_indexes
from jpegai_fast.errors import DecodeError
from jpegai_fast.format import container
from jpegai_fast.format.container import Header, Kind

#: log2(REFINE_RATIO) in Q8 (405.75 rounded): a layer's table index is read at log2 step + k * this.
LOG2_RATIO_Q8 = 406
assert abs(LOG2_RATIO_Q8 - 256 * math.log2(REFINE_RATIO)) < 0.5


def useful_layers(log2_step_coarsest: np.ndarray, log2_step_q: np.ndarray, requested: int) -> int:
    """The layers an encoder makes when ``requested`` at per-channel steps ``log2_step_q`` (Q8): at most
    as many as keep layer 0 no coarser than the model's coarsest rate (``log2_step_coarsest``, rate 0)
    for the median channel. A coarser layer 0 is no useful preview, and its grid, centred on means
    from a latent that coarse, costs the later layers bytes (docs/benchmarks.md, "Progressive layers":
    4 layers at quality 15 made a stream 4.6 times the single-layer one)."""
    octaves = float(np.median(log2_step_coarsest.astype(np.int64) - log2_step_q.astype(np.int64)))
    return max(1, min(requested, 1 + int(octaves // LOG2_RATIO_Q8)))


def layer_steps(log2_step_q: np.ndarray, step_q: np.ndarray, layer: int, num_layers: int) \
        -> tuple[np.ndarray, np.ndarray]:
    """(log2 step Q8 of the coding unit, step Q12) of ``layer`` of ``num_layers``, from the stream's final
    per-channel steps (ladder.py). Layer 0's unit is its step; a refinement layer's unit is a third of its
    step (csrc/context/refine.h). Raises ValueError when a step would pass the context loop's 2^30."""
    factor = REFINE_RATIO ** (num_layers - 1 - layer)
    step = step_q.astype(np.int64) * factor
    if step.max(initial=0) > CONTEXT_VALUE_LIMIT:
        raise ValueError(f"{num_layers} layers make layer {layer}'s step pass 2^30 (Q12) at this rate")
    unit = num_layers - 1 - layer - (layer > 0)
    return (log2_step_q.astype(np.int64) + LOG2_RATIO_Q8 * unit).astype(np.int32), step.astype(np.int32)


def layer_indexes(log2sigma_q: np.ndarray, log2_step_q: np.ndarray, step_q: np.ndarray, layer: int,
                  num_layers: int) -> tuple[np.ndarray, np.ndarray]:
    """(Gaussian table index per symbol of the layer's coding unit, step Q12 per channel) of ``layer``
    (layer_steps); for a refinement layer the unit is a third of its step."""
    log2_unit, step = layer_steps(log2_step_q, step_q, layer, num_layers)
    return scale_indexes(log2sigma_q, log2_unit), step


def step_indexes(log2sigma_q: np.ndarray, log2_step_q: np.ndarray, layer: int, num_layers: int) -> np.ndarray:
    """A refinement layer's table index of sigma / its step (what decides nested or recentred coding and
    codes a recentred value, csrc/context/refine.h)."""
    log2_unit = log2_step_q.astype(np.int64) + LOG2_RATIO_Q8 * (num_layers - 1 - layer)
    return scale_indexes(log2sigma_q, log2_unit.astype(np.int32))


#: The substreams that make up the layers: the latent's, and a progressive-to-lossless stream's (its learned
#: base's layers, then the exact layer's planes and copy maps). The rest belong to layer 0's prefix.
LAYERED_KINDS = (Kind.Y, Kind.BASE, Kind.PLANE, Kind.COPY_MAP)


def complete_layers(header: Header, tiles: list[int] | None = None) -> list[bool]:
    """Per layer: every layered substream of that layer (of ``tiles``, default all; a lossless stream's are
    counted whatever their tile field) is present and intact."""
    ok = [True] * header.num_layers
    for s in header.substreams:
        if s.kind in LAYERED_KINDS and (tiles is None or s.kind != Kind.Y or s.tile in tiles) and not s.complete:
            ok[s.layer] = False
    return ok


def usable_layers(header: Header, data_len: int) -> list[int]:
    """The layers a decoder uses (0..K: each refines the one below); raises if layer 0 (or z) is damaged,
    warns if a later one is.

    A stream cut exactly at a layer boundary is a valid prefix and decodes silently (info()
    reports the missing layers); a stream cut inside a layer, or a damaged later-layer substream,
    decodes the complete layers before it and warns.
    """
    for s in header.substreams:
        if (s.kind == Kind.Z or s.layer == 0) and not s.complete:
            raise DecodeError(f"substream (kind {s.kind}, tile {s.tile}, layer {s.layer}) is truncated "
                              "or corrupted (CRC mismatch): layer 0 is required")
    ok = complete_layers(header)
    usable = ok.index(False) if False in ok else header.num_layers
    # damaged: bytes present but wrong, or a layer only partly there (a cut inside it, even one that
    # falls exactly between two of its substreams); a cut at a layer boundary is a valid prefix
    partial = {s.layer for s in header.substreams if s.kind in LAYERED_KINDS and s.complete and not ok[s.layer]}
    damaged = [s for s in header.substreams if not s.complete and (s.offset < data_len or s.layer in partial)]
    if damaged:
        bad = sorted({s.layer for s in damaged})
        warnings.warn(f"stream is truncated or damaged inside layer(s) {bad}: decoding the complete layers 0..{usable - 1} "
                      f"of {header.num_layers} (each layer refines the one below, so none after a damaged "
                      "one is used)", RuntimeWarning, stacklevel=4)
    return list(range(usable))


def layer_ends(header: Header) -> list[int]:
    """The byte length of each decodable prefix: where layer k's last substream ends (the header, the
    table, z, metadata and alpha come before layer 0's y, so prefix 0 holds them all)."""
    ends = [0] * header.num_layers
    for s in header.substreams:
        ends[s.layer] = max(ends[s.layer], s.offset + s.length)
    for layer in range(1, header.num_layers):
        ends[layer] = max(ends[layer], ends[layer - 1])
    return ends


def layer_chunks(data: bytes) -> list[bytes]:
    """Split a complete stream at its layer boundaries: [header + table + layer 0, layer 1, ...]."""
    ends = layer_ends(container.read(data))
    starts = [0] + ends[:-1]
    return [bytes(data[a:b]) for a, b in zip(starts, ends)]
