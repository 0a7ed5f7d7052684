import jpegai_fast
from jpegai_fast import _core


def test_core_version_matches_package():
    assert _core.core_version() == jpegai_fast.__version__
