"""The preview heads' file: small fp16 nets that map one main model's latent to reduced-resolution pixels.

A head belongs to the main model it was distilled from (training/preview_head.py), so the file records that
model's id and the decoder only uses a head whose id matches the stream's model (docs/preview.md).

Contents (numpy's .npz, read with allow_pickle=False): every tensor of the head's state dict as float16
under its state-dict name ("trunk.0.weight", "out4.weight", ...), and ``__meta__``: a JSON string (uint8
array) with the format tag, the head's config, the main model's id, a sha256 of the tensors and the
distillation's record (data, steps, time, held-out PSNR).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jpegai_fast.runtime import weights_file

FORMAT = "jpegai_fast-preview-v1"
#: Shipped heads, one per main model (named after its profile): a folder of its own, so the main
#: weights' search (weights_file.find_by_id, available_profiles) never meets them.
PREVIEW_DIR = weights_file.WEIGHTS_DIR / "preview"


def _state_sha(state: dict[str, np.ndarray]) -> str:
    return weights_file.arrays_sha256(state, sorted(state))


@dataclass
class PreviewFile:
    """A loaded head file: fp16 state, config, the main model's id (hex) and the distillation record."""

    state: dict[str, np.ndarray]
    config: dict
    model_id: str
    record: dict
    path: Path | None = None

    def f32(self, name: str) -> np.ndarray:
        return self.state[name].astype(np.float32)


def write(path, state: dict[str, np.ndarray], config: dict, model_id: str, record: dict | None = None) -> None:
    """Write the file atomically; ``state`` values are cast to float16."""
    state16 = {k: np.ascontiguousarray(np.asarray(v, dtype=np.float16)) for k, v in state.items()}
    meta = {"format": FORMAT, "config": config, "model_id": model_id, "state_sha256": _state_sha(state16),
            "record": record or {}}
    weights_file.save_npz(path, state16, meta)


def read(path) -> PreviewFile:
    """Load and verify a head file (ValueError for anything else or an altered one)."""
    path = Path(path)
    arrays, meta = weights_file.load_npz(path, FORMAT, "preview head")
    if _state_sha(arrays) != meta.get("state_sha256"):
        raise ValueError(f"{path}: preview head tensors altered")
    return PreviewFile(arrays, meta["config"], meta["model_id"], meta.get("record", {}), path)


def search_dirs() -> list[Path]:
    """Where heads are looked for: the package's, then a ``preview`` folder in each extra weights folder."""
    return [PREVIEW_DIR] + [d / "preview" for d in weights_file.search_dirs()[1:]]


def find(model_id_hex: str) -> Path | None:
    """The first head file on the search path distilled for ``model_id_hex`` (read() then verifies it)."""
    return weights_file.find_by_id(model_id_hex, search_dirs(), FORMAT)
