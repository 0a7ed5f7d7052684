"""The jpegai_fast container: header, substream table, payload (docs/format.md is the spec).

Everything here is plain byte layout; what a substream *means* is decided by the codec. The reader
validates every field before anything is allocated from it, so hostile input ends in DecodeError.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

from jpegai_fast import _core
from jpegai_fast.format import limits, tiling
from jpegai_fast.errors import DecodeError, ImageTooLargeError

MAGIC = b"JAI"
VERSION = 7   # 3: metadata substreams, orientation; 4: alpha coder's 216 contexts; 5: refinement layers;
#              6: the int16 hyper-synthesis; 7: the integer synthesis (docs/format.md)
#: Versions this decoder reads. Version 4 streams of one layer are version 5 streams in all but this
#: byte; version 5 streams are version 6 streams but for the hyper-synthesis' arithmetic, and version 6
#: streams version 7 ones but for the synthesis' (float, then integer).
READABLE_VERSIONS = (4, 5, 6, 7)
LAYERS_SINCE = 5              # refinement layers; before, layered streams coded channel-group layers
INT16_HYPER_SINCE = 6         # the int16 hyper-synthesis; before, the exact int32 one
INT_SYNTHESIS_SINCE = 7       # the integer synthesis g_s (core/int_synthesis.py); before, the float one
MODEL_ID_BYTES = 8
RATE_FRAC_BITS = 8          # the header's rate_q is the rate parameter t in 1/256 units
MAX_SIDE = 1 << 24          # per-dimension sanity bound, independent of the pixel limit
MAX_SUBSTREAMS = 1 << 20
MAX_LAYERS = 8             # refinement layers: layer 0's step is 3^(MAX_LAYERS - 1) = 2187 times the last's
VARINT_MAX_BYTES = 5        # 35 bits: enough for every field (docs/format.md)
MAX_SUBSTREAM_BYTES = (1 << 35) - 1
_U32 = struct.Struct("<I")


def hyper_arith(version: int) -> str:
    """The hyper-synthesis arithmetic of a stream version (core/intpath.py): "int16" or "exact"."""
    return "int16" if version >= INT16_HYPER_SINCE else "exact"


def synthesis_arith(version: int) -> str:
    """The synthesis arithmetic of a stream version: "int16" (core/int_synthesis.py, the same pixels on every
    machine) or "float" (the float engine, core/conv.py)."""
    return "int16" if version >= INT_SYNTHESIS_SINCE else "float"


class Kind:
    """Substream kinds (one byte in the table)."""

    Z = 0   # hyper-latent symbols (factorised prior)
    Y = 1   # latent symbols (Gaussian conditional)
    ICC = 2     # ICC colour profile, raw bytes
    EXIF = 3    # EXIF, a TIFF structure (starting "II*\0" or "MM\0*"; no "Exif\0\0" prefix)
    XMP = 4     # XMP packet, UTF-8 XML
    ALPHA = 5   # the alpha plane (alpha.py, csrc/alpha), when channels is 2 or 4
    PLANE = 6   # lossless streams only: one colour plane by the alpha coder; its tile field = the plane index
    COPY_MAP = 7    # lossless streams only, optional: the copies every plane skips (csrc/lossless/copy_map.h)
    #: progressive-to-lossless streams only (format/lossless.py): layer k of the learned stream of the same
    #: image that is its preview (the learned stream's own bytes, split at its layer ends; tile field 0)
    BASE = 8
    #: a learned stream's tile coded by the plane coder instead (format/plane_tiles.py): its colour transform
    #: and bound; the tile's copy map and colour planes follow it
    PLANE_TILE = 9

    ALL = (Z, Y, ICC, EXIF, XMP, ALPHA, PLANE, COPY_MAP, BASE, PLANE_TILE)
    METADATA = (ICC, EXIF, XMP)
    NAMES = {ICC: "icc", EXIF: "exif", XMP: "xmp"}
    #: every kind's name in messages and `jpegai-fast info -v`
    LABELS = {Z: "z", Y: "y", **NAMES, ALPHA: "alpha", PLANE: "plane", COPY_MAP: "copy map", BASE: "base",
              PLANE_TILE: "plane tile"}


#: Largest metadata payload of each kind, checked while the table is read (before anything uses it)
#: and on encode. Generous for real files (ICC profiles are rarely above 1 MB, EXIF in JPEG is < 64 KB).
METADATA_LIMITS = {Kind.ICC: 16 << 20, Kind.EXIF: 4 << 20, Kind.XMP: 16 << 20}


class ColourTransform:
    RGB = 0       # the model codes R, G, B directly
    #: Lossless, no model (format/lossless.py): the planes, mod 2^b, each coded exactly in a kind-PLANE
    #: substream; grey is always 1 (one plane). Older version-4 decoders refuse them by this byte.
    LOSSLESS_SUBTRACT_GREEN = 1     # G, R - G, B - G
    LOSSLESS_B_MINUS_MEAN = 2       # G, R - G, B - floor((R + G) / 2)
    LOSSLESS_R_MINUS_B = 3          # G, B - G, R - B
    #: Near-lossless, no model, each colour sample within +-N of the source, N = the header's rate field
    #: (format/lossless.py, csrc/alpha/alpha_coder.h):
    NEAR_LOSSLESS = 4                   # R, G, B (grey: its plane) as they are
    NEAR_LOSSLESS_SUBTRACT_GREEN = 5    # G, then R - G' and B - G' (G' = G as decoded), b + 1 bits; b <= 15
    NEAR_LOSSLESS_B_MINUS_MEAN = 6      # G, R - G', then B - floor((R' + G') / 2); b + 1 bits; b <= 15

    LOSSLESS = (LOSSLESS_SUBTRACT_GREEN, LOSSLESS_B_MINUS_MEAN, LOSSLESS_R_MINUS_B)
    NEAR = (NEAR_LOSSLESS, NEAR_LOSSLESS_SUBTRACT_GREEN, NEAR_LOSSLESS_B_MINUS_MEAN)
    NEAR_DIFFERENCES = (NEAR_LOSSLESS_SUBTRACT_GREEN, NEAR_LOSSLESS_B_MINUS_MEAN)   # planes 1, 2 in b + 1 bits
    MODEL_FREE = LOSSLESS + NEAR        # streams the plane coder codes, no model
    ALL = (RGB,) + MODEL_FREE


#: The model-id field of a lossless stream: no model codes it, and no model's id is all zeros (a SHA-256 prefix).
NO_MODEL_ID = bytes(MODEL_ID_BYTES)


def is_lossless(header: "Header") -> bool:
    """Exact: the planes decode to the source samples."""
    return header.colour_transform in ColourTransform.LOSSLESS


def is_model_free(header: "Header") -> bool:
    """Coded by the plane coder, no model: lossless or near-lossless (format/lossless.py)."""
    return header.colour_transform in ColourTransform.MODEL_FREE


def max_near(bit_depth: int) -> int:
    """The largest near-lossless bound N of ``bit_depth``-bit samples: the plane coder's rule (alpha_coder.h)."""
    return _core.alpha_max_near(bit_depth)


