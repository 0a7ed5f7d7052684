"""The torch model <-> the shipped weights file (weights_file.py: fp16 state, config, id, z tables)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from jpegai_fast.runtime import weights_file
from jpegai_fast.runtime.weights_file import SHIPPED_PROFILE, WEIGHTS_DIR, WeightsFile
from jpegai_fast.model.codec import Codec, CodecConfig, get_config

LEGACY_FORMAT = "jpegai_fast-weights-v1"   # torch.save'd .pt files of the first three models


def _fp16_state(model: Codec) -> dict[str, np.ndarray]:
    return {k: v.detach().to("cpu", torch.float16).contiguous().numpy() for k, v in model.state_dict().items()}


def model_id_of(state: dict) -> str:
    """Model id of a state dict (torch tensors or arrays), see weights_file.model_id_of."""
    return weights_file.model_id_of({k: v.to(torch.float16).numpy() if hasattr(v, "numpy") else v
                                     for k, v in state.items()})


def coding_tables(model: Codec) -> dict[str, np.ndarray]:
    """The hyper-latent's integer coding tables (written into the weights file)."""
    from jpegai_fast.core.rans import pmf_to_cdf
    pmf, offsets = model.z_prior.pmf_table()
    cdfs, lengths = pmf_to_cdf(pmf)
    return {"z_cdfs": cdfs, "z_lengths": lengths, "z_offsets": np.ascontiguousarray(offsets, dtype=np.int32)}


def save_weights(model: Codec, path: str | Path, extra: dict | None = None) -> str:
    """Write the shipping weights file (.npz, fp16, with coding tables); returns the model id.

    The tables are computed from the fp16 weights the file holds, so a reloaded model gives the same.
    """
    state = _fp16_state(model)
    shipped = Codec(model.config)
    shipped.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in state.items()})
    return weights_file.write(path, state, model.config.to_dict(), coding_tables(shipped), extra)


def model_from(weights: WeightsFile) -> Codec:
    """The eval model (float32, CPU, ``model_id`` set) of a loaded weights file."""
    model = Codec(CodecConfig.from_dict(weights.config))
    model.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in weights.state.items()})
    model.eval()
    model.model_id = weights.model_id
    return model


def _load_legacy(path: Path) -> Codec:
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != LEGACY_FORMAT:
        raise ValueError(f"{path} is not a jpegai_fast weights file")
    state = {k: v.numpy() for k, v in payload["state_dict"].items()}
    mid = weights_file.model_id_of(state)
    if mid != payload["model_id"]:
        raise ValueError(f"model id mismatch in {path}: stored {payload['model_id']}, computed {mid}")
    return model_from(WeightsFile(state, payload["config"], mid, {}, path))


def load_model(profile_or_path: str | Path | None = None) -> Codec:
    """The eval model (float32, CPU) from a shipped profile name or a weights file path.

    None loads the shipped profile. A legacy .pt file (the first models) is read too. The returned
    model has ``model_id`` (str) set; a file whose stored id does not match its bytes raises ValueError.
    """
    if profile_or_path is not None and Path(profile_or_path).suffix == ".pt":
        if not Path(profile_or_path).is_file():
            raise ValueError(f"weights not found: {profile_or_path}")
        return _load_legacy(Path(profile_or_path))
    return model_from(weights_file.read(profile_or_path))


def export_checkpoint(checkpoint_path: str | Path, weights_path: str | Path) -> str:
    """Turn a training checkpoint (jpegai_fast.training.train) into a shipping weights file; returns the id."""
    ck = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
    model = Codec(CodecConfig.from_dict(ck["config"]))
    model.load_state_dict(ck["model"])
    return save_weights(model, weights_path, extra={"train": {"step": ck["step"], "elapsed_s": ck["elapsed"]}})


__all__ = ["export_checkpoint", "save_weights", "load_model", "model_from", "model_id_of", "get_config",
           "SHIPPED_PROFILE", "WEIGHTS_DIR"]
