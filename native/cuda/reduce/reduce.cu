// Reductions over any set of dims. As on the CPU, the input is brought to (outer, R, inner) form
// — a view when the reduced dims are one contiguous block, else a permuted contiguous copy — and
// every one of the outer * inner lines is reduced. Each op is a reducer: an accumulator with
// init / update (one element and its index) / combine (two partial results) / store. Lines of
// contiguous elements (inner == 1) go to a warp each when short, to a block each when long
// (warp shuffles, then one shared-memory step across warps); strided lines (inner > 1) to a
// thread each, so a warp reads 32 neighbouring columns at once. When there are too few lines to
// fill the GPU, each line is also split across blocks (gridDim.y) and a second kernel combines
// the partial accumulators: block then grid.
//
// Accumulators: float for float32 sums (a tree, like PyTorch), double for float64 and for prod,
// var (Welford, combined by Chan et al.'s formula) and logsumexp (an online max-and-sum);
// int64 for integer sums and products. Max/min/argmax/argmin keep (value, index); NaN wins and
// ties go to the lowest index, so the result does not depend on how the work was split.
#include <cmath>
#include <limits>
#include <string>
#include "../core/cuda_utils.cuh"

namespace dendrite::cuda {
namespace {

using cpu::ReduceOp;

template <class A>
__device__ __forceinline__ A shfl_down(const A& v, int offset) {
  static_assert(sizeof(A) % 4 == 0, "accumulators are shuffled as 32-bit words");
  A r;
  const int* src = reinterpret_cast<const int*>(&v);
  int* dst = reinterpret_cast<int*>(&r);
#pragma unroll
  for (int i = 0; i < static_cast<int>(sizeof(A) / 4); ++i) dst[i] = __shfl_down_sync(0xffffffffu, src[i], offset);
  return r;
}

template <class Red>
__device__ typename Red::Acc warp_reduce(typename Red::Acc a, const Red& r) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) a = r.combine(a, shfl_down(a, offset));
  return a;
}

// The block's result, valid in thread 0.
template <class Red>
__device__ typename Red::Acc block_reduce(typename Red::Acc a, const Red& r) {
  __shared__ typename Red::Acc partial[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  a = warp_reduce(a, r);
  if (lane == 0) partial[warp] = a;
  __syncthreads();
  const int warps = blockDim.x >> 5;
  if (warp == 0) {
    a = lane < warps ? partial[lane] : r.init();
    a = warp_reduce(a, r);
  }
  __syncthreads();  // partial[] is reused by the next line of this block
  return a;
}

template <class T> __device__ __forceinline__ bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return isnan(v); else return false;
}

// ---- reducers -----------------------------------------------------------------------------
template <class T, class AccT, class OutT>
struct SumR {
  using In = T;
  using Acc = AccT;
  using Out = OutT;
  bool mean;
  double count;
  __device__ Acc init() const { return Acc(0); }
  __device__ Acc update(Acc a, T x, int64_t) const { return a + static_cast<Acc>(x); }
  __device__ Acc combine(Acc a, Acc b) const { return a + b; }
  __device__ void store(Acc a, Out* out, int64_t*, int64_t line) const {
    if constexpr (std::is_floating_point_v<Out>) {
      out[line] = mean ? static_cast<Out>(static_cast<double>(a) / count) : static_cast<Out>(a);
    } else {
      out[line] = static_cast<Out>(a);
    }
  }
};

template <class T, class AccT, class OutT>
struct ProdR {
  using In = T;
  using Acc = AccT;
  using Out = OutT;
  __device__ Acc init() const { return Acc(1); }
  __device__ Acc update(Acc a, T x, int64_t) const { return a * static_cast<Acc>(x); }
  __device__ Acc combine(Acc a, Acc b) const { return a * b; }
  __device__ void store(Acc a, Out* out, int64_t*, int64_t line) const { out[line] = static_cast<Out>(a); }
};

template <class T>
struct ExtremeAcc {
  int64_t index;  // -1: empty
  T value;
};

