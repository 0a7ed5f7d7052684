"""atheris fuzz harness for the alpha coder (core/alpha_coder.py, csrc/alpha) and the lossless copy map
(core/copy_map.py, csrc/lossless): the payload decoders on damaged and random payloads, and encode ->
decode round trips of arbitrary planes.

The last input byte picks the entry point:
  0: decode(payload) of the bytes as given, for a plane size and bit depth taken from the first bytes;
  1: check(payload) then decode: what check() accepts must decode or raise DecodeError;
  2: round trip: the bytes as a plane (and a bit count) -> encode -> decode must give the plane back
     (samples kept to the top ``bits`` bits and widened as the decoder widens them);
  3: copy_map.decode(payload) of the bytes as given (a copy map for a plane size from the first bytes);
  4: round trip with copies: the bytes as a plane (the few distinct values of its low bits, so it
     repeats) -> copy search -> encode around the copies -> decode must give the plane back; then the
     same copies near-lossless: decode must give the encoder's reconstruction, within N;
  5: decode(payload, near=N) of the bytes as given (near-lossless dequantisation, N from the first bytes);
  6: near-lossless round trip: the bytes as a plane -> encode(near=N) -> decode(near=N) must stay within N.
Modes 0 and 1 also decode the payload in a group (decode_group) twice over and beside the seed-like plane
of its size: the group gives what the payload decodes to alone, or a DecodeError exactly when that does.
Anything but DecodeError, a wrong round trip, a crash, a hang (-timeout) or a memory blow-up
(-rss_limit_mb) is a finding. Seeds: payloads of small planes (flat, noise, gradients, 8/10/16 bit) and
copy maps of repeating planes, written by --make-seeds DIR.
"""
import os
from pathlib import Path

import atheris
import numpy as np

with atheris.instrument_imports(exclude=["numpy"]):
    from jpegai_fast import DecodeError, _core
    from jpegai_fast.core import alpha_coder, copy_map
    from jpegai_fast.pixels import replicate_bits

_DEPTHS = (8, 10, 12, 16)


def _plane(rng, kind: int, h: int, w: int, depth: int) -> np.ndarray:
    top = (1 << depth) - 1
    if kind == 0:
        return np.full((h, w), top, np.uint16)
    if kind == 1:
        return rng.integers(0, top + 1, (h, w)).astype(np.uint16)
    yy, xx = np.mgrid[:h, :w]
    return ((yy * 7 + xx * 3) % (top + 1)).astype(np.uint16)


def make_seeds(directory):
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(0)
    for i, depth in enumerate(_DEPTHS):
        for kind in range(3):
            h, w = 1 + 5 * kind, 3 + 11 * i
            plane = _plane(rng, kind, h, w, depth)
            payload = alpha_coder.encode(plane, depth, depth if kind else max(1, depth - 3))
            head = bytes([h, w, _DEPTHS.index(depth)])
            for mode in (0, 1):
                Path(directory, f"d{depth}_k{kind}_{mode}").write_bytes(head + payload + bytes([mode]))
            raw = bytes([h, w, _DEPTHS.index(depth), depth]) + plane.astype("<u2").tobytes()
            Path(directory, f"d{depth}_k{kind}_2").write_bytes(raw + bytes([2]))
            Path(directory, f"d{depth}_k{kind}_4").write_bytes(raw + bytes([4]))
            Path(directory, f"d{depth}_k{kind}_6").write_bytes(raw + bytes([6]))
            near = 1 + kind * 3
            payload = alpha_coder.encode(plane, depth, depth, near=near)
            Path(directory, f"d{depth}_k{kind}_5").write_bytes(bytes([h, w, _DEPTHS.index(depth), near]) + payload
                                                               + bytes([5]))
        tiled = np.tile(_plane(rng, 1, 3, 5, depth), (4 + i, 3))
        found = copy_map.find(tiled, np.full(tiled.shape, 8.0, np.float32))
        Path(directory, f"d{depth}_map_3").write_bytes(bytes([tiled.shape[0] - 1, tiled.shape[1] - 1]) + found + b"\3")


def _round_trip(data: bytes) -> None:
    if len(data) < 4:
        return
    h, w = 1 + data[0] % 64, 1 + data[1] % 64
    depth = _DEPTHS[data[2] % len(_DEPTHS)]
    bits = 1 + data[3] % depth
    raw = np.frombuffer(data[4:4 + 2 * h * w].ljust(2 * h * w, b"\0"), "<u2").reshape(h, w)
    plane = (raw & ((1 << depth) - 1)).astype(np.uint16)
    out = alpha_coder.decode(alpha_coder.encode(plane, depth, bits), h, w, depth)
    kept = plane >> (depth - bits)
    want = replicate_bits(kept, bits, depth) if bits < depth else plane
    if not np.array_equal(out.astype(np.uint16), want.astype(np.uint16)):
        raise AssertionError(f"alpha round trip differs ({h}x{w}, {depth}-bit, {bits} bits)")


