#!/usr/bin/env bash
# Runs the entropy-coder, integer-path, context-loop, conv-engine, alpha-coder and copy-map tests, the hostile streams
# and the golden vectors (end-to-end decodes through every stage), and a short fuzz run, against an ASan/UBSan
# build of the core.
# The sanitized extension goes into a throw-away copy of the package, so the dev build in
# jpegai_fast/ is left alone. Needs cmake, ninja, pybind11 and gcc/clang with libasan.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build/asan}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DJPEGAI_SANITIZE=ON \
  -Dpybind11_DIR="$(python -m pybind11 --cmakedir)" >/dev/null
cmake --build "$BUILD_DIR" >/dev/null
PKG_ROOT=$(mktemp -d)
trap 'rm -rf "$PKG_ROOT"' EXIT
cp -r jpegai_fast "$PKG_ROOT/"
rm -f "$PKG_ROOT"/jpegai_fast/_core*.so
cp "$BUILD_DIR"/_core*.so "$PKG_ROOT/jpegai_fast/"
CXX_BIN=${CXX:-c++}
# libstdc++ is preloaded too: CPython does not link it, and ASan's __cxa_throw interceptor
# needs it resolved at start-up, otherwise the first C++ exception aborts the process.
PRELOAD="$($CXX_BIN -print-file-name=libasan.so) $($CXX_BIN -print-file-name=libstdc++.so)"
# Leak checking is off: CPython itself "leaks" at exit. Any ASan/UBSan report aborts the run.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
LD_PRELOAD="$PRELOAD" PYTHONPATH="$PKG_ROOT" python -P -m pytest -q -p no:cacheprovider \
  tests/core/test_rans.py tests/core/test_rans_hostile.py tests/core/test_rans_tables.py tests/core/test_rans_fuzz.py \
  tests/core/test_intpath.py tests/core/test_intpath_int16.py tests/core/test_int_synthesis.py tests/core/test_wavefront.py tests/core/test_refine.py tests/core/test_conv.py \
  tests/decoder/test_golden.py tests/format/test_layer_ends.py \
  tests/test_alpha.py::test_coder_round_trips_exactly tests/test_alpha.py::test_flat_and_binary_planes_cost_almost_nothing \
  tests/test_alpha.py::test_coder_refuses_bad_input_and_never_crashes_on_garbage \
  tests/test_alpha.py::test_damaged_alpha_is_a_decode_error tests/decoder/test_hostile_streams.py \
  tests/decoder/test_lossless_hostile.py tests/decoder/test_lossless_golden.py tests/test_lossless_copies.py \
  tests/test_near_lossless.py tests/core/test_plane_group.py \
  tests/test_progressive_lossless.py::test_a_base_that_is_no_learned_stream_of_this_image_is_refused \
  tests/test_progressive_lossless.py::test_a_damaged_base_layer_0_is_an_error_and_a_damaged_exact_layer_gives_the_base_with_a_warning \
  "$@"