// kMax: max/argmax, else min/argmin. kArg: the output is the index (int64), else the value
// (and, when `indices` is given, the index beside it).
template <class T, bool kMax, bool kArg>
struct ExtremeR {
  using In = T;
  using Acc = ExtremeAcc<T>;
  using Out = std::conditional_t<kArg, int64_t, T>;
  __device__ Acc init() const { return Acc{-1, T(0)}; }
  __device__ Acc combine(Acc a, Acc b) const {
    if (b.index < 0) return a;
    if (a.index < 0) return b;
    bool an = is_nan(a.value), bn = is_nan(b.value);
    if (an || bn) {
      if (an && bn) return a.index <= b.index ? a : b;
      return an ? a : b;
    }
    bool b_better = kMax ? b.value > a.value : b.value < a.value;
    if (b_better || (b.value == a.value && b.index < a.index)) return b;
    return a;
  }
  __device__ Acc update(Acc a, T x, int64_t i) const { return combine(a, Acc{i, x}); }
  __device__ void store(Acc a, Out* out, int64_t* indices, int64_t line) const {
    if constexpr (kArg) {
      out[line] = a.index < 0 ? 0 : a.index;
    } else {
      out[line] = a.value;
      if (indices) indices[line] = a.index < 0 ? 0 : a.index;
    }
  }
};

struct WelfordAcc {
  double n, mean, m2;
};

template <class T>
struct VarR {
  using In = T;
  using Acc = WelfordAcc;
  using Out = T;
  double correction;
  __device__ Acc init() const { return Acc{0, 0, 0}; }
  __device__ Acc update(Acc a, T x, int64_t) const {
    double v = static_cast<double>(x);
    a.n += 1;
    double d = v - a.mean;
    a.mean += d / a.n;
    a.m2 += d * (v - a.mean);
    return a;
  }
  __device__ Acc combine(Acc a, Acc b) const {
    if (b.n == 0) return a;
    if (a.n == 0) return b;
    double n = a.n + b.n, d = b.mean - a.mean;
    return Acc{n, a.mean + d * b.n / n, a.m2 + b.m2 + d * d * a.n * b.n / n};
  }
  __device__ void store(Acc a, Out* out, int64_t*, int64_t line) const {
    // As the CPU: the mean of nothing is NaN, and dof <= 0 divides by zero.
    double m2 = a.n == 0 ? nan("") : a.m2;
    double dof = a.n - correction;
    out[line] = static_cast<Out>(m2 / (dof > 0 ? dof : 0.0));
  }
};

struct LseAcc {
  double m, s;  // running max and sum of exp(x - m)
  int nan, pad;
};

template <class T>
struct LseR {
  using In = T;
  using Acc = LseAcc;
  using Out = T;
  __device__ Acc init() const { return Acc{-INFINITY, 0, 0, 0}; }
  __device__ Acc combine(Acc a, Acc b) const {
    if (a.nan || b.nan) return Acc{0, 0, 1, 0};
    if (b.m == -INFINITY) return a;
    if (a.m == -INFINITY) return b;
    if (a.m == INFINITY || b.m == INFINITY) return Acc{INFINITY, 1, 0, 0};
    double m = a.m > b.m ? a.m : b.m;
    return Acc{m, a.s * exp(a.m - m) + b.s * exp(b.m - m), 0, 0};
  }
  __device__ Acc update(Acc a, T x, int64_t) const {
    double v = static_cast<double>(x);
    if (isnan(v)) return Acc{0, 0, 1, 0};
    return combine(a, Acc{v, 1, 0, 0});
  }
  __device__ void store(Acc a, Out* out, int64_t*, int64_t line) const {
    double r;
    if (a.nan) r = nan("");
    else if (a.m == INFINITY || a.m == -INFINITY) r = a.m;
    else r = log(a.s) + a.m;
    out[line] = static_cast<Out>(r);
  }
};

template <class T, bool kAll>
struct AllAnyR {
  using In = T;
  using Acc = int;
  using Out = bool_t;
  __device__ Acc init() const { return kAll ? 1 : 0; }
  __device__ Acc update(Acc a, T x, int64_t) const { return kAll ? (a && x != T(0)) : (a || x != T(0)); }
  __device__ Acc combine(Acc a, Acc b) const { return kAll ? (a && b) : (a || b); }
  __device__ void store(Acc a, Out* out, int64_t*, int64_t line) const { out[line] = static_cast<bool_t>(a != 0); }
};

// ---- kernels ------------------------------------------------------------------------------
template <class Red>
__global__ void reduce_rows_warp(const typename Red::In* x, int64_t lines, int64_t len, Red r, typename Red::Out* out,
                                 int64_t* indices) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x >> 5);
  for (int64_t line = static_cast<int64_t>(blockIdx.x) * (blockDim.x >> 5) + (threadIdx.x >> 5); line < lines; line += warps) {
    const typename Red::In* p = x + line * len;
    typename Red::Acc a = r.init();
    for (int64_t i = lane; i < len; i += 32) a = r.update(a, p[i], i);
    a = warp_reduce(a, r);
    if (lane == 0) r.store(a, out, indices, line);
  }
}

