#!/bin/sh
# Checks the index math of native/cuda/conv/conv.cu without a GPU: the file is rewritten for
# the host (each kernel<<<grid, block>>>(args) becomes an emulated launch, the tuning constants
# become variables the checker sets, see emu.h), compiled with AddressSanitizer and UBSan,
# and run over random geometries against a plain reference (main.cc). The SGEMM is replaced by
# loops, so this checks conv.cu alone; test/cuda/conv.test.ts checks the real thing on a GPU.
#   native/cuda/conv/host_check/run.sh [iterations=2000] [seed=1]   (MAXHW=40 for larger images)
set -e
here=$(cd "$(dirname "$0")" && pwd)
native=$(cd "$here/../../.." && pwd)
out=${TMPDIR:-/tmp}/dendrite_conv_host_check
mkdir -p "$out"
perl -0pe '
s{#include "\.\./core/cuda_utils\.cuh"}{#include "emu.h"};
s{#include "conv\.h"}{#include "cuda/conv/conv.h"};
s{constexpr int64_t kColElems = int64_t\{16\} << 20;}{static int64_t& kColElems = emu::col_elems;};
s{constexpr int64_t kMinCols = 256;}{static int64_t& kMinCols = emu::min_cols;};
s{constexpr int64_t kPointwiseDirectP = 2048;}{static int64_t& kPointwiseDirectP = emu::pointwise_p;};
s{constexpr int64_t kReduceChunk = 4096;}{static int64_t& kReduceChunk = emu::reduce_chunk;};
s{(for \(int64_t e : extents\)\n)}{if (emu::force64) return false;\n  $1};
s{([\w:]+(?:<\w+>)?)<<<(.*?)>>>\(}{emu::launch("$1", EMU_CFG($2), [&](auto&&... emu_a) { $1(emu_a...); }, }gs;
' "$native/cuda/conv/conv.cu" > "$out/conv_emu.cc"
if [ "$(grep -c 'static int64_t& k' "$out/conv_emu.cc")" != 4 ] || grep -q '<<<' "$out/conv_emu.cc"; then
  echo "host_check: conv.cu no longer matches the rewrite rules in run.sh" >&2
  exit 2
fi
g++ -std=c++20 -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -I"$native" -I"$here" -I"$out" \
  "$here/main.cc" -o "$out/check" -lpthread
exec "$out/check" "$@"
