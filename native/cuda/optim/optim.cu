// The multi-tensor optimizer step (optim.h). Layout of a launch: tensor t covers chunks
// [first_chunk[t], first_chunk[t + 1]) of kChunk elements; a block takes chunk after chunk
// (grid-stride), finds its tensor by binary search in the uploaded table, folds that tensor's
// hyper-parameters into coefficients of the element type exactly as the CPU's *Coef structs do,
// and applies the update rule to its elements. Each element is read and written by one thread.
#include <algorithm>
#include <atomic>
#include <string>
#include <vector>
#include "../core/cuda_utils.cuh"
#include "optim.h"

namespace dendrite::cuda {
namespace {

constexpr int64_t kChunk = 4096;  // elements per block step: 16 per thread at 256 threads

std::atomic<int64_t> g_launches{0};

struct Entry {
  void* param;
  const void* grad;
  void* state[kOptimMaxState];
  int64_t numel;
  int64_t first_chunk;
  double hyper[kOptimMaxHyper];
};

// Arithmetic rounded step by step, as the CPU's scalar rules are (nvcc would fuse a * b + c).
template <class T> __device__ __forceinline__ T mul(T a, T b) {
  if constexpr (std::is_same_v<T, float>) return __fmul_rn(a, b); else return __dmul_rn(a, b);
}
template <class T> __device__ __forceinline__ T add(T a, T b) {
  if constexpr (std::is_same_v<T, float>) return __fadd_rn(a, b); else return __dadd_rn(a, b);
}
template <class T> __device__ __forceinline__ T quot(T a, T b) {
  if constexpr (std::is_same_v<T, float>) return __fdiv_rn(a, b); else return __ddiv_rn(a, b);
}
template <class T> __device__ __forceinline__ T root(T a) {
  if constexpr (std::is_same_v<T, float>) return __fsqrt_rn(a); else return __dsqrt_rn(a);
}
// torch.maximum: NaN when either operand is NaN.
template <class T> __device__ __forceinline__ T max_nan(T a, T b) { return (a != a || b != b) ? a + b : (a > b ? a : b); }

template <class T> __device__ __forceinline__ T mk(double v) { return static_cast<T>(v); }

// ---- the rules (native/cpu/optim/optim_rules.h) ----------------------------------------------
// Hyper layouts: see native/binding/optim.cc.

template <class T>
__device__ void sgd_range(const Entry& e, int64_t begin, int64_t end) {
  const double* h = e.hyper;  // lr, weight_decay, momentum, dampening, nesterov, maximize, first_step
  const T weight_decay = mk<T>(h[1]), momentum = mk<T>(h[2]), one_minus_dampening = mk<T>(1 - h[3]), neg_lr = mk<T>(-h[0]);
  const bool decay = h[1] != 0, use_momentum = h[2] != 0, nesterov = h[4] != 0, maximize = h[5] != 0, first = h[6] != 0;
  T* p = static_cast<T*>(e.param);
  const T* g = static_cast<const T*>(e.grad);
  T* buf = static_cast<T*>(e.state[0]);
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    T pv = p[i];
    T d = maximize ? -g[i] : g[i];
    if (decay) d = add(d, mul(weight_decay, pv));
    if (use_momentum) {
      const T b = first ? d : add(mul(buf[i], momentum), mul(one_minus_dampening, d));
      buf[i] = b;
      d = nesterov ? add(d, mul(momentum, b)) : b;
    }
    p[i] = add(pv, mul(neg_lr, d));
  }
}

template <class T>
__device__ void adam_range(const Entry& e, int64_t begin, int64_t end) {
  // weight_decay, lr, beta1, beta2, eps, bias_correction2_sqrt, step_size, amsgrad, maximize, decoupled
  const double* h = e.hyper;
  const T weight_decay = mk<T>(h[0]), decay_factor = mk<T>(1 - h[1] * h[0]), beta1 = mk<T>(h[2]), one_minus_beta1 = mk<T>(1 - h[2]),
          beta2 = mk<T>(h[3]), one_minus_beta2 = mk<T>(1 - h[3]), bc2_sqrt = mk<T>(h[5]), eps = mk<T>(h[4]), neg_step_size = mk<T>(-h[6]);
  const bool amsgrad = h[7] != 0, maximize = h[8] != 0, decoupled = h[9] != 0, decay = h[0] != 0;
  T* p = static_cast<T*>(e.param);
  const T* gr = static_cast<const T*>(e.grad);
  T* m = static_cast<T*>(e.state[0]);
  T* v = static_cast<T*>(e.state[1]);
  T* vmax = static_cast<T*>(e.state[2]);
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    T pv = p[i], g = maximize ? -gr[i] : gr[i];
    if (decoupled) pv = mul(pv, decay_factor);
    else if (decay) g = add(g, mul(weight_decay, pv));
    T mv = add(mul(m[i], beta1), mul(one_minus_beta1, g));
    T vv = add(mul(v[i], beta2), mul(mul(one_minus_beta2, g), g));
    m[i] = mv;
    v[i] = vv;
    T second = vv;
    if (amsgrad) second = vmax[i] = max_nan(vmax[i], vv);
    const T denom = add(quot(root(second), bc2_sqrt), eps);
    p[i] = add(pv, quot(mul(neg_step_size, mv), denom));
  }
}