template <class Red>
__global__ void reduce_rows_block(const typename Red::In* x, int64_t lines, int64_t len, int splits, Red r,
                                  typename Red::Out* out, int64_t* indices, typename Red::Acc* partial) {
  const int64_t chunk = (len + splits - 1) / splits;
  const int64_t lo = blockIdx.y * chunk, hi = lo + chunk < len ? lo + chunk : len;
  for (int64_t line = blockIdx.x; line < lines; line += gridDim.x) {
    const typename Red::In* p = x + line * len;
    typename Red::Acc a = r.init();
    for (int64_t i = lo + threadIdx.x; i < hi; i += blockDim.x) a = r.update(a, p[i], i);
    a = block_reduce(a, r);
    if (threadIdx.x == 0) {
      if (splits == 1) r.store(a, out, indices, line);
      else partial[line * splits + blockIdx.y] = a;
    }
  }
}

template <class Red>
__global__ void reduce_cols(const typename Red::In* x, int64_t outer, int64_t len, int64_t inner, int splits, Red r,
                            typename Red::Out* out, int64_t* indices, typename Red::Acc* partial) {
  const int64_t cols = outer * inner;
  const int64_t chunk = (len + splits - 1) / splits;
  const int64_t lo = blockIdx.y * chunk, hi = lo + chunk < len ? lo + chunk : len;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < cols; c += stride) {
    const int64_t o = c / inner, i = c - o * inner;
    const typename Red::In* p = x + o * len * inner + i;
    typename Red::Acc a = r.init();
    for (int64_t k = lo; k < hi; ++k) a = r.update(a, p[k * inner], k);
    if (splits == 1) r.store(a, out, indices, c);
    else partial[c * splits + blockIdx.y] = a;
  }
}

template <class Red>
__global__ void reduce_partials(const typename Red::Acc* partial, int64_t lines, int splits, Red r, typename Red::Out* out,
                                int64_t* indices) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t line = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; line < lines; line += stride) {
    typename Red::Acc a = partial[line * splits];
    for (int s = 1; s < splits; ++s) a = r.combine(a, partial[line * splits + s]);
    r.store(a, out, indices, line);
  }
}

constexpr int64_t kWarpLineLimit = 1024;  // lines up to this long get one warp each

template <class Red>
void run_reducer(const char* name, const Red& r, const void* x, int64_t outer, int64_t len, int64_t inner, void* out,
                 int64_t* indices) {
  using In = typename Red::In;
  using Out = typename Red::Out;
  using Acc = typename Red::Acc;
  const In* xin = static_cast<const In*>(x);
  Out* o = static_cast<Out*>(out);
  cudaStream_t s = stream();
  const int64_t lines = outer * inner;
  const int64_t target_threads = static_cast<int64_t>(sm_count()) * 2048;
  if (inner == 1 && len <= kWarpLineLimit) {
    constexpr int kWarps = kThreads / 32;
    int64_t blocks = (lines + kWarps - 1) / kWarps;
    unsigned grid = static_cast<unsigned>(blocks < 65535 * 16 ? blocks : 65535 * 16);
    reduce_rows_warp<Red><<<grid, kThreads, 0, s>>>(xin, lines, len, r, o, indices);
    check_launch(name);
    return;
  }
  int splits = 1;
  if (inner == 1) {
    // One block per line; lines too few to fill the GPU are split further.
    int64_t blocks_wanted = target_threads / kThreads;
    if (lines < blocks_wanted) {
      int64_t by_work = (len + 4095) / 4096;
      int64_t by_fill = (blocks_wanted + lines - 1) / lines;
      splits = static_cast<int>(std::min<int64_t>(std::min(by_work, by_fill), 1024));
      if (splits < 1) splits = 1;
    }
  } else if (lines < target_threads) {
    int64_t by_work = (len + 63) / 64;
    int64_t by_fill = (target_threads + lines - 1) / lines;
    splits = static_cast<int>(std::min<int64_t>(std::min(by_work, by_fill), 1024));
    if (splits < 1) splits = 1;
  }
  Scratch partial(splits > 1 ? static_cast<size_t>(lines * splits) * sizeof(Acc) : 0);
  if (inner == 1) {
    dim3 grid(static_cast<unsigned>(std::min<int64_t>(lines, 1 << 30)), static_cast<unsigned>(splits));
    reduce_rows_block<Red><<<grid, kThreads, 0, s>>>(xin, lines, len, splits, r, o, indices, partial.as<Acc>());
  } else {
    dim3 grid(grid_for(lines), static_cast<unsigned>(splits));
    reduce_cols<Red><<<grid, kThreads, 0, s>>>(xin, outer, len, inner, splits, r, o, indices, partial.as<Acc>());
  }
  check_launch(name);
  if (splits > 1) {
    reduce_partials<Red><<<grid_for(lines), kThreads, 0, s>>>(partial.as<Acc>(), lines, splits, r, o, indices);
    check_launch(name);
  }
}

