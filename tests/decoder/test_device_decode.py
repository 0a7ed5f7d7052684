"""Decoding on a torch device: the torch synthesis path (what CUDA runs) against the CPU conv engine.

The CUDA cases skip on machines without a GPU; the torch-on-CPU cases check the same code path's
arithmetic here, and that the device wrapper leaves torch's global TF32 flags as it found them.
"""
import numpy as np
import pytest
import torch

import jpegai_fast
from jpegai_fast.runtime.engine import Engine, _DeviceTransform

from helpers import natural_like, psnr

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(scope="module")
def stream():
    img = natural_like(200, 264)
    return img, jpegai_fast.encode(img, quality=60, tile_size=8)


def test_device_transform_runs_without_tf32_and_restores_the_flags():
    seen = []

    class Probe(torch.nn.Module):
        def forward(self, x):
            seen.append((torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32,
                         torch.is_grad_enabled()))
            return x * 2

    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    try:
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = True
        out = _DeviceTransform(Probe(), torch.device("cpu"))(np.ones((1, 2, 2), np.float32))
        assert seen == [(False, False, False)]
        assert isinstance(out, np.ndarray) and np.array_equal(out, np.full((1, 2, 2), 2, np.float32))
        assert torch.backends.cudnn.allow_tf32 and torch.backends.cuda.matmul.allow_tf32
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def test_torch_synthesis_matches_the_conv_engine_within_a_code_value(stream, monkeypatch):
    img, data = stream
    cpu = jpegai_fast.decode(data)
    monkeypatch.setattr(Engine, "transform",
                        lambda self, name, device, threads: _DeviceTransform(getattr(self.model, name), torch.device("cpu")))
    torch_path = jpegai_fast.decode(data)
    diff = np.abs(cpu.astype(int) - torch_path.astype(int))
    assert diff.max() <= 1
    assert (diff > 0).mean() < 1e-3
    assert abs(psnr(img, cpu) - psnr(img, torch_path)) < 0.01


@cuda
def test_cuda_decode_of_a_cpu_stream_is_within_a_code_value(stream):
    img, data = stream
    cpu = jpegai_fast.decode(data)
    gpu = jpegai_fast.decode(data, device="cuda")
    assert gpu.shape == cpu.shape and gpu.dtype == cpu.dtype
    diff = np.abs(cpu.astype(int) - gpu.astype(int))
    assert diff.max() <= 1
    assert abs(psnr(img, cpu) - psnr(img, gpu)) < 0.01


@cuda
def test_cuda_region_decode_equals_the_crop(stream):
    _, data = stream
    full = jpegai_fast.decode(data, device="cuda")
    part = jpegai_fast.decode(data, device="cuda", region=(40, 30, 150, 120))
    assert np.array_equal(part, full[30:150, 40:190])


@cuda
def test_cuda_encode_decodes_on_cpu(stream):
    img, _ = stream
    data = jpegai_fast.encode(img, quality=60, device="cuda")
    out = jpegai_fast.decode(data)
    assert psnr(img, out) > 20


def test_cuda_request_without_cuda_is_a_clear_error(stream):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match="CUDA"):
        jpegai_fast.decode(stream[1], device="cuda")


@cuda
def test_cuda_use_leaves_the_cpu_model_on_the_cpu(stream):
    img, data = stream
    before = jpegai_fast.decode(data)
    jpegai_fast.encode(img, quality=60, device="cuda")
    jpegai_fast.decode(data, device="cuda")
    from jpegai_fast.runtime.engine import get_engine
    assert all(p.device.type == "cpu" for p in get_engine().model.parameters())
    assert np.array_equal(jpegai_fast.decode(data), before)
