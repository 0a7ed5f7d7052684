"""Write the conformance vectors in tests/golden/ (run once; the outputs are committed).

    python tests/golden/make_golden.py        # needs torch (it builds the test model)

* ``tiny_model.npz``: a small fixed test model (N=16, M=32, random init with seed 0, 4 ladder
  points), independent of the shipped weights, so the vectors stay valid when those change. A
  decoder finds it by the stream's model id on $JPEGAI_FAST_WEIGHTS_PATH (runtime/weights_file.py).
* ``streams/*.jai`` + ``manifest.json``: valid streams (sizes, grey/RGB/alpha, 8/10/16-bit, tiles,
  layers, metadata) with the SHA-256 of ``decode_latent``'s y_hat and of the decoded pixels.
  ``streams/v4_*``, ``v5_*`` and ``v6_*`` are older writers' streams (LEGACY): written once by the release that
  wrote that version, kept as they are, and re-checked here: their hashes may never change.
* ``errors/*.jai`` + ``errors.json``: hostile streams and the exact exception (type and message)
  each must raise.

Regenerate only on a deliberate format or decoder change, and say so in the commit.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ["JPEGAI_FAST_WEIGHTS_PATH"] = str(HERE)

from helpers import natural_like  # noqa: E402

TINY = dict(profile="tiny-test", N=16, M=32, hyper_width=16, z_channels=16,
            lambdas=(0.0005, 0.003, 0.02, 0.1), use_context=True)


def mask_paths(message: str) -> str:
    """Error messages may name this machine's folders (the weights search path): mask them."""
    from jpegai_fast.runtime import weights_file
    for d in weights_file.search_dirs():
        message = message.replace(str(d), "<weights dir>")
    return message


def sha(a) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


#: Older versions' vectors, committed once and never rewritten (the encoder writes only the current version).
LEGACY = {"v4_rgb8_100x90_q30": 4, "v5_rgb8_100x90_q30": 5, "v5_rgb8_100x90_layers4": 5,
          "v5_rgb8_300x200_tiles8_layers2": 5, "v6_rgb8_100x90_q30": 6, "v6_rgb8_160x200_tiles4_plane_tiles": 6,
          "v6_rgb8_300x200_tiles8_layers2": 6}


def make_model() -> Path:
    """The test model, built once: the legacy vectors name its id, so an existing file is kept."""
    path = HERE / "tiny_model.npz"
    if path.exists():
        return path
    import torch
    from jpegai_fast.model.codec import Codec, CodecConfig
    from jpegai_fast.model.weights import save_weights
    torch.manual_seed(0)
    model = Codec(CodecConfig(**TINY)).eval()
    with torch.no_grad():   # an untrained analysis is near 0: scale it up so the vectors carry real symbols
        model.g_a[-1].weight.mul_(40.0)
        model.h_a[-1].weight.mul_(8.0)
    save_weights(model, path, extra={"purpose": "conformance vectors only (untrained, random init seed 0)"})
    return path


def cases(rng):
    photo = natural_like(100, 90)
    grey = natural_like(70, 50, 1, seed=1)
    ten = (natural_like(64, 129, seed=2).astype(np.uint16) << 2) | 3
    sixteen = (natural_like(33, 47, 1, seed=3).astype(np.uint16) * 257)
    rgba = np.dstack([natural_like(48, 40, seed=4), (np.arange(48 * 40).reshape(48, 40) % 251).astype(np.uint8)])
    la = np.stack([grey[:20, :30], np.where(grey[:20, :30] > 120, 255, 0).astype(np.uint8)], axis=-1)
    big = natural_like(300, 200, seed=5)
    exif = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00"
    return {
        "rgb8_1x1": (np.full((1, 1, 3), 200, np.uint8), {}),
        "grey8_1x1": (np.full((1, 1), 7, np.uint8), {}),
        "rgb8_100x90_q30": (photo, {"quality": 30}),
        "rgb8_100x90_q90": (photo, {"quality": 90}),
        "grey8_70x50": (grey, {"quality": 60}),
        "rgb10_64x129": (ten, {"bit_depth": 10, "quality": 70}),
        "grey16_33x47": (sixteen, {"bit_depth": 16, "quality": 50}),
        "rgba8_48x40": (rgba, {"quality": 50}),
        "la8_20x30_alpha2bits": (la, {"quality": 50, "alpha_bits": 2}),
        "rgb8_300x200_tiles4": (big, {"quality": 50, "tile_size": 4}),
        "rgb8_300x200_tiles8_layers2": (big, {"quality": 50, "tile_size": 8, "layers": 2}),
        "rgb8_100x90_layers4": (photo, {"quality": 75, "layers": 4}),
        "rgb8_160x200_tiles4_plane_tiles": (_mixed_picture(), {"quality": 90, "tile_size": 4}),
        "rgb8_100x90_metadata": (photo, {"quality": 40, "metadata": {"icc": b"\x00" * 132 + b"fake icc",
                                                                      "exif": exif, "xmp": b"<x:xmpmeta/>"}}),
    }


