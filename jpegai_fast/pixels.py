"""Input validation and conversion between user arrays and the model's float RGB in [0, 1].

The model always sees 3 channels; grey images are replicated on encode and averaged back on
decode. Bit depths 9..16 live in uint16 arrays; values are scaled by 2**bit_depth - 1.
"""
from __future__ import annotations

import numpy as np

from jpegai_fast.core.samples import replicate_bits  # noqa: F401  (one rule, in core for the alpha coder; used from here above it)
from jpegai_fast.format import limits


def check_image(arr, bit_depth: int | None) -> tuple[np.ndarray, int]:
    """Validate a user image; return it as a C-contiguous array and its bit depth.

    Accepted: HxW (grey), HxWx2 (grey + alpha), HxWx3 (RGB) or HxWx4 (RGBA); uint8 (bit depth 8) or
    uint16 with ``bit_depth`` in 9..16.
    """
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"image must be a numpy array, got {type(arr).__name__}")
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 2, 3, 4)):
        raise ValueError(f"image must have shape HxW, HxWx2, HxWx3 or HxWx4, got {arr.shape}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"image is empty: shape {arr.shape}")
    from jpegai_fast.format.container import MAX_SIDE
    if max(arr.shape[:2]) > MAX_SIDE:
        raise ValueError(f"image sides must be at most {MAX_SIDE} pixels, got {arr.shape[1]}x{arr.shape[0]}")
    if arr.shape[0] * arr.shape[1] > limits.max_image_pixels:
        raise ValueError(f"image has {arr.shape[0] * arr.shape[1]} pixels, above the limit of "
                         f"{limits.max_image_pixels} (jpegai_fast.format.limits.set_max_image_pixels)")
    if arr.dtype == np.uint8:
        if bit_depth not in (None, 8):
            raise ValueError(f"uint8 images have bit depth 8, got bit_depth={bit_depth}")
        return np.ascontiguousarray(arr), 8
    if arr.dtype == np.uint16:
        if bit_depth is None:
            raise ValueError("uint16 images need bit_depth= (9..16), e.g. bit_depth=10")
        if not isinstance(bit_depth, int) or not 9 <= bit_depth <= 16:
            raise ValueError(f"bit_depth for uint16 images must be an int in 9..16, got {bit_depth!r}")
        peak = int(arr.max())
        if peak >= 1 << bit_depth:
            raise ValueError(f"value {peak} does not fit in {bit_depth} bits")
        return np.ascontiguousarray(arr), bit_depth
    raise TypeError(f"image dtype must be uint8 or uint16, got {arr.dtype} "
                    "(float images: scale and convert them first)")


def to_model_input(arr: np.ndarray, bit_depth: int) -> np.ndarray:
    """HxW or HxWx3 integer image -> float32 array (3, H, W) in [0, 1]."""
    x = arr.astype(np.float32) * np.float32(1.0 / ((1 << bit_depth) - 1))
    if x.ndim == 2:
        return np.broadcast_to(x, (3,) + x.shape).copy()
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def from_model_output(x: np.ndarray, channels: int, bit_depth: int) -> np.ndarray:
    """float array (3, H, W) ~[0, 1] -> HxW or HxWx3 image of the original dtype and bit depth."""
    peak = (1 << bit_depth) - 1
    if channels == 1:
        x = x.mean(axis=0)
    else:
        x = x.transpose(1, 2, 0)
    out = np.clip(np.rint(x * peak), 0, peak)
    return np.ascontiguousarray(out, dtype=np.uint8 if bit_depth == 8 else np.uint16)


def pad_to_multiple(x: np.ndarray, multiple: int) -> np.ndarray:
    """Pad (C, H, W) at the bottom/right by edge replication up to a multiple of ``multiple``.

    Edge replication (not zeros) keeps the padded border cheap to code.
    """
    _, h, w = x.shape
    ph, pw = -h % multiple, -w % multiple
    if ph == 0 and pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, ph), (0, pw)), mode="edge")


def apply_orientation(a: np.ndarray, orientation: int) -> np.ndarray:
    """The pixels as EXIF ``orientation`` (1..8) says to show them (what djxl and viewers do), so the
    result is shown correctly with orientation 1. HxW or HxWxC; a view where one suffices."""
    if orientation == 1:
        return a
    t = {2: lambda x: x[:, ::-1],                           # mirrored left-right
         3: lambda x: x[::-1, ::-1],                        # rotated 180
         4: lambda x: x[::-1],                              # mirrored top-bottom
         5: lambda x: x.swapaxes(0, 1),                     # transposed
         6: lambda x: np.rot90(x, -1),                      # rotated 90 clockwise to show
         7: lambda x: x[::-1, ::-1].swapaxes(0, 1),         # transversed
         8: lambda x: np.rot90(x, 1)}                       # rotated 90 counter-clockwise to show
    if orientation not in t:
        raise ValueError(f"orientation must be 1..8, got {orientation!r}")
    return np.ascontiguousarray(t[orientation](a))


#: Output rows per band of area_downscale: bounds its int64 temporaries (8K alpha at scale 8: ~31 MB).
_DOWNSCALE_BAND = 64


def area_downscale(arr: np.ndarray, scale: int) -> np.ndarray:
    """HxW or HxWxC integer image -> ceil(H/s) x ceil(W/s) of box means, rounded half up, same dtype.

    A box cut by the right or bottom edge averages the pixels it holds, as Pillow's ``reduce`` does.
    Exact integer arithmetic (int64 sums), so the same everywhere; worked in bands of output rows so
    the temporaries stay small whatever the image.
    """
    h, w = arr.shape[:2]
    oh, ow = -(-h // scale), -(-w // scale)
    out = np.empty((oh, ow) + arr.shape[2:], arr.dtype)
    cols = np.minimum(scale, w - scale * np.arange(ow))
    for r0 in range(0, oh, _DOWNSCALE_BAND):
        r1 = min(oh, r0 + _DOWNSCALE_BAND)
        band = arr[r0 * scale:r1 * scale]
        pad = ((0, (r1 - r0) * scale - band.shape[0]), (0, ow * scale - w)) + ((0, 0),) * (arr.ndim - 2)
        sums = np.pad(band, pad).astype(np.int64).reshape((r1 - r0, scale, ow, scale) + arr.shape[2:]).sum(axis=(1, 3))
        rows = np.minimum(scale, h - scale * np.arange(r0, r1))
        count = (rows[:, None] * cols[None, :]).reshape((r1 - r0, ow) + (1,) * (arr.ndim - 2))
        out[r0:r1] = (sums + count // 2) // count
    return out