@dataclass
class Substream:
    kind: int
    tile: int
    layer: int
    length: int
    crc32: int
    offset: int = 0          # filled by the reader: where its bytes start in the stream
    complete: bool = True    # filled by the reader: bytes present and CRC matches


def colour_channels(channels: int) -> int:
    """Channels the model codes: 1 for grey (+ alpha), 3 for RGB (+ alpha)."""
    return 1 if channels in (1, 2) else 3


def has_alpha(channels: int) -> bool:
    return channels in (2, 4)


def check_tile_size(width: int, height: int, tile_size: int) -> None:
    """The header's tile size for this image (docs/format.md): a multiple of 4, at most MAX_TILE and
    smaller than the latent's larger side; 0 (one tile) only when both latent sides fit in MAX_TILE."""
    lh, lw = tiling.latent_shape(height, width)
    if tile_size and (tile_size % 4 or tile_size >= max(lh, lw) or tile_size > tiling.MAX_TILE):
        raise DecodeError(f"corrupted stream: tile size {tile_size} for a {lh}x{lw} latent")
    if not tile_size and max(lh, lw) > tiling.MAX_TILE:
        raise DecodeError(f"corrupted stream: a single tile of {lh}x{lw} latent positions (at most "
                          f"{tiling.MAX_TILE} per side)")