template <class T>
__device__ void adamax_range(const Entry& e, int64_t begin, int64_t end) {
  const double* h = e.hyper;  // weight_decay, beta1, beta2, eps, clr, maximize
  const T weight_decay = mk<T>(h[0]), beta1 = mk<T>(h[1]), one_minus_beta1 = mk<T>(1 - h[1]), beta2 = mk<T>(h[2]), eps = mk<T>(h[3]),
          neg_clr = mk<T>(-h[4]);
  const bool decay = h[0] != 0, maximize = h[5] != 0;
  T* p = static_cast<T*>(e.param);
  const T* gr = static_cast<const T*>(e.grad);
  T* m = static_cast<T*>(e.state[0]);
  T* u = static_cast<T*>(e.state[1]);
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    const T pv = p[i];
    T g = maximize ? -gr[i] : gr[i];
    if (decay) g = add(g, mul(weight_decay, pv));
    const T mv = add(mul(m[i], beta1), mul(one_minus_beta1, g));
    const T uv = max_nan(mul(u[i], beta2), add(fabs(g), eps));
    m[i] = mv;
    u[i] = uv;
    p[i] = add(pv, quot(mul(neg_clr, mv), uv));
  }
}

template <class T>
__device__ void nadam_range(const Entry& e, int64_t begin, int64_t end) {
  const double* h = e.hyper;  // weight_decay, beta1, beta2, eps, bias_correction2, grad_coef, avg_coef
  const T weight_decay = mk<T>(h[0]), beta1 = mk<T>(h[1]), one_minus_beta1 = mk<T>(1 - h[1]), beta2 = mk<T>(h[2]),
          one_minus_beta2 = mk<T>(1 - h[2]), bias_correction2 = mk<T>(h[4]), eps = mk<T>(h[3]), grad_coef = mk<T>(h[5]),
          avg_coef = mk<T>(h[6]);
  const bool decay = h[0] != 0;
  T* p = static_cast<T*>(e.param);
  const T* gr = static_cast<const T*>(e.grad);
  T* m = static_cast<T*>(e.state[0]);
  T* v = static_cast<T*>(e.state[1]);
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    T pv = p[i], g = gr[i];
    if (decay) g = add(g, mul(weight_decay, pv));
    const T mv = add(mul(m[i], beta1), mul(one_minus_beta1, g));
    const T vv = add(mul(v[i], beta2), mul(mul(one_minus_beta2, g), g));
    m[i] = mv;
    v[i] = vv;
    const T denom = add(root(quot(vv, bias_correction2)), eps);
    pv = add(pv, quot(mul(grad_coef, g), denom));
    p[i] = add(pv, quot(mul(avg_coef, mv), denom));
  }
}

