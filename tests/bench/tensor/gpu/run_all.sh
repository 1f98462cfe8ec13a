#!/usr/bin/env bash
# run_all.sh — on a GPU host: build kernels/ standalone with CUDA, run the gpu-labelled tests, then the GPU benchmarks against PyTorch.
#
# usage: tests/bench/tensor/gpu/run_all.sh [OUT_DIR] [BUILD_DIR]
# env:   CUDA_ARCH=90a   (CMAKE_CUDA_ARCHITECTURES; default: the backend's "90a;80")
#        BENCH_ARGS="--batch 32 --steps 10"   (passed to run_gpu_bench.py)
#        SKIP_BUILD=1    (reuse BUILD_DIR as it is)
# Needs only a C compiler, CMake, the CUDA toolkit, and python3 with PyTorch for the peers.
set -u
root=$(cd "$(dirname "$0")/../../../.." && pwd)
out=$(mkdir -p "${1:-gpu-bench-out}" && cd "${1:-gpu-bench-out}" && pwd)
build=${2:-$root/build-gpu}
status=0

if [ -z "${SKIP_BUILD:-}" ]; then
  t0=$(date +%s)
  cmake -S "$root/kernels" -B "$build" -DSCILOOP_CUDA=ON ${CUDA_ARCH:+-DCMAKE_CUDA_ARCHITECTURES=$CUDA_ARCH} \
    >"$out/configure.log" 2>&1 || { echo "configure failed:"; tail -40 "$out/configure.log"; exit 1; }
  cmake --build "$build" -j"$(nproc)" >"$out/build.log" 2>&1 || { echo "build failed:"; grep -m20 -i error "$out/build.log"; tail -20 "$out/build.log"; exit 1; }
  echo "build: $(( $(date +%s) - t0 )) s"
fi

# bench_gpu is built by CMake where tests/bench/tensor adds this folder; otherwise build it here.
bin="$build/bench/bench_gpu"
if [ ! -x "$bin" ]; then
  mkdir -p "$build/bench"
  cc -std=c11 -O2 -Wall -Wextra -I"$root/sdk/include" "$root"/tests/bench/tensor/gpu/*.c \
    -L"$build/lib" -lsciloop-tensor -lm -Wl,-rpath,"$build/lib" -o "$bin" || exit 1
fi

(cd "$build" && ctest -L gpu -V) >"$out/ctest-gpu.log" 2>&1 || status=1
grep -E "gpu parity|tests passed|Failed|Skipped|Passed|\*\*\*" "$out/ctest-gpu.log"

PYTHONUNBUFFERED=1 python3 "$root/tests/bench/tensor/gpu/run_gpu_bench.py" --bin "$bin" ${BENCH_ARGS:-} \
  --json "$out/bench.json" --log "$out/bench.log" || status=1
exit $status
