"""Conformance of lossless streams (issue 32): committed streams in tests/golden/lossless/ decode to
the images below bit for bit, and the encoder still writes exactly those bytes (the streams from before
the copy map, 2026-12-06, included: they have none and their bytes did not change; format version 7,
2026-12-07, changed every stream's version byte and header CRC, and the prefix of the stream over a learned
base, which the integer synthesis now decodes). Kept apart from
tests/golden/make_golden.py, whose vectors come from a test model (a lossless stream has none), so
adding these changed none of them. Regenerate only on a deliberate format change:
``PYTHONPATH=. python tests/decoder/test_lossless_golden.py``.
"""
import hashlib
from pathlib import Path

import numpy as np
import pytest

import jpegai_fast
from jpegai_fast.format import container
from jpegai_fast.runtime import weights_file

HERE = Path(__file__).resolve().parents[1] / "golden" / "lossless"


def _ramp(h, w, c, bit_depth):
    """Deterministic samples over the whole range (no RNG: the same on every numpy)."""
    i = np.arange(h * w * c, dtype=np.int64).reshape(h, w, c)
    v = (i * 40503 + (i * i) * 977) % (1 << bit_depth)
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    return (v[..., 0] if c == 1 else v).astype(dtype)


CASES = {
    "rgba10_7x5": (_ramp(7, 5, 4, 10), {"bit_depth": 10, "metadata": {"xmp": b"<x:xmpmeta/>", "orientation": 3}}),
    "grey16_3x4": (_ramp(3, 4, 1, 16), {"bit_depth": 16}),
    "la8_5x3": (_ramp(5, 3, 2, 8), {}),
    "rgb8_1x1": (np.array([[[255, 0, 128]]], np.uint8), {}),
}
# one colour stream per transform (docs/format.md, "Lossless streams"): B = G, B = mean(R, G), B = R
_RG = _ramp(6, 8, 2, 12)
CASES["rgb12_6x8_transform1"] = (np.dstack([_RG, _RG[..., 1]]), {"bit_depth": 12})
CASES["rgb12_6x8_transform2"] = (np.dstack([_RG, (_RG[..., 0] + _RG[..., 1]) // 2]), {"bit_depth": 12})
CASES["rgb16_6x8_transform3"] = (np.dstack([_RG, _RG[..., 0]]) * 16 + 15, {"bit_depth": 16})
# a stream with a copy map (kind 7): a motif of 4 colours repeated every 5 pixels and a flat band
_MOTIF = np.array([[0, 0, 0], [255, 0, 0], [0, 200, 40], [7, 7, 250]], np.uint8)[_ramp(3, 5, 1, 2)]
CASES["rgb8_9x20_copy_map"] = (np.concatenate([np.tile(_MOTIF, (2, 4, 1)), np.full((3, 20, 3), 90, np.uint8)]), {})
# near-lossless (colour transform 4, the bound in the rate field): RGBA with its exact alpha, and 16-bit grey
CASES["rgba8_7x9_near2"] = (_ramp(7, 9, 4, 8), {"max_error": 2})
CASES["grey16_5x6_near300"] = (_ramp(5, 6, 1, 16), {"bit_depth": 16, "max_error": 300})
CASES["rgb16_4x5_near9_transform4"] = (_ramp(4, 5, 3, 16), {"bit_depth": 16, "max_error": 9})   # 16 bits: 4 only
# near-lossless differences (planes 1 and 2 in b + 1 bits): transform 5, B against the decoded G (B follows
# G, R does not), and transform 6, B against the mean of the decoded R and G (B between them)
_GRAD = (np.add.outer(np.arange(12) * 9, np.arange(10) * 5) % 200).astype(np.int64)
_GRAD2 = (np.add.outer(np.arange(12) * 3, np.arange(10) * 11) % 200).astype(np.int64)
CASES["rgb10_12x10_near1_transform5"] = (np.dstack([_ramp(12, 10, 1, 10), _GRAD * 4, _GRAD * 4 + (_ramp(12, 10, 1, 8) & 7)])
                                         .astype(np.uint16), {"bit_depth": 10, "max_error": 1})
CASES["rgb8_12x10_near1_transform6"] = (np.dstack([_GRAD, _GRAD2, (_GRAD + _GRAD2) // 2 + (_ramp(12, 10, 1, 8) & 3)])
                                        .astype(np.uint8), {"max_error": 1})
# tiled streams (tile size 4: 64 px tiles, 2 x 3 of them, the last row and column partial; docs/format.md,
# "Lossless streams"): drawn rows (the motif, a flat band) over a ramp, so some tiles copy and some do not
_TILED = np.concatenate([np.tile(_MOTIF, (10, 26, 1))[:30], np.full((10, 130, 3), 90, np.uint8),
                         (_ramp(30, 130, 3, 8) & 0x3F) + 100]).astype(np.uint8)
CASES["rgba8_70x130_tiles4_copy_map"] = (np.dstack([_TILED, np.where(_ramp(70, 130, 1, 8) > 200, 0, 255).astype(np.uint8)]),
                                         {"tile_size": 4})
CASES["rgb8_70x130_tiles4_near3_copy_map"] = (_TILED, {"tile_size": 4, "max_error": 3})
# progressive to lossless (docs/format.md, "Lossless streams over a learned base"): RGBA over a learned base
# made by the test model (tests/golden/tiny_model.npz, so the vector outlives the shipped weights), metadata kept
TINY_MODEL = HERE.parent / "tiny_model.npz"
CASES["rgba8_40x56_over_base_copy_map"] = (np.dstack([(_ramp(40, 56, 3, 8) & 0x7F) + 60, np.where(_ramp(40, 56, 1, 8) > 30, 255, 0)])
                                   .astype(np.uint8),
                                   {"layers": 2, "quality": 90, "model": str(TINY_MODEL), "metadata": {"orientation": 8}})
#: SHA-256 of each stream's bytes, so a changed file cannot slip in with a regenerated image
STREAM_SHA256 = {
    "rgba10_7x5": "cd6696bb151d7e5fceefc8d8687d33b51cdb03607d8cfa36eb0023cf66d4ba44",
    "grey16_3x4": "35397a769bab5b30dd88a8b0deae27d184518e803c31b07f4e45d2f6fec7bc3d",
    "la8_5x3": "19512b4816ae7e68bf73ce8bc0cf8ce658007a9eb9e24059140789bdb06747e2",
    "rgb8_1x1": "d88b228b24f55fad583db6aead7134f280cdface6a24065855c06a566761a581",
    "rgb12_6x8_transform1": "08d57ef8d621b9edb41287e2fec490e8cb28573ff2fa2c880ecff7eb8142d4e5",
    "rgb12_6x8_transform2": "93e654ad90440d3f0b32925615dfaaeea9149032cc5691eba41b591a72586f0f",
    "rgb16_6x8_transform3": "82c8ac03deb524f627dcf2d57725b006d58141254956861c77ec62c411d4ead5",
    "rgb8_9x20_copy_map": "ed5c66d065f69a6e9d220686be8724ed81629d1517d0ddfb7d40f62bca074a8c",
    "rgba8_7x9_near2": "90e5937e332546503998d79948e9f6f98ef941de813121f36b1e2f394bd5dc9a",
    "grey16_5x6_near300": "a332df96c027790c423543df8465733da9dbe68cfdeead6d0bbbfdd971fc9b12",
    "rgb16_4x5_near9_transform4": "4224e399b68f197260f56a215915835b2452bfd313d6c4342520592ceb417c88",
    "rgb10_12x10_near1_transform5": "a1ad2a5e91f5891cdd1b05ccaa6253c531d517b69965eb6789c70edc06414319",
    "rgb8_12x10_near1_transform6": "12c748ed35e89199ea37d6be6e46753f34fd1434b87cf81f8f30f2f6158c1c8e",
    "rgba8_70x130_tiles4_copy_map": "33cf5317ac01256be09df5d528cdeff7370ab8be6fb9c801b2c2bd105f24e991",
    "rgb8_70x130_tiles4_near3_copy_map": "f26944e7b0b59915db14743f6b1808a6c876e45cfd69dabec4267d107fc1f237",
    "rgba8_40x56_over_base_copy_map": "fd55c141631b3885befb253f51bc4a161a386ca3dc597609f23ea3adbb947dea",
}
#: SHA-256 of the near-lossless vectors' decoded samples (uint8 / uint16, C order)
DECODED_SHA256 = {
    "rgba8_7x9_near2": "78ef38ebf4b74c90e345d23e48448c50e34ca48855450773e8b309f728280d72",
    "grey16_5x6_near300": "b2342f2a45625dc755b8ee07ba1a87c6715d8c23bf1089ee7b43e82b5c57db0e",
    "rgb16_4x5_near9_transform4": "b26e868b2d77d33ae479e9bca34dda204f0d6aaf126fefd03e6ab72fdb1f2da9",
    "rgb10_12x10_near1_transform5": "71a20fb028f77b0dfc2bf04ac75af084eeef4b46d7ccb9a3d8b6b5bdd7151c8e",
    "rgb8_12x10_near1_transform6": "2a7848cd3db5c3615a8ce9e32bb233ae316ece907a6815f68e40d462ec08e99f",
    "rgb8_70x130_tiles4_near3_copy_map": "fd3b73ccc46f6284d3b29687c339c7713e9e6163635f124639e6da23728f1bb8",
    # the prefix of a stream over a base (its base's decode by the test model), by its length
    "rgba8_40x56_over_base_copy_map_prefix_673": "49fde7f2a482c8a9fd05a077bc5c7bca527a592096a7847e050d37334c465597",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_committed_lossless_stream_decodes_exactly_and_is_reproduced(name, monkeypatch):
    img, kw = CASES[name]
    data = (HERE / f"{name}.jai").read_bytes()
    assert hashlib.sha256(data).hexdigest() == STREAM_SHA256[name]
    out, meta = jpegai_fast.decode(data, with_metadata=True)
    assert out.dtype == img.dtype and out.shape == img.shape
    near = kw.get("max_error", 0)
    if near:   # within the bound, alpha exact, and exactly the samples this decoder gave when the vector was made
        assert np.abs(out.astype(np.int64) - img).max() <= near
        assert jpegai_fast.info(data)["max_error"] == near
        if img.ndim == 3 and img.shape[2] == 4:
            np.testing.assert_array_equal(out[..., 3], img[..., 3])
        assert hashlib.sha256(out.tobytes()).hexdigest() == DECODED_SHA256[name]
    else:
        np.testing.assert_array_equal(out, img)
    assert meta["orientation"] == kw.get("metadata", {}).get("orientation", 1)
    assert jpegai_fast.encode(img, lossless=not near, threads=1, **kw) == data
    if "over_base" in name:     # every prefix is the base's, decoded by the test model
        monkeypatch.setenv(weights_file.PATH_ENV, str(HERE.parent))
        base = b"".join(data[s.offset:s.offset + s.length] for s in container.read(data).substreams
                        if s.kind == container.Kind.BASE)
        for end in jpegai_fast.info(data)["layer_ends"][:-1]:
            prefix = jpegai_fast.decode(data[:end])
            assert hashlib.sha256(prefix.tobytes()).hexdigest() == DECODED_SHA256[f"{name}_prefix_{end}"]
        assert container.read(base).num_layers == kw["layers"] - 1 and container.read(base).model_id.hex() == \
            container.read(jpegai_fast.encode(img, model=kw["model"])).model_id.hex()
    if "transform" in name:
        assert container.read(data).colour_transform == int(name[-1])
    h = container.read(data)
    assert (container.Kind.COPY_MAP in {s.kind for s in h.substreams}) == ("copy_map" in name)
    assert h.tile_size == kw.get("tile_size", 0)


if __name__ == "__main__":
    HERE.mkdir(parents=True, exist_ok=True)
    for name, (img, kw) in CASES.items():
        data = jpegai_fast.encode(img, lossless="max_error" not in kw, threads=1, **kw)
        (HERE / f"{name}.jai").write_bytes(data)
        print(f'    "{name}": "{hashlib.sha256(data).hexdigest()}",  # {len(data)} bytes')
    for name, (img, kw) in CASES.items():
        if "max_error" in kw:
            out = jpegai_fast.decode((HERE / f"{name}.jai").read_bytes())
            print(f'    "{name}": "{hashlib.sha256(out.tobytes()).hexdigest()}",  # decoded')
        if "over_base" in name:
            import os
            os.environ[weights_file.PATH_ENV] = str(HERE.parent)
            data = (HERE / f"{name}.jai").read_bytes()
            for end in jpegai_fast.info(data)["layer_ends"][:-1]:
                out = jpegai_fast.decode(data[:end])
                print(f'    "{name}_prefix_{end}": "{hashlib.sha256(out.tobytes()).hexdigest()}",  # decoded prefix')