template <class T>
using SumAcc = std::conditional_t<std::is_same_v<T, float>, float, std::conditional_t<std::is_same_v<T, double>, double, int64_t>>;
template <class T>
using WideOut = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;
template <class T>
using ProdAcc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

template <class T>
void dispatch_op(ReduceOp op, const char* name, const void* x, int64_t outer, int64_t len, int64_t inner, void* out,
                 int64_t* indices, double correction) {
  switch (op) {
    case ReduceOp::Sum: case ReduceOp::Mean:
      run_reducer(name, SumR<T, SumAcc<T>, WideOut<T>>{op == ReduceOp::Mean, static_cast<double>(len)}, x, outer, len, inner, out, indices);
      break;
    case ReduceOp::Prod: run_reducer(name, ProdR<T, ProdAcc<T>, WideOut<T>>{}, x, outer, len, inner, out, indices); break;
    case ReduceOp::Max: run_reducer(name, ExtremeR<T, true, false>{}, x, outer, len, inner, out, indices); break;
    case ReduceOp::Min: run_reducer(name, ExtremeR<T, false, false>{}, x, outer, len, inner, out, indices); break;
    case ReduceOp::Argmax: run_reducer(name, ExtremeR<T, true, true>{}, x, outer, len, inner, out, nullptr); break;
    case ReduceOp::Argmin: run_reducer(name, ExtremeR<T, false, true>{}, x, outer, len, inner, out, nullptr); break;
    case ReduceOp::All: run_reducer(name, AllAnyR<T, true>{}, x, outer, len, inner, out, nullptr); break;
    case ReduceOp::Any: run_reducer(name, AllAnyR<T, false>{}, x, outer, len, inner, out, nullptr); break;
    case ReduceOp::Var:
      if constexpr (std::is_floating_point_v<T>) run_reducer(name, VarR<T>{correction}, x, outer, len, inner, out, nullptr);
      break;
    case ReduceOp::LogSumExp:
      if constexpr (std::is_floating_point_v<T>) run_reducer(name, LseR<T>{}, x, outer, len, inner, out, nullptr);
      break;
    default: break;
  }
}

}  // namespace

void reduce(ReduceOp op, const TensorDesc& out, const TensorDesc& in, const bool* reduce_mask, double correction,
            const TensorDesc* indices) {
  const char* name = cpu::reduce_op_names()[static_cast<int>(op)];
  const cpu::ReducePlan plan = cpu::plan_reduce(op, out, in, reduce_mask, indices);
  const int64_t kept = plan.kept, R = plan.R;
  if (kept == 0) return;

  const int64_t outer = plan.outer, inner = plan.inner;
  int64_t* idx = indices ? indices->ptr<int64_t>() : nullptr;
  if (!plan.in_place) {
    // Kept dims first, reduced dims last, copied to a contiguous scratch buffer.
    TensorDesc permuted = in;
    int k = 0;
    for (int pass = 0; pass < 2; ++pass)
      for (int d = 0; d < in.ndim; ++d)
        if (reduce_mask[d] == (pass == 1)) { permuted.shape[k] = in.shape[d]; permuted.strides[k] = in.strides[d]; ++k; }
    Scratch copy(static_cast<size_t>(kept * R) * dtype_size(in.dtype));
    TensorDesc dense = contiguous_desc(copy.ptr, in.dtype, permuted.shape, permuted.ndim);
    dense.device = Device::Cuda;
    cuda::unary(cpu::UnaryOp::Cast, dense, permuted, cpu::OpParams{});
    dispatch_dtype(in.dtype, [&](auto tag) {
      dispatch_op<decltype(tag)>(op, name, copy.ptr, kept, R, 1, out.data, idx, correction);
    });
    return;
  }
  dispatch_dtype(in.dtype, [&](auto tag) {
    dispatch_op<decltype(tag)>(op, name, in.data, outer, R, inner, out.data, idx, correction);
  });
}

}  // namespace dendrite::cuda