def max_substreams(width: int, height: int, channels: int, tile_size: int, num_layers: int,
                   lossless: bool = False) -> int:
    """Most substreams a stream with this header can list (docs/format.md, "Substream order"): z and
    every layer's y of each tile, or a plane tile's descriptor, copy map and colour planes (a lossless
    stream: its colour planes and a copy map), the three metadata kinds, and the alpha plane when there is one."""
    tiles = tiling.TileGrid(*tiling.latent_shape(height, width), tile_size).count
    if lossless:      # per tile: its colour planes, a copy map and its part of the alpha plane; a base's layers
        return tiles * (colour_channels(channels) + 1 + int(has_alpha(channels))) + len(Kind.METADATA) + num_layers - 1
    per_tile = max(1 + num_layers, 2 + colour_channels(channels))
    return tiles * per_tile + len(Kind.METADATA) + int(has_alpha(channels))


def check_lossless_fields(model_id: bytes, rate_q: int, num_layers: int, near_bound: int = 0) -> None:
    """A model-free stream's header fields that belong to the model (docs/format.md): model id all zeros,
    rate 0 (near-lossless: the bound, 1 .. ``near_bound``), one layer (an exact stream over a learned
    base: one more than the base's layers); anything else is no encoder's stream. (Its tile size follows
    the lossy rule, or is 0: whole planes at any size.)"""
    rate_ok = 1 <= rate_q <= near_bound if near_bound else rate_q == 0
    if model_id != NO_MODEL_ID or not rate_ok or (num_layers != 1 and near_bound):
        what = f"a bound 1..{near_bound} and one layer" if near_bound else "rate 0"
        raise DecodeError(f"corrupted stream: a {'near-' if near_bound else ''}lossless stream with model id "
                          f"{model_id.hex()}, rate {rate_q}, {num_layers} layers (model id zero and {what} "
                          "expected)")


@dataclass
class Header:
    width: int
    height: int
    channels: int            # 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA)
    bit_depth: int           # 8..16
    model_id: bytes          # MODEL_ID_BYTES bytes
    rate_q: int              # rate parameter t in 1/256 units
    colour_transform: int = ColourTransform.RGB
    orientation: int = 1     # EXIF orientation 1..8 the pixels are meant to be shown with (1: as stored)
    tile_size: int = 0       # latent positions per tile side; 0 = a single tile
    num_layers: int = 1
    substreams: list[Substream] = field(default_factory=list)
    version: int = VERSION   # as read; a writer always writes VERSION


# --- writing -------------------------------------------------------------------------------------

def _varint(v: int) -> bytes:
    if v < 0:
        raise ValueError("varint must be non-negative")
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def write(header: Header, payloads: list[bytes]) -> bytes:
    """Serialise ``header`` (its substream table is rebuilt from ``payloads``) followed by the payloads."""
    if len(payloads) != len(header.substreams):
        raise ValueError("one payload per substream entry")
    if not (1 <= header.width <= MAX_SIDE and 1 <= header.height <= MAX_SIDE):
        raise ValueError(f"image sides must be 1 .. {MAX_SIDE}, got {header.width}x{header.height}")
    out = bytearray(MAGIC)
    out.append(VERSION)
    out += _varint(header.width) + _varint(header.height)
    if not 1 <= header.orientation <= 8:
        raise ValueError(f"orientation must be 1..8, got {header.orientation}")
    out += bytes([header.channels, header.bit_depth, header.colour_transform, header.orientation])
    if len(header.model_id) != MODEL_ID_BYTES:
        raise ValueError(f"model_id must be {MODEL_ID_BYTES} bytes")
    out += header.model_id
    out += _varint(header.rate_q) + _varint(header.tile_size)
    if not 1 <= header.num_layers <= MAX_LAYERS:
        raise ValueError(f"num_layers must be 1..{MAX_LAYERS}, got {header.num_layers}")
    out.append(header.num_layers)
    out += _varint(len(payloads))
    for s, data in zip(header.substreams, payloads):
        if s.kind in METADATA_LIMITS and len(data) > METADATA_LIMITS[s.kind]:
            raise ValueError(f"{Kind.NAMES[s.kind]} metadata of {len(data)} bytes is above the limit of "
                             f"{METADATA_LIMITS[s.kind]}")
        s.length, s.crc32 = len(data), zlib.crc32(data)
        out.append(s.kind)
        out += _varint(s.tile)
        out.append(s.layer)
        out += _varint(s.length)
        out += s.crc32.to_bytes(4, "little")
    out += zlib.crc32(out).to_bytes(4, "little")
    for data in payloads:
        out += data
    return bytes(out)