def _copies_round_trip(data: bytes) -> None:
    if len(data) < 4:
        return
    h, w = 1 + data[0] % 64, 1 + data[1] % 64
    depth = _DEPTHS[data[2] % len(_DEPTHS)]
    raw = np.frombuffer(data[4:4 + 2 * h * w].ljust(2 * h * w, b"\0"), "<u2").reshape(h, w)
    plane = (raw & 3).astype(np.uint16) << (depth - 2)
    found = copy_map.find(plane, np.full((h, w), 2.0 + data[3] % 16, np.float32))
    copies = copy_map.decode(found, h, w) if found else None
    out = alpha_coder.decode(alpha_coder.encode(plane, depth, depth, found), h, w, depth, copies)
    if not np.array_equal(out.astype(np.uint16), plane):
        raise AssertionError(f"round trip with copies differs ({h}x{w}, {depth}-bit)")
    near = 1 + data[3] % 7
    payload, recon = alpha_coder.encode_near(plane, depth, near, found)
    out = alpha_coder.decode(payload, h, w, depth, copies, near=near)
    if not np.array_equal(out.astype(np.uint16), recon) or np.abs(recon.astype(np.int64) - plane).max() > near:
        raise AssertionError(f"near-lossless round trip with copies differs ({h}x{w}, {depth}-bit, N = {near})")


def _near_round_trip(data: bytes) -> None:
    if len(data) < 4:
        return
    h, w = 1 + data[0] % 64, 1 + data[1] % 64
    depth = _DEPTHS[data[2] % len(_DEPTHS)]
    near = 1 + data[3] % ((1 << (depth - 1)) - 1)
    raw = np.frombuffer(data[4:4 + 2 * h * w].ljust(2 * h * w, b"\0"), "<u2").reshape(h, w)
    plane = (raw & ((1 << depth) - 1)).astype(np.uint16)
    out = alpha_coder.decode(alpha_coder.encode(plane, depth, depth, near=near), h, w, depth, near=near)
    if np.abs(out.astype(np.int64) - plane).max() > near:
        raise AssertionError(f"near-lossless round trip beyond {near} ({h}x{w}, {depth}-bit)")


def _near_decode(data: bytes) -> None:
    if len(data) < 5:
        return
    h, w, depth = 1 + data[0] % 64, 1 + data[1] % 64, _DEPTHS[data[2] % len(_DEPTHS)]
    # the bound fits the bits the payload says it codes (a lossless stream's header check guarantees as much)
    bits = data[4]                          # what the payload says (alpha_coder.decode reads it there)
    if not 2 <= bits <= depth:
        return
    near = 1 + data[3] % ((1 << (bits - 1)) - 1)
    try:
        out = alpha_coder.decode(data[4:], h, w, depth, near=near)
    except DecodeError:
        return
    if out.shape != (h, w) or int(out.max(initial=0)) >= 1 << depth:
        raise AssertionError(f"near-lossless decode gave {out.shape} / {int(out.max())} for {h}x{w} {depth}-bit")


def _group_agrees(payload: bytes, h: int, w: int) -> None:
    """decode_group of [payload, payload] and [a valid plane, payload] against the payload decoded alone."""
    if not payload or not 1 <= payload[0] <= 16:
        return
    bits = payload[0]
    try:
        alone = _core.alpha_decode(payload, h, w, bits)
    except DecodeError:
        alone = None
    valid = np.full((h, w), (1 << bits) - 1, np.uint16)
    for group in ([payload, payload], [_core.alpha_encode(valid, bits), payload]):
        try:
            together = _core.alpha_decode_group(group, h, w, bits)
        except DecodeError:
            if alone is not None:
                raise AssertionError("a group refused a payload that decodes alone") from None
            continue
        if alone is None or not np.array_equal(together[-1], alone) or not np.array_equal(together[0], (
                alone if group[0] is payload else valid)):
            raise AssertionError("a group decoded differently from the planes alone")


def TestOneInput(data: bytes):
    if len(data) < 4:
        return
    mode, data = data[-1] % 7, data[:-1]
    if mode == 5:
        _near_decode(data)
        return
    if mode == 6:
        _near_round_trip(data)
        return
    if mode == 2:
        _round_trip(data)
        return
    if mode == 4:
        _copies_round_trip(data)
        return
    if mode == 3:
        try:
            copy_map.decode(data[2:], 1 + data[0], 1 + data[1])
        except DecodeError:
            pass
        return
    h, w, depth = 1 + data[0] * 3, 1 + data[1] * 3, _DEPTHS[data[2] % len(_DEPTHS)]
    payload = data[3:]
    try:
        if mode == 1:
            alpha_coder.check(payload, h, w, depth)
        out = alpha_coder.decode(payload, h, w, depth)
        if out.shape != (h, w):
            raise AssertionError(f"alpha decode gave {out.shape} for {h}x{w}")
    except DecodeError:
        pass
    _group_agrees(payload, h, w)


if __name__ == "__main__":
    from harness import main        # tests/fuzz/ is the script's folder, first on sys.path
    main(TestOneInput, make_seeds)
