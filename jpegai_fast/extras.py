"""The optional extras, in one place: which feature needs which package, and the line that says how
to install it. The CPU codec needs none of them (README); a feature that does names its extra in one
line instead of ending in a traceback.
"""
from __future__ import annotations

#: importable top-level module -> the extra of pyproject.toml that installs it
EXTRA_OF_MODULE = {
    "torch": "torch",
    "scipy": "eval",
    "imagecodecs": "eval",
    "pillow_heif": "eval",
    "pytorch_msssim": "eval",
    "matplotlib": "eval",
    "dask": "batch",
    "distributed": "batch",
}

#: torch comes from PyTorch's own index on machines without a GPU: the extra alone would pull the CUDA build
_TORCH_FIRST = " (install torch for your machine first: README, section 'torch')"


def install_hint(extra: str) -> str:
    """The command that installs ``extra``."""
    needs_torch = extra in ("torch", "train", "eval", "test")
    return f'pip install "jpegai_fast[{extra}]"' + (_TORCH_FIRST if needs_torch else "")


def missing_extra(error: ImportError, feature: str) -> str | None:
    """One line for ``feature`` failing on a missing optional module, or None if ``error`` is not that."""
    name = (getattr(error, "name", None) or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(name)
    if extra is None:
        return None
    return f"{feature} needs {name}, which is not installed: {install_hint(extra)}"
