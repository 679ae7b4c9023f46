#!/usr/bin/env bash
# The GPU checks of the CUDA backend, in two halves.
#
# Here (a machine with nvcc, node and this checkout):
#   bash scripts/gpu-check.sh pack
# builds the CUDA addon (npm run build:cuda) and the TS, then packs node, node_modules (without
# the CPU-only benchmark anchors onnxruntime-node and @tensorflow, ~570 MB that a GPU run does not
# need) and build/ + dist/ into .gpu/ with ../shared/tools/gpu-pack.
#
# On the GPU machine (no node, no network; PyTorch in python3), from the project root:
#   bash scripts/gpu-check.sh run
# unpacks .gpu/, runs test/cuda, then bench/cuda.bench.mjs and bench/cuda_ops.bench.mjs beside
# PyTorch, and writes the logs and JSON results to $OUT (or ./gpu-results).
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  pack)
    npm run build:cuda
    npm run build:ts
    hidden=()
    restore() { for d in "${hidden[@]}"; do mv ".gpu-hidden/$d" "node_modules/$d"; done; rmdir .gpu-hidden 2>/dev/null || true; }
    trap restore EXIT
    mkdir -p .gpu-hidden
    grep -qx '/.gpu-hidden/' .git/info/exclude 2>/dev/null || echo '/.gpu-hidden/' >> .git/info/exclude
    for d in onnxruntime-node @tensorflow; do
      if [ -e "node_modules/$d" ]; then mv "node_modules/$d" ".gpu-hidden/$d"; hidden+=("$d"); fi
    done
    bash ../shared/tools/gpu-pack
    ;;
  run)
    out="${OUT:-$PWD/gpu-results}"
    mkdir -p "$out"
    bash .gpu/unpack.sh
    export PATH=/tmp/gpunode:$PATH
    nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || true
    set +e
    node node_modules/vitest/vitest.mjs run test/cuda 2>&1 | tee "$out/test-cuda.log"
    tests=${PIPESTATUS[0]}
    node bench/cuda.bench.mjs --json "$out/cuda.json" 2>&1 | tee "$out/bench-cuda.log"
    node bench/cuda_ops.bench.mjs --json "$out/cuda_ops.json" 2>&1 | tee "$out/bench-cuda-ops.log"
    echo "test/cuda exit status: $tests" | tee -a "$out/test-cuda.log"
    exit "$tests"
    ;;
  *)
    echo "usage: bash scripts/gpu-check.sh pack|run" >&2
    exit 2
    ;;
esac