def _mixed_picture() -> np.ndarray:
    """Drawn content around a photograph's patch: the tiles of 64 px the choice gives the planes, and the one
    it keeps learned (encode_vector makes sure of both)."""
    from helpers import drawn_image
    img = drawn_image(160, 200, seed=4)
    img[:64, :64] = natural_like(64, 64, seed=6)
    return img


def encode_vector(arr, model, kw) -> bytes:
    """The vector's stream. Layered vectors keep every layer asked for: the tiny model's ladder spans less
    than one refinement step, so the encoder's policy (format/progressive.useful_layers) would make them
    single-layer streams, and the decoder must read any valid stream, not just the ones it would make."""
    import jpegai_fast
    from jpegai_fast.encoder import mode_choice
    from jpegai_fast.format import progressive
    policy, whole = progressive.useful_layers, mode_choice.better_stream
    progressive.useful_layers = lambda coarsest, steps, requested: requested
    mode_choice.better_stream = lambda picture, learned, *a, **k: learned    # keep the mixed stream itself
    try:
        return jpegai_fast.encode(arr, model=str(model), threads=1, **kw)
    finally:
        progressive.useful_layers, mode_choice.better_stream = policy, whole


def with_version(data: bytes, version: int) -> bytes:
    """``data`` with another version byte (and its header CRC recomputed): an older writer's stream."""
    import zlib
    from jpegai_fast.format import container
    crc_at = container.read(data).substreams[0].offset - 4
    head = data[:3] + bytes([version]) + data[4:crc_at]
    return head + zlib.crc32(head).to_bytes(4, "little") + data[crc_at + 4:]


