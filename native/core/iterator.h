// A small TensorIterator: walks up to kMaxOperands strided operands that share one shape
// (inputs already broadcast by giving stride 0 to broadcast dims), coalescing dims that are
// contiguous across all operands, and hands the innermost run to a loop body:
//   body(char* const* ptrs, const int64_t* byte_strides, int64_t n)
// Parallel over the flat output range when the work is large.
#pragma once
#include <algorithm>
#include <cstdint>
#include "tensor.h"
#include "thread_pool.h"

namespace dendrite {

constexpr int kMaxOperands = 4;
constexpr int64_t kElementwiseGrain = 32768;

struct StridedOperands {
  int nops = 0;
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[kMaxOperands][kMaxDims] = {};  // bytes
  char* base[kMaxOperands] = {};

  // All descs must have the same ndim and shape (checked by the caller).
  StridedOperands(const TensorDesc* const* descs, int n) : nops(n) {
    const TensorDesc& first = *descs[0];
    // Walk dims from innermost, dropping size-1 dims and merging dims that are contiguous
    // with the one inside them for every operand.
    int out = 0;
    int64_t sh[kMaxDims];
    int64_t st[kMaxOperands][kMaxDims];
    for (int d = first.ndim - 1; d >= 0; --d) {
      int64_t size = first.shape[d];
      if (size == 1) continue;
      if (out > 0) {
        bool merge = true;
        for (int k = 0; k < n; ++k)
          if (descs[k]->strides[d] != st[k][out - 1] * sh[out - 1]) { merge = false; break; }
        if (merge) { sh[out - 1] *= size; continue; }
      }
      sh[out] = size;
      for (int k = 0; k < n; ++k) st[k][out] = descs[k]->strides[d];
      ++out;
    }
    ndim = out;
    for (int i = 0; i < out; ++i) {  // back to outermost-first order, strides in bytes
      shape[i] = sh[out - 1 - i];
      for (int k = 0; k < n; ++k)
        strides[k][i] = st[k][out - 1 - i] * static_cast<int64_t>(dtype_size(descs[k]->dtype));
    }
    for (int k = 0; k < n; ++k) base[k] = static_cast<char*>(descs[k]->data);
  }

  int64_t numel() const {
    int64_t s = 1;
    for (int i = 0; i < ndim; ++i) s *= shape[i];
    return s;
  }

  // Runs body over the flat range [begin, end) of the iteration space.
  template <class Body>
  void run_range(int64_t begin, int64_t end, Body& body) const {
    // Nothing to visit; also keeps the index split below from dividing by a zero-size dim.
    if (begin >= end) return;
    if (ndim == 0) {
      char* p[kMaxOperands];
      int64_t s[kMaxOperands] = {};
      for (int k = 0; k < nops; ++k) p[k] = base[k];
      body(p, s, 1);
      return;
    }
    const int inner = ndim - 1;
    const int64_t inner_size = shape[inner];
    int64_t idx[kMaxDims] = {};
    int64_t rem = begin;
    for (int d = ndim - 1; d >= 0; --d) { idx[d] = rem % shape[d]; rem /= shape[d]; }
    int64_t inner_strides[kMaxOperands];
    for (int k = 0; k < nops; ++k) inner_strides[k] = strides[k][inner];
    int64_t pos = begin;
    while (pos < end) {
      char* p[kMaxOperands];
      for (int k = 0; k < nops; ++k) {
        char* q = base[k];
        for (int d = 0; d < ndim; ++d) q += idx[d] * strides[k][d];
        p[k] = q;
      }
      int64_t n = std::min(inner_size - idx[inner], end - pos);
      body(p, inner_strides, n);
      pos += n;
      idx[inner] += n;
      for (int d = inner; d > 0 && idx[d] >= shape[d]; --d) { idx[d] = 0; ++idx[d - 1]; }
    }
  }

  template <class Body>
  void run(Body body, int64_t grain = kElementwiseGrain) const {
    int64_t total = numel();
    if (total < 2 * grain) { run_range(0, total, body); return; }
    parallel_for(0, total, grain, [&](int64_t lo, int64_t hi) { run_range(lo, hi, body); });
  }
};

}  // namespace dendrite
