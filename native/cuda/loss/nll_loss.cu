// NLL loss on CUDA with the contract of native/cpu/loss/nll_loss.h. One thread per target
// position (grid-stride): the forward writes the per-position loss (reduction none) and sums the
// loss and the counted weights in double; each block reduces its sums (warp shuffles, then one
// shared step) into a slot of its own, and a one-thread kernel adds the slots in block order and
// writes total_weight and the reduced loss. The backward writes -weight[t] * grad at each target
// position of a zeroed gradient. Targets are validated first (see loss.h).
#include <string>
#include "../core/cuda_utils.cuh"
#include "loss.h"

namespace dendrite::cuda {
namespace {

using cpu::Reduction;

// Calls f(T{}, I{}) for the scores' and the target's element types.
template <class F>
void with_types(DType scores, DType target, F f) {
  auto by_index = [&](auto tag) {
    if (target == DType::Int32) f(decltype(tag){}, int32_t{});
    else f(decltype(tag){}, int64_t{});
  };
  if (scores == DType::Float32) by_index(float{});
  else by_index(double{});
}

constexpr unsigned long long kNone = ~0ull;

template <class I>
__global__ void find_bad_target(const I* target, int64_t count, int64_t classes, int64_t ignore_index, unsigned long long* first) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < count; k += stride) {
    const int64_t v = static_cast<int64_t>(target[k]);
    if (v != ignore_index && (v < 0 || v >= classes)) atomicMin(first, static_cast<unsigned long long>(k));
  }
}

// Throws the CPU's ERR_INDEX for the first target outside [0, C) that is not ignore_index.
template <class I>
void check_targets(const char* op, const I* target, int64_t count, int64_t classes, int64_t ignore_index) {
  if (count == 0) return;
  cudaStream_t s = stream();
  Scratch flag(sizeof(unsigned long long));
  check(cudaMemsetAsync(flag.ptr, 0xff, flag.bytes, s), op);
  find_bad_target<I><<<grid_for(count), kThreads, 0, s>>>(target, count, classes, ignore_index, flag.as<unsigned long long>());
  check_launch(op);
  unsigned long long first = kNone;
  copy_to_host(&first, flag.ptr, sizeof(first));
  if (first == kNone) return;
  I v = 0;
  copy_to_host(&v, target + first, sizeof(v));
  fail(ErrorCode::Index, op, "target values in [0, " + std::to_string(classes) + ") or ignoreIndex " + std::to_string(ignore_index),
       std::to_string(static_cast<int64_t>(v)) + " at position " + std::to_string(first));
}

__device__ __forceinline__ double warp_sum(double v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

// (a, b) summed over the block, valid in thread 0. blockDim.x is a multiple of 32, at most 1024.
__device__ void block_sum2(double& a, double& b) {
  __shared__ double part[2][32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  a = warp_sum(a);
  b = warp_sum(b);
  if (lane == 0) {
    part[0][warp] = a;
    part[1][warp] = b;
  }
  __syncthreads();
  if (warp == 0) {
    const int warps = blockDim.x >> 5;
    a = lane < warps ? part[0][lane] : 0.0;
    b = lane < warps ? part[1][lane] : 0.0;
    a = warp_sum(a);
    b = warp_sum(b);
  }
}

// loss_none: per-position output for reduction none (else null). partials[2 * block + {0, 1}]
// receive the block's sum of losses and of counted weights.
template <class T, class I>
__global__ void nll_forward_kernel(T* loss_none, double* partials, const T* x, const I* target, const T* weight, int64_t count,
                                   int64_t classes, int64_t inner, int64_t ignore_index) {
  double sum = 0, wsum = 0;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < count; k += stride) {
    const int64_t cls = static_cast<int64_t>(target[k]);
    if (cls == ignore_index) {
      if (loss_none) loss_none[k] = T(0);
      continue;
    }
    const int64_t n = k / inner, i = k - n * inner;
    const T wc = weight ? weight[cls] : T(1);
    const T v = -wc * x[(n * classes + cls) * inner + i];
    if (loss_none) loss_none[k] = v;
    sum += static_cast<double>(v);
    wsum += static_cast<double>(wc);
  }
  block_sum2(sum, wsum);
  if (threadIdx.x == 0) {
    partials[2 * blockIdx.x] = sum;
    partials[2 * blockIdx.x + 1] = wsum;
  }
}

template <class T>
__global__ void nll_finalize(T* out, T* total_weight, const double* partials, int blocks, int reduction) {
  double sum = 0, wsum = 0;
  for (int b = 0; b < blocks; ++b) {
    sum += partials[2 * b];
    wsum += partials[2 * b + 1];
  }
  *total_weight = static_cast<T>(wsum);
  if (reduction == static_cast<int>(Reduction::Sum)) *out = static_cast<T>(sum);
  else if (reduction == static_cast<int>(Reduction::Mean)) *out = static_cast<T>(sum) / static_cast<T>(wsum);
}

// grad_out: one element (mean / sum) or, for none, read through go_walk (target-shaped, strided).
template <class T, class I>
__global__ void nll_backward_kernel(T* grad_input, const T* grad_out, OffsetCalc<1> go_walk, const T* total_weight, const I* target,
                                    const T* weight, int64_t count, int64_t classes, int64_t inner, int64_t ignore_index, int reduction) {
  const bool none = reduction == static_cast<int>(Reduction::None);
  T scalar = T(0);
  if (!none) scalar = reduction == static_cast<int>(Reduction::Mean) ? -(*grad_out / *total_weight) : -*grad_out;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < count; k += stride) {
    const int64_t cls = static_cast<int64_t>(target[k]);
    if (cls == ignore_index) continue;
    T g = scalar;
    if (none) {
      int64_t off[1];
      go_walk.get(k, off);  // bytes
      g = -*reinterpret_cast<const T*>(reinterpret_cast<const char*>(grad_out) + off[0]);
    }
    const int64_t n = k / inner, i = k - n * inner;
    grad_input[(n * classes + cls) * inner + i] = weight ? weight[cls] * g : g;
  }
}

}  // namespace

