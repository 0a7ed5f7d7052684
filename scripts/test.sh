#!/usr/bin/env bash
# The project's test command (README): installs what it needs, then runs the test suite.
# torch==2.13.0 first (on this project's machines a local CPU wheel; on an ordinary Linux machine PyPI's
# default, CUDA build), so the test extra's torch range installs nothing more.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q "torch==2.13.0"
python -m pip install -q ".[test]"
set +e
# -P: do not put the work tree on sys.path, so the tests import the installed package
python -P -m pytest -q -p no:cacheprovider tests "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
[ "$rc" -eq 0 ] || exit "$rc"
# The C++ decoders once more, built with -fsanitize=address,undefined (about 2-4 minutes).
if [ "${SKIP_SANITIZE:-0}" != 1 ]; then
  python -m pip install -q cmake ninja pybind11
  bash scripts/sanitize_tests.sh
fi
# The integer kernels on AArch64 under qemu-user, where a cross compiler and qemu are installed.
if command -v aarch64-linux-gnu-g++ > /dev/null && { command -v qemu-aarch64-static || command -v qemu-aarch64; } > /dev/null; then
  bash scripts/neon_qemu_test.sh
else
  echo "AArch64 kernel parity skipped: no aarch64-linux-gnu-g++ or qemu-aarch64 (scripts/neon_qemu_test.sh)"
fi