template <class T>
__device__ void rmsprop_range(const Entry& e, int64_t begin, int64_t end) {
  const double* h = e.hyper;  // lr, alpha, eps, weight_decay, momentum, centered, maximize
  const T weight_decay = mk<T>(h[3]), alpha = mk<T>(h[1]), one_minus_alpha = mk<T>(1 - h[1]), eps = mk<T>(h[2]), momentum = mk<T>(h[4]),
          neg_lr = mk<T>(-h[0]), one = mk<T>(1);
  const bool decay = h[3] != 0, use_momentum = h[4] > 0, centered = h[5] != 0, maximize = h[6] != 0;
  T* p = static_cast<T*>(e.param);
  const T* gr = static_cast<const T*>(e.grad);
  T* sq = static_cast<T*>(e.state[0]);
  T* ga = static_cast<T*>(e.state[1]);
  T* buf = static_cast<T*>(e.state[2]);
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    const T pv = p[i];
    T g = maximize ? -gr[i] : gr[i];
    if (decay) g = add(g, mul(weight_decay, pv));
    const T sv = add(mul(sq[i], alpha), mul(mul(one_minus_alpha, g), g));
    sq[i] = sv;
    T avg;
    if (centered) {
      const T mean = add(mul(ga[i], alpha), mul(one_minus_alpha, g));
      ga[i] = mean;
      avg = root(add(sv, mul(mul(-one, mean), mean)));
    } else {
      avg = root(sv);
    }
    avg = add(avg, eps);
    if (use_momentum) {
      const T b = add(mul(buf[i], momentum), quot(mul(one, g), avg));
      buf[i] = b;
      p[i] = add(pv, mul(neg_lr, b));
    } else {
      p[i] = add(pv, quot(mul(neg_lr, g), avg));
    }
  }
}

template <class T>
__device__ void adagrad_range(const Entry& e, int64_t begin, int64_t end) {
  const double* h = e.hyper;  // weight_decay, eps, clr, maximize
  const T weight_decay = mk<T>(h[0]), eps = mk<T>(h[1]), neg_clr = mk<T>(-h[2]), one = mk<T>(1);
  const bool decay = h[0] != 0, maximize = h[3] != 0;
  T* p = static_cast<T*>(e.param);
  const T* gr = static_cast<const T*>(e.grad);
  T* sum = static_cast<T*>(e.state[0]);
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    const T pv = p[i];
    T g = maximize ? -gr[i] : gr[i];
    if (decay) g = add(g, mul(weight_decay, pv));
    const T sv = add(sum[i], mul(mul(one, g), g));
    sum[i] = sv;
    const T std_dev = add(root(sv), eps);
    p[i] = add(pv, quot(mul(neg_clr, g), std_dev));
  }
}

template <class T, OptimKind K>
__global__ void multi_step_kernel(const Entry* entries, int count, int64_t total_chunks) {
  for (int64_t chunk = blockIdx.x; chunk < total_chunks; chunk += gridDim.x) {
    // The last tensor whose first chunk is at or before this one (every entry has >= 1 chunk).
    int lo = 0, hi = count - 1;
    while (lo < hi) {
      const int mid = (lo + hi + 1) >> 1;
      if (entries[mid].first_chunk <= chunk) lo = mid;
      else hi = mid - 1;
    }
    const Entry& e = entries[lo];
    const int64_t begin = (chunk - e.first_chunk) * kChunk;
    const int64_t end = begin + kChunk < e.numel ? begin + kChunk : e.numel;
    if constexpr (K == OptimKind::Sgd) sgd_range<T>(e, begin, end);
    else if constexpr (K == OptimKind::Adam) adam_range<T>(e, begin, end);
    else if constexpr (K == OptimKind::Adamax) adamax_range<T>(e, begin, end);
    else if constexpr (K == OptimKind::NAdam) nadam_range<T>(e, begin, end);
    else if constexpr (K == OptimKind::Rmsprop) rmsprop_range<T>(e, begin, end);
    else adagrad_range<T>(e, begin, end);
  }
}

const char* kind_name(OptimKind k) {
  switch (k) {
    case OptimKind::Sgd: return "SGD.step";
    case OptimKind::Adam: return "Adam.step";
    case OptimKind::Adamax: return "Adamax.step";
    case OptimKind::NAdam: return "NAdam.step";
    case OptimKind::Rmsprop: return "RMSprop.step";
    case OptimKind::Adagrad: return "Adagrad.step";
  }
  return "optimStep";
}

// The state each entry's options need (the CPU's *_step checks).
void check_state(OptimKind kind, const OptimTensor& t) {
  const char* op = kind_name(kind);
  auto need = [&](int i, const char* what, const char* when) {
    if (t.state[i] == nullptr && t.numel > 0) fail(ErrorCode::Argument, op, std::string("a ") + what + " buffer" + when, "none");
  };
  const double* h = t.hyper;
  switch (kind) {
    case OptimKind::Sgd:
      if (h[2] != 0) need(0, "momentum", " when momentum != 0");
      break;
    case OptimKind::Adam:
      need(0, "exp_avg", "");
      need(1, "exp_avg_sq", "");
      if (h[7] != 0) need(2, "max_exp_avg_sq", " with amsgrad");
      break;
    case OptimKind::Adamax:
      need(0, "exp_avg", "");
      need(1, "exp_inf", "");
      break;
    case OptimKind::NAdam:
      need(0, "exp_avg", "");
      need(1, "exp_avg_sq", "");
      break;
    case OptimKind::Rmsprop:
      need(0, "square_avg", "");
      if (h[5] != 0) need(1, "grad_avg", " when centered");
      if (h[4] > 0) need(2, "momentum", " when momentum > 0");
      break;
    case OptimKind::Adagrad:
      need(0, "sum", "");
      break;
  }
}

