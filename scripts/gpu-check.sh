#!/usr/bin/env bash
# The GPU checks of the CUDA backend, in two halves.
#
# Here (a machine with nvcc, node and this checkout):
#   bash scripts/gpu-check.sh pack
# builds the TS and, unless build/ already holds it, the CUDA addon (npm run build:cuda), then
# packs node, node_modules (without what a GPU run does not need: the CPU benchmark anchors
# onnxruntime-node and @tensorflow, the compilers and build tools, ~650 MB) and build/ + dist/
# into .gpu/ with ../shared/tools/gpu-pack (the carry limit is 64 MiB with the tracked tree).
#
# On the GPU machine (no node, no network; PyTorch in python3), from the project root:
#   bash scripts/gpu-check.sh run
# unpacks .gpu/, runs test/cuda, then bench/cuda.bench.mjs and bench/cuda_ops.bench.mjs beside
# PyTorch, and writes the logs and JSON results to $OUT (or ./gpu-results).
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  pack)
    npm run build:ts
    # Rebuild the addon unless the one in build/ already has the CUDA backend compiled in.
    if ! node -e "process.exit(require('./dist/device.js').cudaInfo().compiled && !/emulat/i.test(require('./dist/device.js').cudaInfo().deviceName || '') ? 0 : 1)" 2>/dev/null; then
      npm run build:cuda
    fi
    hidden=()
    restore() { for d in "${hidden[@]}"; do mv ".gpu-hidden/$d" "node_modules/$d"; done; rmdir .gpu-hidden 2>/dev/null || true; }
    trap restore EXIT
    mkdir -p .gpu-hidden
    exclude=$(git rev-parse --git-path info/exclude)
    mkdir -p "$(dirname "$exclude")"
    grep -qx '/.gpu-hidden/' "$exclude" 2>/dev/null || echo '/.gpu-hidden/' >> "$exclude"
    for d in onnxruntime-node @tensorflow core-js @typescript typescript node-gyp jasmine-core @types; do
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
