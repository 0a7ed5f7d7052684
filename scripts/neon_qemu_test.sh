#!/usr/bin/env bash
# The integer kernels on AArch64 (issue 33): builds tests/native/kernel_parity for this machine and, with a
# cross compiler, for AArch64, runs the second under qemu-user, and compares the hashes of their integers.
# Inside each run every ISA the CPU has (x86-64: portable, AVX2; AArch64: portable, NEON) and 1 / 2 threads
# must agree; across the runs the hashes must be equal: the same integers on both machines.
#   needs: aarch64-linux-gnu-g++ and qemu-aarch64(-static) (Debian: g++-aarch64-linux-gnu qemu-user-static)
#   usage: bash scripts/neon_qemu_test.sh [build dir, default build/neon]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/neon}
cxx=${AARCH64_CXX:-aarch64-linux-gnu-g++}
qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)
command -v "$cxx" > /dev/null || { echo "no $cxx: install a cross compiler (g++-aarch64-linux-gnu)" >&2; exit 2; }
[ -n "$qemu" ] || { echo "no qemu-aarch64: install qemu-user-static" >&2; exit 2; }
sysroot=${AARCH64_SYSROOT:-/usr/aarch64-linux-gnu}

build() {  # dir, extra cmake args...
  local dir=$1; shift
  { cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DJPEGAI_PYTHON_MODULE=OFF -DJPEGAI_NATIVE_TESTS=ON "$@" &&
    cmake --build "$dir" --target kernel_parity; } > "$dir.log" 2>&1 || { tail -30 "$dir.log" >&2; exit 1; }
}
mkdir -p "$out"
build "$out/host"
build "$out/aarch64" -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 -DCMAKE_CXX_COMPILER="$cxx"
rc=0
host=$("$out/host/kernel_parity") || rc=1
arm=$("$qemu" -L "$sysroot" "$out/aarch64/kernel_parity") || rc=1
echo "host:    $host" | tr '\n' ' '; echo
echo "aarch64: $arm" | tr '\n' ' '; echo
[ $rc == 0 ] || { echo "FAIL: the ISAs or thread counts of one machine disagree" >&2; exit 1; }
grep -q "neon" <<< "$arm" || { echo "FAIL: the AArch64 build did not run its NEON kernels" >&2; exit 1; }
[ "$(grep hash <<< "$host")" == "$(grep hash <<< "$arm")" ] || { echo "FAIL: the two machines' integers differ" >&2; exit 1; }
echo "OK: the same integers on both machines, every ISA, 1 and 2 threads"
