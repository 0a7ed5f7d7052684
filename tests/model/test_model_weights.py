"""Weights file round trip and model id."""
import pytest
import torch

from jpegai_fast.model import Codec, CodecConfig
from jpegai_fast.model.weights import load_model, model_id_of, save_weights

TINY = CodecConfig(profile="tiny", N=16, M=32, hyper_width=16, z_channels=8)


def test_round_trip_and_id_stability(tmp_path):
    torch.manual_seed(1)
    model = Codec(TINY)
    mid = save_weights(model, tmp_path / "a.npz")
    assert len(mid) == 16
    loaded = load_model(tmp_path / "a.npz")
    assert loaded.model_id == mid and not loaded.training
    for (k, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert b.dtype == torch.float32
        assert torch.equal(a.half().float(), b), k
    # saving the loaded model again gives the same id (fp16 values are a fixed point)
    assert save_weights(loaded, tmp_path / "b.npz") == mid
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(loaded(x, 1.0)["x_hat"], load_model(tmp_path / "b.npz")(x, 1.0)["x_hat"])


def test_id_changes_with_weights():
    model = Codec(TINY)
    state = {k: v.half() for k, v in model.state_dict().items()}
    mid = model_id_of(state)
    state["gain.log2_step_table"] = state["gain.log2_step_table"] + 1
    assert model_id_of(state) != mid


def test_tampered_file_and_missing_file_raise(tmp_path):
    import numpy as np
    model = Codec(TINY)
    save_weights(model, tmp_path / "a.npz")
    with np.load(tmp_path / "a.npz") as z:
        arrays = {k: z[k] for k in z.files}
    bad = dict(arrays)
    bad["gain.log2_step_table"] = bad["gain.log2_step_table"] + 1
    np.savez(tmp_path / "bad.npz", **bad)
    with pytest.raises(ValueError, match="model id"):
        load_model(tmp_path / "bad.npz")
    bad = dict(arrays)
    bad["__tables__.z_cdfs"] = bad["__tables__.z_cdfs"] + 1
    np.savez(tmp_path / "bad_tables.npz", **bad)
    with pytest.raises(ValueError, match="tables"):
        load_model(tmp_path / "bad_tables.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a jpegai_fast weights file"):
        load_model(tmp_path / "junk.npz")
    with pytest.raises(ValueError):
        load_model(tmp_path / "missing.npz")


def test_shipped_weights_load():
    from jpegai_fast.model.weights import SHIPPED_PROFILE, WEIGHTS_DIR
    path = WEIGHTS_DIR / f"{SHIPPED_PROFILE}.npz"
    assert path.stat().st_size <= 10e6
    model = load_model()
    assert model.config.profile == SHIPPED_PROFILE and len(model.model_id) == 16
    pmf, offsets = model.z_prior.pmf_table()
    assert pmf.shape[0] == model.config.z_channels and (abs(pmf.sum(1) - 1) < 1e-9).all()


def test_asymmetric_model_codes_through_the_runtime(tmp_path, monkeypatch):
    """A wider g_a than g_s (N_analysis) is built alike by the torch model and the torch-free runtime."""
    import numpy as np
    import jpegai_fast
    from jpegai_fast.core.conv import CpuAnalysis
    from jpegai_fast.runtime import execution
    from jpegai_fast.runtime.engine import get_engine
    torch.manual_seed(2)
    model = Codec(CodecConfig(profile="tiny", N=16, M=32, hyper_width=16, z_channels=8, N_analysis=24))
    save_weights(model, tmp_path / "asym.npz")
    eng = get_engine(str(tmp_path / "asym.npz"))
    x = np.random.default_rng(0).random((3, 64, 96), dtype=np.float32)
    assert np.array_equal(eng.transform("g_a", execution.CPU, 1)(x),
                          CpuAnalysis.from_module(eng.model.g_a).run(x, threads=1))
    img = (np.random.default_rng(1).random((40, 72, 3)) * 255).astype(np.uint8)
    data = jpegai_fast.encode(img, model=str(tmp_path / "asym.npz"), quality=50, threads=1)
    monkeypatch.setenv("JPEGAI_FAST_WEIGHTS_PATH", str(tmp_path))
    assert jpegai_fast.decode(data, threads=1).shape == img.shape
