"""Progressive layers: which latent channels each layer carries, and what a prefix still holds.

Layers are made of whole context groups (GROUP = 16 channels, docs/integer_path.md): the context model of a
channel only reads its own group, so a group that is present reconstructs exactly as in the full
stream even when other groups are missing (their symbols are taken as 0, i.e. y_hat = predicted
mean). Splitting a group would let a missing channel's wrong y_hat leak into the present
channels' means.

The encoder orders the groups by the pixel error that dropping them would cause (a linear estimate:
symbol energy x step^2 x the synthesis' gain for the channel), largest first, and records that order
in the header, so the decoder needs no model-specific table and the order can follow the content.
"""
from __future__ import annotations

import warnings

import numpy as np

from jpegai_fast.core.constants import GROUP
from jpegai_fast.format import container
from jpegai_fast.format.container import Header, Kind
from jpegai_fast.errors import DecodeError


def max_layers(M: int) -> int:
    """Most layers a model with M latent channels allows (one context group per layer)."""
    return M // GROUP


def order_groups(importance: np.ndarray) -> list[int]:
    """Group indices by importance, largest first; ties by index."""
    return sorted(range(len(importance)), key=lambda g: (-float(importance[g]), g))


def layer_channels(group_order: list[int], num_layers: int) -> list[np.ndarray]:
    """Channel indices (ascending) of each layer: the ordered groups split into contiguous runs."""
    n = len(group_order)
    out = []
    for layer in range(num_layers):
        groups = group_order[layer * n // num_layers:(layer + 1) * n // num_layers]
        chans = np.concatenate([np.arange(g * GROUP, (g + 1) * GROUP) for g in sorted(groups)])
        out.append(chans)
    return out


def complete_layers(header: Header, tiles: list[int] | None = None) -> list[bool]:
    """Per layer: every y substream of that layer (of ``tiles``, default all) is present and intact."""
    ok = [True] * header.num_layers
    for s in header.substreams:
        if s.kind == Kind.Y and (tiles is None or s.tile in tiles) and not s.complete:
            ok[s.layer] = False
    return ok


def usable_layers(header: Header, data_len: int) -> list[int]:
    """The layers a decoder uses; raises if layer 0 (or z) is damaged, warns if a later one is.

    A stream cut exactly at a layer boundary is a valid prefix and decodes silently (info()
    reports the missing layers); a stream cut inside a layer, or a damaged later-layer substream,
    decodes the complete layers and warns.
    """
    for s in header.substreams:
        if (s.kind == Kind.Z or s.layer == 0) and not s.complete:
            raise DecodeError(f"substream (kind {s.kind}, tile {s.tile}, layer {s.layer}) is truncated "
                              "or corrupted (CRC mismatch): layer 0 is required")
    ok = complete_layers(header)
    # damaged: bytes present but wrong, or a layer only partly there (a cut inside it, even one that
    # falls exactly between two of its substreams); a cut at a layer boundary is a valid prefix
    partial = {s.layer for s in header.substreams if s.kind == Kind.Y and s.complete and not ok[s.layer]}
    damaged = [s for s in header.substreams if not s.complete and (s.offset < data_len or s.layer in partial)]
    if damaged:
        bad = sorted({s.layer for s in damaged})
        warnings.warn(f"stream is truncated or damaged inside layer(s) {bad}: decoding only the complete "
                      f"layers {[i for i, good in enumerate(ok) if good]} of {header.num_layers} "
                      "(missing channels take their predicted mean)", RuntimeWarning, stacklevel=4)
    return [i for i, good in enumerate(ok) if good]


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
