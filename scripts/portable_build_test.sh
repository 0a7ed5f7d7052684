#!/usr/bin/env bash
# Builds the core with the emulated 128-bit integers (what MSVC uses, csrc/common/portable.h) in
# build/portable and runs the coder and codec tests against it: the Gaussian tables' pinned hash and
# every round trip must come out the same as with the compiler's unsigned __int128.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git ls-files -z | xargs -0 -I{} cp --parents {} "$tmp"/
(cd "$tmp" && BUILD_DIR=build/portable bash scripts/dev_build.sh -DJPEGAI_PORTABLE_U128=ON)
# -S with site-packages on PYTHONPATH after the copy: no .pth hooks, so an installed or editable
# jpegai_fast cannot shadow the copy under test
site=$(python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
cd "$tmp"
PYTHONPATH="$PWD:$site" python -S -c "import jpegai_fast, sys; assert jpegai_fast.__file__.startswith('$tmp'), jpegai_fast.__file__"
PYTHONPATH="$PWD:$site" python -S -m pytest -q -p no:cacheprovider tests/core/test_rans.py tests/core/test_rans_tables.py \
  tests/core/test_rans_hostile.py tests/test_api.py tests/test_alpha.py -k "not subprocess" "$@"   # subprocess tests need the site hooks