void nll_loss_forward(const TensorDesc& out, const TensorDesc& total_weight, const TensorDesc& input, const TensorDesc& target,
                      const TensorDesc* weight, int64_t ignore_index, Reduction reduction) {
  const char* op = "nllLoss";
  const cpu::NllLossDims d = cpu::check_nll_loss_forward_args(out, total_weight, input, target, weight, reduction);
  const int64_t count = d.n * d.inner;
  // The weight is read as a dense vector of C values.
  if (weight && !weight->is_contiguous()) fail(ErrorCode::Argument, op, "a contiguous weight", "a strided view");
  with_types(input.dtype, target.dtype, [&](auto ttag, auto itag) {
    using T = decltype(ttag);
    using I = decltype(itag);
    check_targets<I>(op, target.ptr<I>(), count, d.c, ignore_index);
    cudaStream_t s = stream();
    const unsigned blocks = grid_for(count);
    Scratch partials(static_cast<size_t>(blocks) * 2 * sizeof(double));
    nll_forward_kernel<T, I><<<blocks, kThreads, 0, s>>>(reduction == Reduction::None ? out.ptr<T>() : nullptr, partials.as<double>(),
                                                        input.ptr<T>(), target.ptr<I>(), weight ? weight->ptr<T>() : nullptr, count, d.c,
                                                        d.inner, ignore_index);
    check_launch(op);
    nll_finalize<T><<<1, 1, 0, s>>>(out.ptr<T>(), total_weight.ptr<T>(), partials.as<double>(), static_cast<int>(blocks),
                                    static_cast<int>(reduction));
    check_launch(op);
  });
}

void nll_loss_backward(const TensorDesc& grad_input, const TensorDesc& grad_out, const TensorDesc& target, const TensorDesc* weight,
                       const TensorDesc& total_weight, int64_t ignore_index, Reduction reduction) {
  const char* op = "nllLoss backward";
  const cpu::NllLossDims d = cpu::check_nll_loss_backward_args(grad_input, grad_out, target, weight, total_weight, reduction);
  const int64_t count = d.n * d.inner;
  if (weight && !weight->is_contiguous()) fail(ErrorCode::Argument, op, "a contiguous weight", "a strided view");
  with_types(grad_input.dtype, target.dtype, [&](auto ttag, auto itag) {
    using T = decltype(ttag);
    using I = decltype(itag);
    check_targets<I>(op, target.ptr<I>(), count, d.c, ignore_index);
    const int64_t n = grad_input.numel();
    if (n == 0) return;
    cudaStream_t s = stream();
    check(cudaMemsetAsync(grad_input.data, 0, static_cast<size_t>(n) * sizeof(T), s), op);
    if (count == 0) return;
    const TensorDesc* walked[1] = {&grad_out};
    bool dense = false;
    OffsetCalc<1> go_walk = make_offset_calc<1>(walked, &dense);
    nll_backward_kernel<T, I><<<grid_for(count), kThreads, 0, s>>>(grad_input.ptr<T>(), grad_out.ptr<T>(), go_walk, total_weight.ptr<T>(),
                                                                  target.ptr<I>(), weight ? weight->ptr<T>() : nullptr, count, d.c,
                                                                  d.inner, ignore_index, static_cast<int>(reduction));
    check_launch(op);
  });
}

}  // namespace dendrite::cuda
