"""The preview head's file and runtime: the conv engine equals the torch module it was trained as."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from jpegai_fast.model.preview import PreviewHead as TorchHead
from jpegai_fast.runtime import preview, preview_file
from jpegai_fast.runtime.engine import get_engine


def test_pixel_shuffle_is_torchs():
    x = np.random.default_rng(0).random((3 * 16, 5, 7), dtype=np.float32)
    ref = F.pixel_shuffle(torch.from_numpy(x)[None], 4)[0].numpy()
    assert np.array_equal(preview.pixel_shuffle(x, 4), ref)


def test_shipped_head_matches_the_shipped_model_and_torch():
    eng = get_engine()
    path = preview_file.find(eng.model_id.hex())
    assert path is not None, "the shipped model has no preview head (python -P -m jpegai_fast.training.preview_head)"
    head = preview.head_for(eng.model_id.hex())
    torch_head = TorchHead(head.config)
    torch_head.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in head.file.state.items()})
    y = np.random.default_rng(1).normal(0, 3, (eng.M, 9, 13)).astype(np.float32)
    with torch.no_grad():
        for s in preview.SCALES:
            ref = torch_head(torch.from_numpy(y)[None], s)[0].numpy()
            out = head.run(y, s, threads=2)
            assert out.shape == (3, 9 * 16 // s, 13 * 16 // s)
            assert np.abs(out - ref).max() <= 1e-4 * np.abs(ref).max()


def test_file_round_trip_and_tampering(tmp_path):
    state = {"trunk.0.weight": np.ones((4, 2, 3, 3)), "trunk.0.bias": np.zeros(4)}
    preview_file.write(tmp_path / "h.npz", state, {"M": 2, "width": 4, "depth": 1}, "00ff00ff00ff00ff", {"steps": 3})
    back = preview_file.read(tmp_path / "h.npz")
    assert back.model_id == "00ff00ff00ff00ff" and back.record == {"steps": 3}
    assert back.state["trunk.0.weight"].dtype == np.float16
    arrays = dict(np.load(tmp_path / "h.npz"))
    arrays["trunk.0.bias"] = arrays["trunk.0.bias"] + 1
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match="altered"):
        preview_file.read(tmp_path / "bad.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a jpegai_fast preview head"):
        preview_file.read(tmp_path / "junk.npz")


def test_halo_covers_the_receptive_field():
    """A tile's output equals the same part of a whole-latent run: the halo is wide enough."""
    eng = get_engine()
    head = preview.head_for(eng.model_id.hex())
    y = np.random.default_rng(2).normal(0, 3, (eng.M, 24, 24)).astype(np.float32)
    h = head.halo
    whole = head.run(y, 4, threads=1)
    part = head.run(y[:, 8 - h:16 + h, 8 - h:16 + h], 4, threads=1)
    assert np.allclose(part[:, 4 * h:4 * (h + 8), 4 * h:4 * (h + 8)], whole[:, 32:64, 32:64], atol=1e-5)
