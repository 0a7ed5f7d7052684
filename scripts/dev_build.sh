#!/usr/bin/env bash
# Developer build: compiles the C++ core into build/dev and drops _core*.so into jpegai_fast/,
# so `PYTHONPATH=$PWD pytest tests` runs against this work tree without `pip install`.
# Pass -DJPEGAI_SANITIZE=ON (and another build dir via BUILD_DIR) for an ASan/UBSan build.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build/dev}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release} \
  -Dpybind11_DIR="$(${PYTHON:-python} -m pybind11 --cmakedir)" -DPython_EXECUTABLE="$(command -v ${PYTHON:-python})" "$@" >/dev/null
cmake --build "$BUILD_DIR"
# copy then rename: a process that has the old module mapped keeps its inode instead of crashing
for so in "$BUILD_DIR"/_core*.so; do
  cp "$so" "jpegai_fast/.$(basename "$so").tmp"
  mv -f "jpegai_fast/.$(basename "$so").tmp" "jpegai_fast/$(basename "$so")"
done
