"""Shared fixtures. tests/ mirrors the package (tests/format for jpegai_fast/format, ...); plain helper
functions are in tests/helpers.py, importable from every test folder because this directory is put
on sys.path here (pytest would do the same for a rootdir conftest; explicit is clearer)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import natural_like  # noqa: E402


@pytest.fixture(scope="module")
def photo():
    """A 96x136 natural-looking RGB image (smooth field, soft edges, a little noise)."""
    return natural_like(96, 136)
