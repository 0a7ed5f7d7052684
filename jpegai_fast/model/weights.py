"""Shipping weights: fp16 state dict + config + model id (short sha256 of the weight bytes)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from .codec import Codec, CodecConfig, get_config

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
SHIPPED_PROFILE = "light"
MODEL_ID_HEX = 16


def _fp16_state(model: Codec) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", torch.float16).contiguous() for k, v in model.state_dict().items()}


def model_id_of(state: dict[str, torch.Tensor]) -> str:
    """Short sha256 over (name, shape, fp16 bytes) of every tensor, in sorted name order."""
    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name].to(torch.float16).contiguous()
        h.update(name.encode())
        h.update(repr(tuple(t.shape)).encode())
        h.update(t.view(torch.int16).numpy().tobytes())
    return h.hexdigest()[:MODEL_ID_HEX]


def save_weights(model: Codec, path: str | Path, extra: dict | None = None) -> str:
    """Write the fp16 weights file; returns the model id."""
    state = _fp16_state(model)
    mid = model_id_of(state)
    payload = {"format": "jpegai_fast-weights-v1", "config": model.config.to_dict(), "state_dict": state,
               "model_id": mid, "extra": extra or {}}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return mid


def load_model(profile_or_path: str | Path | None = None) -> Codec:
    """The eval model (float32, CPU) from a shipped profile name or a weights file path.

    None loads the shipped profile. The returned model has ``model_id`` (str) set; a file whose
    stored id does not match its bytes raises ValueError.
    """
    if profile_or_path is None:
        profile_or_path = SHIPPED_PROFILE
    path = Path(profile_or_path)
    if not path.suffix:
        path = WEIGHTS_DIR / f"{profile_or_path}.pt"
    if not path.is_file():
        raise ValueError(f"weights not found: {path}")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != "jpegai_fast-weights-v1":
        raise ValueError(f"{path} is not a jpegai_fast weights file")
    state = payload["state_dict"]
    mid = model_id_of(state)
    if mid != payload["model_id"]:
        raise ValueError(f"model id mismatch in {path}: stored {payload['model_id']}, computed {mid}")
    model = Codec(CodecConfig.from_dict(payload["config"]))
    model.load_state_dict({k: v.float() for k, v in state.items()})
    model.eval()
    model.model_id = mid
    return model


def export_checkpoint(checkpoint_path: str | Path, weights_path: str | Path) -> str:
    """Turn a training checkpoint (jpegai_fast.train) into a shipping weights file; returns the id."""
    ck = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
    model = Codec(CodecConfig.from_dict(ck["config"]))
    model.load_state_dict(ck["model"])
    return save_weights(model, weights_path, extra={"train": {"step": ck["step"], "elapsed_s": ck["elapsed"]}})


__all__ = ["export_checkpoint", "save_weights", "load_model", "model_id_of", "get_config"]
