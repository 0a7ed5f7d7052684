"""The shipped weights file: one .npz that both the torch model and the torch-free runtime read.

Contents (numpy's .npz, read with allow_pickle=False):
  * every tensor of the model's state dict as float16, under its state-dict name ("g_s.0.weight", ...);
  * ``__meta__``: a JSON string (uint8 array) with the format tag, the model config and id, and the
    sha256 of the tables below;
  * ``__tables__.z_cdfs`` / ``.z_lengths`` / ``.z_offsets``: the hyper-latent's integer coding tables.
    They derive from the factorised prior by float64 math that only torch evaluates, so they are
    computed once when the file is written and every coder (with or without torch) reads them here:
    the same bytes everywhere.

The model id is the first 16 hex digits of a sha256 over (name, shape, fp16 bytes) of every state
tensor in sorted name order; a file whose stored id or table hash does not match its contents is
refused.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMAT = "jpegai_fast-weights-v2"
MODEL_ID_HEX = 16
WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"   # jpegai_fast/weights/
SHIPPED_PROFILE = "light"
SUFFIX = ".npz"
_META = "__meta__"
_TABLES = ("z_cdfs", "z_lengths", "z_offsets")


def model_id_of(state: dict[str, np.ndarray]) -> str:
    """Short sha256 over (name, shape, fp16 bytes) of every tensor, in sorted name order."""
    h = hashlib.sha256()
    for name in sorted(state):
        t = np.ascontiguousarray(np.asarray(state[name], dtype=np.float16))
        h.update(name.encode())
        h.update(repr(tuple(t.shape)).encode())
        h.update(t.view(np.int16).tobytes())
    return h.hexdigest()[:MODEL_ID_HEX]


def arrays_sha256(arrays: dict[str, np.ndarray], names) -> str:
    """SHA-256 (hex) over ``names``' arrays in that order, each with its name, dtype and shape: the check
    a file keeps of its tensors (the z tables here, a preview head's state in preview_file.py)."""
    h = hashlib.sha256()
    for name in names:
        t = np.ascontiguousarray(arrays[name])
        h.update(name.encode() + str(t.dtype).encode() + repr(t.shape).encode() + t.tobytes())
    return h.hexdigest()


def _tables_sha(tables: dict[str, np.ndarray]) -> str:
    return arrays_sha256(tables, _TABLES)


@dataclass
class WeightsFile:
    """A loaded weights file: fp16 state, config dict, model id and the z coding tables."""

    state: dict[str, np.ndarray]
    config: dict
    model_id: str
    tables: dict[str, np.ndarray]
    path: Path | None = None

    def f32(self, name: str) -> np.ndarray:
        """State tensor ``name`` as float32 (exact: fp16 -> fp32)."""
        return self.state[name].astype(np.float32)


def resolve(profile_or_path) -> Path:
    """A profile name ("light") or a path -> the weights file path (ValueError if missing)."""
    if profile_or_path is None:
        profile_or_path = SHIPPED_PROFILE
    path = Path(profile_or_path)
    if not path.suffix:
        path = WEIGHTS_DIR / f"{profile_or_path}{SUFFIX}"
    if not path.is_file():
        raise ValueError(f"weights not found: {path}")
    return path


def save_npz(path, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Write ``arrays`` and ``meta`` (JSON under __meta__) as an .npz atomically (temporary file, then
    rename): the layout of weights files and of the preview heads' files (runtime/preview_file.py)."""
    arrays = dict(arrays, **{_META: np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)


def load_npz(path: Path, file_format: str, what: str) -> tuple[dict[str, np.ndarray], dict]:
    """(arrays, meta) of an .npz written by save_npz with format ``file_format``; ValueError naming ``what``
    for anything else."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(arrays.pop(_META).tobytes().decode())
    except (OSError, ValueError, KeyError, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is not a jpegai_fast {what} file ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != file_format:
        raise ValueError(f"{path} is not a jpegai_fast {what} file (format {meta.get('format')!r})")
    return arrays, meta


def write(path, state: dict[str, np.ndarray], config: dict, tables: dict[str, np.ndarray], extra: dict | None = None) -> str:
    """Write the file atomically; ``state`` values are cast to float16. Returns the model id."""
    state16 = {k: np.ascontiguousarray(np.asarray(v, dtype=np.float16)) for k, v in state.items()}
    tables = {k: np.ascontiguousarray(tables[k]) for k in _TABLES}
    mid = model_id_of(state16)
    meta = {"format": FORMAT, "config": config, "model_id": mid, "tables_sha256": _tables_sha(tables),
            "extra": extra or {}}
    arrays = dict(state16, **{f"__tables__.{k}": v for k, v in tables.items()})
    save_npz(path, arrays, meta)
    return mid


def read(profile_or_path=None) -> WeightsFile:
    """Load and verify a weights file (profile name or path; None = the shipped profile)."""
    path = resolve(profile_or_path)
    arrays, meta = load_npz(path, FORMAT, "weights")
    tables = {k: arrays.pop(f"__tables__.{k}") for k in _TABLES if f"__tables__.{k}" in arrays}
    if len(tables) != len(_TABLES) or _tables_sha(tables) != meta.get("tables_sha256"):
        raise ValueError(f"{path}: coding tables missing or altered")
    state = arrays
    mid = model_id_of(state)
    if mid != meta.get("model_id"):
        raise ValueError(f"model id mismatch in {path}: stored {meta.get('model_id')}, computed {mid}")
    return WeightsFile(state, meta["config"], mid, tables, path)


def available_profiles() -> list[str]:
    """Names of the weights files shipped in the package."""
    return sorted(p.stem for p in WEIGHTS_DIR.glob(f"*{SUFFIX}"))


#: Environment variable: more folders of weights files (os.pathsep-separated) a decoder may find a
#: stream's model in, after the package's own (tests/golden's small test model is found this way).
PATH_ENV = "JPEGAI_FAST_WEIGHTS_PATH"


def search_dirs() -> list[Path]:
    """The folders a stream's model is looked up in: the package's weights, then $JPEGAI_FAST_WEIGHTS_PATH."""
    extra = [Path(d) for d in os.environ.get(PATH_ENV, "").split(os.pathsep) if d]
    return [WEIGHTS_DIR] + extra


def stored_id(path: Path, file_format: str = FORMAT) -> str | None:
    """The model id a file of ``file_format`` declares (its metadata only, unverified; None if unreadable):
    weights files, and the preview heads' (runtime/preview_file.py), which record their main model's id."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(z[_META].tobytes().decode())
        return meta.get("model_id") if isinstance(meta, dict) and meta.get("format") == file_format else None
    except (OSError, ValueError, KeyError, UnicodeDecodeError):
        return None


def find_by_id(model_id_hex: str, dirs: list[Path] | None = None, file_format: str = FORMAT) -> Path | None:
    """The first file of ``file_format`` in ``dirs`` (default: the weights' search path) that declares
    ``model_id_hex`` (read() then verifies it)."""
    for d in search_dirs() if dirs is None else dirs:
        for path in sorted(d.glob(f"*{SUFFIX}")) if d.is_dir() else ():
            if stored_id(path, file_format) == model_id_hex:
                return path
    return None