# --- reading -------------------------------------------------------------------------------------

def varint(v: int) -> bytes:
    """``v`` as a LEB128 varint (the payloads' fields follow the header's rule)."""
    return _varint(v)


def read_varint(payload: bytes, pos: int, what: str, max_value: int) -> tuple[int, int]:
    """(value, position after it) of the canonical varint at ``pos`` of a payload, at most ``max_value``."""
    r = _Reader(payload)
    r.pos = pos
    return r.varint(what, max_value), r.pos


class _Reader:
    """Cursor over the header and table. A hostile table may hold ~10^5 entries per MB, so the common
    cases (a byte in range, a one-byte varint) take the short path."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def byte(self, what: str) -> int:
        pos = self.pos
        if pos >= len(self.data):
            raise DecodeError(f"truncated stream: header ends inside {what}")
        self.pos = pos + 1
        return self.data[pos]

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.data):
            raise DecodeError(f"truncated stream: header ends inside {what}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return bytes(out)

    def u32(self, what: str) -> int:
        pos = self.pos
        if pos + 4 > len(self.data):
            raise DecodeError(f"truncated stream: header ends inside {what}")
        self.pos = pos + 4
        return _U32.unpack_from(self.data, pos)[0]

    def varint(self, what: str, max_value: int) -> int:
        """LEB128, canonical (no superfluous zero groups) and at most VARINT_MAX_BYTES bytes."""
        pos = self.pos
        if pos < len(self.data) and self.data[pos] < 0x80:     # one byte: canonical by construction
            v = self.data[pos]
            self.pos = pos + 1
        else:
            v = self._long_varint(what)
        if v > max_value:
            raise DecodeError(f"corrupted stream: {what} = {v} exceeds {max_value}")
        return v

    def _long_varint(self, what: str) -> int:
        data, pos, v = self.data, self.pos, 0
        for n in range(VARINT_MAX_BYTES):
            if pos >= len(data):
                raise DecodeError(f"truncated stream: header ends inside {what}")
            b = data[pos]
            pos += 1
            v |= (b & 0x7F) << (7 * n)
            if not b & 0x80:
                if b == 0 and n:
                    raise DecodeError(f"corrupted stream: {what} is a non-canonical varint")
                self.pos = pos
                return v
        raise DecodeError(f"corrupted stream: {what} is not a valid varint (over {VARINT_MAX_BYTES} bytes)")


def read(data: bytes | bytearray | memoryview) -> Header:
    """Parse and validate the header and substream table.

    Substreams whose bytes are missing (a truncated stream) or whose CRC fails are returned with
    ``complete=False``; the codec decides whether it can do without them (progressive layers).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    r = _Reader(data)
    if r.take(len(MAGIC), "magic") != MAGIC:
        raise DecodeError("not a jpegai_fast stream (bad magic)")
    version = r.byte("version")
    if version not in READABLE_VERSIONS:
        raise DecodeError(f"unsupported format version {version} (this decoder reads versions "
                          f"{', '.join(map(str, READABLE_VERSIONS))}; version 4 only with one layer)")
    width = r.varint("width", MAX_SIDE)
    height = r.varint("height", MAX_SIDE)
    if width < 1 or height < 1:
        raise DecodeError(f"corrupted stream: image size {width}x{height}")
    if width * height > limits.max_image_pixels:
        raise ImageTooLargeError(
            f"stream declares {width}x{height} = {width * height} pixels, above the limit of "
            f"{limits.max_image_pixels} (jpegai_fast.format.limits.set_max_image_pixels to raise it)")
    channels = r.byte("channels")
    bit_depth = r.byte("bit depth")
    colour = r.byte("colour transform")
    orientation = r.byte("orientation")
    if not 1 <= orientation <= 8:
        raise DecodeError(f"corrupted stream: orientation {orientation}")
    if channels not in (1, 2, 3, 4):
        raise DecodeError(f"corrupted stream: {channels} channels")
    if not 8 <= bit_depth <= 16:
        raise DecodeError(f"corrupted stream: bit depth {bit_depth}")
    if colour not in ColourTransform.ALL:
        raise DecodeError(f"unsupported colour transform {colour}")
    lossless = colour in ColourTransform.MODEL_FREE
    model_id = r.take(MODEL_ID_BYTES, "model id")
    rate_q = r.varint("rate parameter", 1 << 16)
    tile_size = r.varint("tile size", MAX_SIDE)
    if not lossless or tile_size:      # a model-free stream's planes may also be whole at any size (0)
        check_tile_size(width, height, tile_size)
    num_layers = r.byte("layer count")
    if version < LAYERS_SINCE and num_layers > 1:
        raise DecodeError(f"a layered stream of format version {version}: its channel-group layers were replaced by "
                          f"refinement layers in version {LAYERS_SINCE}; decode it with jpegai_fast 0.1.0 "
                          "or re-encode it")
    if not 1 <= num_layers <= MAX_LAYERS:
        raise DecodeError(f"corrupted stream: {num_layers} layers")
    if lossless:
        near = max_near(bit_depth) if colour in ColourTransform.NEAR else 0
        check_lossless_fields(model_id, rate_q, num_layers, near)
    count = r.varint("substream count", MAX_SUBSTREAMS)
    # cheap bounds before the loop: the count the header's tiles and layers allow, and the bytes left
    # (an entry takes at least 8): a 2^20-entry table for a one-tile image would cost seconds to parse
    if count * 8 > len(data) - r.pos:
        raise DecodeError(f"truncated stream: table of {count} substreams does not fit")
    most = max_substreams(width, height, channels, tile_size, num_layers, lossless)
    if count > most:
        raise DecodeError(f"corrupted stream: {count} substreams, more than the {most} that "
                          f"{width}x{height} with tile size {tile_size} and {num_layers} layer(s) can have")
    subs = []
    for _ in range(count):
        kind = r.byte("substream kind")
        if kind not in Kind.ALL:
            raise DecodeError(f"corrupted stream: unknown substream kind {kind}")
        tile = r.varint("tile index", MAX_SUBSTREAMS)
        layer = r.byte("layer index")
        if layer >= num_layers:
            raise DecodeError(f"corrupted stream: layer {layer} of {num_layers}")
        length = r.varint("substream length", METADATA_LIMITS.get(kind, MAX_SUBSTREAM_BYTES))
        crc = r.u32("substream crc")
        subs.append(Substream(kind, tile, layer, length, crc))
    table_end = r.pos
    stored = r.u32("header crc")
    if zlib.crc32(data[:table_end]) != stored:
        raise DecodeError("corrupted stream: header CRC mismatch")
    offset = r.pos
    for s in subs:
        s.offset = offset
        end = offset + s.length
        s.complete = end <= len(data) and zlib.crc32(data[offset:end]) == s.crc32
        offset = end
    if offset < len(data):
        raise DecodeError(f"corrupted stream: {len(data) - offset} trailing bytes after the last substream")
    return Header(width, height, channels, bit_depth, model_id, rate_q, colour, orientation, tile_size,
                  num_layers, subs, version)