template <class T, OptimKind K>
void launch(const Entry* entries, int count, int64_t total_chunks, cudaStream_t s) {
  const int64_t cap = static_cast<int64_t>(sm_count()) * 8;
  const unsigned blocks = static_cast<unsigned>(std::max<int64_t>(1, std::min(total_chunks, cap)));
  multi_step_kernel<T, K><<<blocks, kThreads, 0, s>>>(entries, count, total_chunks);
}

template <class T>
void launch_kind(OptimKind kind, const Entry* entries, int count, int64_t total_chunks, cudaStream_t s) {
  switch (kind) {
    case OptimKind::Sgd: return launch<T, OptimKind::Sgd>(entries, count, total_chunks, s);
    case OptimKind::Adam: return launch<T, OptimKind::Adam>(entries, count, total_chunks, s);
    case OptimKind::Adamax: return launch<T, OptimKind::Adamax>(entries, count, total_chunks, s);
    case OptimKind::NAdam: return launch<T, OptimKind::NAdam>(entries, count, total_chunks, s);
    case OptimKind::Rmsprop: return launch<T, OptimKind::Rmsprop>(entries, count, total_chunks, s);
    case OptimKind::Adagrad: return launch<T, OptimKind::Adagrad>(entries, count, total_chunks, s);
  }
}

}  // namespace

void optim_step_multi(OptimKind kind, DType dtype, const OptimTensor* tensors, int64_t count) {
  const char* op = kind_name(kind);
  if (static_cast<int32_t>(kind) < 0 || static_cast<int32_t>(kind) > static_cast<int32_t>(OptimKind::Adagrad))
    fail(ErrorCode::Argument, "optimStepMulti", "a known optimizer kind", std::to_string(static_cast<int32_t>(kind)));
  if (!dtype_is_float(dtype)) fail(ErrorCode::DType, op, "float32 or float64 parameters", dtype_name(dtype));
  if (count < 0 || count > INT32_MAX) fail(ErrorCode::Argument, op, "fewer than 2^31 tensors", std::to_string(count));
  std::vector<Entry> entries;
  entries.reserve(static_cast<size_t>(count));
  int64_t chunks = 0;
  for (int64_t i = 0; i < count; ++i) {
    const OptimTensor& t = tensors[i];
    if (t.numel < 0) fail(ErrorCode::Shape, op, "a non-negative element count", std::to_string(t.numel));
    check_state(kind, t);
    if (t.numel == 0) continue;  // nothing to update; keeps every entry at least one chunk long
    if (t.param == nullptr || t.grad == nullptr) fail(ErrorCode::Argument, op, "a parameter and its gradient", "none");
    Entry e{};
    e.param = t.param;
    e.grad = t.grad;
    for (int s = 0; s < kOptimMaxState; ++s) e.state[s] = t.state[s];
    e.numel = t.numel;
    e.first_chunk = chunks;
    for (int k = 0; k < kOptimMaxHyper; ++k) e.hyper[k] = t.hyper[k];
    chunks += (t.numel + kChunk - 1) / kChunk;
    entries.push_back(e);
  }
  if (entries.empty()) return;
  cudaStream_t s = stream();
  const size_t bytes = entries.size() * sizeof(Entry);
  Scratch table(bytes);
  // From pageable memory: returns once the bytes are staged, with no wait for the device.
  copy_to_device(table.ptr, entries.data(), bytes);
  const int n = static_cast<int>(entries.size());
  if (dtype == DType::Float64) launch_kind<double>(kind, table.as<Entry>(), n, chunks, s);
  else launch_kind<float>(kind, table.as<Entry>(), n, chunks, s);
  check_launch(op);
  g_launches.fetch_add(1, std::memory_order_relaxed);
}

int64_t optim_multi_launches() { return g_launches.load(std::memory_order_relaxed); }

}  // namespace dendrite::cuda
