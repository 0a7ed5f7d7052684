"""Plane tiles (docs/format.md, "Plane tiles"): tiles of a learned stream coded by the plane coder instead of the
model, so one stream can hold a photograph's tiles as latents and a drawing's tiles (text, flat colour, sharp
edges the model blurs) exactly or within a bound. The encoder chooses per tile (encoder/tile_choice.py); this
file holds the tile's descriptor and the rules a decoder checks before anything is decoded.

A plane tile codes the colour of its pixel rectangle (format/tiling.pixel_rect) as a lossless or near-lossless
stream codes a tile (format/lossless.py): its colour transform and bound come from its descriptor (kind
PLANE_TILE), then its optional copy map (kind COPY_MAP) and its colour planes (kind PLANE, tile field
i x P + p). The stream's alpha plane stays the learned stream's one substream. The learned tiles around it read
a latent there through g_s's halo: the decoder makes it from the plane tile's decoded pixels
(decoder/plane_tiles.py, docs/format.md "Synthesis around a plane tile").
"""
from __future__ import annotations

from dataclasses import dataclass

from jpegai_fast.errors import DecodeError
from jpegai_fast.format import container
from jpegai_fast.format.container import ColourTransform


@dataclass(frozen=True)
class PlaneTile:
    """One plane tile as the encoder made it: colour transform, bound (0: exact), copy map (b"": none) and
    colour plane payloads."""

    transform: int
    near: int
    copy_map: bytes
    planes: list[bytes]

    def descriptor(self) -> bytes:
        """The PLANE_TILE payload: u8 colour transform, varint bound."""
        return bytes([self.transform]) + container.varint(self.near)


def read_descriptor(payload: bytes, planes: int, bit_depth: int, tile: int) -> tuple[int, int]:
    """(colour transform, bound) of a PLANE_TILE payload, checked: a lossless transform with bound 0 or a
    near-lossless one with 1 .. max_near; grey only 1 or 4; the difference transforms only up to 15 bits;
    nothing after the bound (else DecodeError naming ``tile``)."""
    where = f"corrupted stream: plane tile {tile}"
    if len(payload) < 2:
        raise DecodeError(f"{where}: descriptor of {len(payload)} bytes")
    transform = payload[0]
    try:
        near, end = container.read_varint(payload, 1, "its bound", container.max_near(bit_depth))
    except DecodeError as e:
        raise DecodeError(f"{where}: its descriptor's bound is cut or out of range ({e})") from e
    if end != len(payload):
        raise DecodeError(f"{where}: {len(payload) - end} bytes after its descriptor")
    if transform in ColourTransform.LOSSLESS:
        ok = near == 0
    elif transform in ColourTransform.NEAR:
        ok = near >= 1 and not (transform in ColourTransform.NEAR_DIFFERENCES and bit_depth > 15)
    else:
        ok = False
    if planes == 1:
        from jpegai_fast.format.lossless import GREY_TRANSFORM    # lossless imports stream, which imports this
        ok = ok and transform in (GREY_TRANSFORM, ColourTransform.NEAR_LOSSLESS)
    if not ok:
        raise DecodeError(f"{where}: colour transform {transform} with bound {near} ({planes} colour plane(s), "
                          f"{bit_depth} bits)")
    return transform, near