def error_cases(valid: dict[str, bytes]):
    from jpegai_fast.format import container
    base = valid["rgb8_100x90_q30"]
    h = container.read(base)
    payload_start = h.substreams[0].offset
    tiles = valid["rgb8_300x200_tiles4"]
    layered = valid["rgb8_300x200_tiles8_layers2"]
    out = {
        "empty": b"",
        "bad_magic": b"JPG" + base[3:],
        "future_version": base[:3] + bytes([99]) + base[4:],
        "header_cut": base[:12],
        "table_crc": base[:payload_start - 1] + bytes([base[payload_start - 1] ^ 1]) + base[payload_start:],
        "z_payload_flipped": base[:payload_start + 2] + bytes([base[payload_start + 2] ^ 0x40]) + base[payload_start + 3:],
        "layer0_truncated": base[:len(base) - 5],
        "later_layer_cut_inside": layered[:len(layered) - 3],
        "v4_layered": with_version(layered, 4),
        "foreign_model": bytearray(base),
    }
    # a stream of another model id (CRC recomputed by re-writing the header)
    h2 = container.read(base)
    h2.model_id = bytes.fromhex("0123456789abcdef")
    payloads = [base[s.offset:s.offset + s.length] for s in h2.substreams]
    out["foreign_model"] = container.write(h2, payloads)
    h3 = container.read(base)
    h3.rate_q = 255 * 256
    out["rate_out_of_range"] = container.write(h3, payloads)
    h4 = container.read(base)
    h4.width, h4.height = 1 << 20, 1 << 20
    out["absurd_size"] = container.write(h4, payloads)
    ht = container.read(tiles)
    pt = [tiles[s.offset:s.offset + s.length] for s in ht.substreams]
    pt[1] = np.random.default_rng(7).integers(0, 256, len(pt[1]), dtype=np.uint8).tobytes()   # y of tile 0
    out["y_garbage_crc_valid"] = container.write(ht, pt)
    hz = container.read(tiles)
    pz = [tiles[s.offset:s.offset + s.length] for s in hz.substreams]
    pz[0] = pz[0][: len(pz[0]) // 2]                                                              # z of tile 0
    out["z_short_crc_valid"] = container.write(hz, pz)
    rgba = valid["rgba8_48x40"]
    ha = container.read(rgba)
    s = ha.substreams[0]            # the alpha substream (no metadata in this stream)
    pa = [rgba[t.offset:t.offset + t.length] for t in ha.substreams]
    pa[0] = pa[0][:1] + bytes(len(pa[0]) - 1)
    out["alpha_zeroed_crc_valid"] = container.write(ha, pa)
    assert s.kind == container.Kind.ALPHA
    mixed = valid["rgb8_160x200_tiles4_plane_tiles"]
    hm = container.read(mixed)
    pm = [mixed[t.offset:t.offset + t.length] for t in hm.substreams]
    k = next(i for i, t in enumerate(hm.substreams) if t.kind == container.Kind.PLANE_TILE)
    pm[k] = bytes([container.ColourTransform.NEAR_LOSSLESS, 0])          # a near-lossless tile with bound 0
    out["plane_tile_bound_0_crc_valid"] = container.write(hm, pm)
    hm = container.read(mixed)
    pm = [mixed[t.offset:t.offset + t.length] for t in hm.substreams]
    k = next(i for i, t in enumerate(hm.substreams) if t.kind == container.Kind.PLANE)
    pm[k] = pm[k][:1] + bytes(len(pm[k]) - 1)                              # a plane's tables zeroed
    out["plane_zeroed_crc_valid"] = container.write(hm, pm)
    return out


def main():
    import warnings
    import jpegai_fast
    from jpegai_fast.api import decode_latent
    from jpegai_fast.format import container
    model = make_model()
    (HERE / "streams").mkdir(exist_ok=True)
    (HERE / "errors").mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    manifest, valid = {}, {}
    for name, (arr, kw) in cases(rng).items():
        data = encode_vector(arr, model, kw)
        if name.endswith("plane_tiles"):
            kinds = [s.kind for s in container.read(data).substreams]
            assert container.Kind.PLANE_TILE in kinds and container.Kind.Z in kinds, "a mixed vector needs both"
        (HERE / "streams" / f"{name}.jai").write_bytes(data)
        _, _, y_hat = decode_latent(data, threads=1)
        pix = jpegai_fast.decode(data, threads=1)
        assert pix.shape == arr.shape and pix.dtype == arr.dtype, name
        manifest[name] = {"bytes": len(data), "latent_sha256": sha(y_hat), "pixels_sha256": sha(pix),
                          "shape": list(pix.shape), "dtype": str(pix.dtype),
                          **{k: v for k, v in kw.items() if k != "metadata"}}
        valid[name] = data
    previous = json.loads((HERE / "manifest.json").read_text())
    for name, version in LEGACY.items():
        data = (HERE / "streams" / f"{name}.jai").read_bytes()
        assert data[3] == version, name
        _, _, y_hat = decode_latent(data, threads=1)
        pix = jpegai_fast.decode(data, threads=1)
        manifest[name] = {"bytes": len(data), "latent_sha256": sha(y_hat), "pixels_sha256": sha(pix),
                          "shape": list(pix.shape), "dtype": str(pix.dtype), "version": version}
        old = {k: previous[name][k] for k in ("latent_sha256", "pixels_sha256")}
        assert old == {k: manifest[name][k] for k in old}, f"{name}: the decoder changed an older version's output"
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    errors = {}
    for name, data in error_cases(valid).items():
        data = bytes(data)
        (HERE / "errors" / f"{name}.jai").write_bytes(data)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                jpegai_fast.decode(data, threads=1)
                outcome = {"raises": None}
            except Exception as e:   # noqa: BLE001 - recording what the decoder does
                outcome = {"raises": type(e).__name__, "message": mask_paths(str(e))}
        outcome["warns"] = [str(w.message) for w in caught]
        errors[name] = outcome
    (HERE / "errors.json").write_text(json.dumps(errors, indent=1, sort_keys=True) + "\n")
    for name, o in errors.items():
        print(f"{name:28s} {o.get('raises')}: {o.get('message', '')[:90]} {'(warns)' if o['warns'] else ''}")


if __name__ == "__main__":
    main()
