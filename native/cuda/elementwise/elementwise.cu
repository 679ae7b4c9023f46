// Elementwise kernels: unary, binary (tensor-tensor and tensor-scalar), where, casts and copies,
// fill. Two loops serve every op: a dense one (grid-stride, 128-bit vector loads and stores when
// every pointer is 16-byte aligned) when all operands are one contiguous run, and a strided one
// over the coalesced dims (OffsetCalc) otherwise; broadcast operands carry stride 0. No
// __restrict__: in-place ops pass out == in. The op is a functor: a runtime switch for most ops
// (uniform across a warp, so it costs issue slots, not divergence), compile-time functors for
// the float32 arithmetic that dominates training.
#include <cstring>
#include <string>
#include "../core/cuda_utils.cuh"
#include "elementwise_ops.cuh"

namespace dendrite::cuda {
namespace {

template <class T, int V>
struct alignas(sizeof(T) * V) Vec {
  T v[V];
};

// ---- dense loops --------------------------------------------------------------------------
template <int V, class Out, class In, class F>
__global__ void map1_dense(Out* out, const In* in, int64_t n, F f) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t nvec = V > 1 ? n / V : 0;
  for (int64_t i = first; i < nvec; i += stride) {
    Vec<In, V> a = reinterpret_cast<const Vec<In, V>*>(in)[i];
    Vec<Out, V> r;
#pragma unroll
    for (int j = 0; j < V; ++j) r.v[j] = f(a.v[j]);
    reinterpret_cast<Vec<Out, V>*>(out)[i] = r;
  }
  for (int64_t i = nvec * V + first; i < n; i += stride) out[i] = f(in[i]);
}

template <int V, class Out, class In, class F>
__global__ void map2_dense(Out* out, const In* a, const In* b, int64_t n, F f) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t nvec = V > 1 ? n / V : 0;
  for (int64_t i = first; i < nvec; i += stride) {
    Vec<In, V> x = reinterpret_cast<const Vec<In, V>*>(a)[i];
    Vec<In, V> y = reinterpret_cast<const Vec<In, V>*>(b)[i];
    Vec<Out, V> r;
#pragma unroll
    for (int j = 0; j < V; ++j) r.v[j] = f(x.v[j], y.v[j]);
    reinterpret_cast<Vec<Out, V>*>(out)[i] = r;
  }
  for (int64_t i = nvec * V + first; i < n; i += stride) out[i] = f(a[i], b[i]);
}

// ---- strided loops ------------------------------------------------------------------------
template <class Out, class In, class F>
__global__ void map1_strided(char* out, const char* in, OffsetCalc<2> oc, int64_t n, F f) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    int64_t off[2];
    oc.get(i, off);
    *reinterpret_cast<Out*>(out + off[0]) = f(*reinterpret_cast<const In*>(in + off[1]));
  }
}

template <class Out, class In, class F>
__global__ void map2_strided(char* out, const char* a, const char* b, OffsetCalc<3> oc, int64_t n, F f) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    int64_t off[3];
    oc.get(i, off);
    *reinterpret_cast<Out*>(out + off[0]) =
        f(*reinterpret_cast<const In*>(a + off[1]), *reinterpret_cast<const In*>(b + off[2]));
  }
}

template <class T>
__global__ void where_strided(char* out, const char* cond, const char* a, const char* b, OffsetCalc<4> oc, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    int64_t off[4];
    oc.get(i, off);
    bool c = *reinterpret_cast<const uint8_t*>(cond + off[1]) != 0;
    *reinterpret_cast<T*>(out + off[0]) = c ? *reinterpret_cast<const T*>(a + off[2]) : *reinterpret_cast<const T*>(b + off[3]);
  }
}

template <class T>
__global__ void fill_strided(char* out, OffsetCalc<1> oc, int64_t n, T v) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    int64_t off[1];
    oc.get(i, off);
    *reinterpret_cast<T*>(out + off[0]) = v;
  }
}

template <class T>
__global__ void fill_affine_kernel(T* out, int64_t n, double start, double step) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = static_cast<T>(start + static_cast<double>(i) * step);
}

// ---- functors -----------------------------------------------------------------------------
template <class T>
struct UnaryFn {
  UnaryOp op;
  OpParams p;
  __device__ T operator()(T x) const { return unary_value<T>(op, x, p); }
};

template <class T, bool kCmp>
struct BinaryFn {
  BinaryOp op;
  OpParams p;
  using Out = std::conditional_t<kCmp, bool_t, T>;
  __device__ Out operator()(T a, T b) const {
    T r = binary_value<T>(op, a, b, p);
    if constexpr (kCmp) return static_cast<bool_t>(r != T(0)); else return r;
  }
};

template <class T, bool kCmp>
struct BinaryScalarFn {
  BinaryOp op;
  OpParams p;
  T s;
  bool scalar_first;
  using Out = std::conditional_t<kCmp, bool_t, T>;
  __device__ Out operator()(T x) const {
    T r = scalar_first ? binary_value<T>(op, s, x, p) : binary_value<T>(op, x, s, p);
    if constexpr (kCmp) return static_cast<bool_t>(r != T(0)); else return r;
  }
};

// float32 add/sub/mul/div compiled without the switch: the loops that set training's pace.
struct AddF32 { __device__ float operator()(float a, float b) const { return a + b; } };
struct SubF32 { __device__ float operator()(float a, float b) const { return a - b; } };
struct MulF32 { __device__ float operator()(float a, float b) const { return a * b; } };
struct DivF32 { __device__ float operator()(float a, float b) const { return a / b; } };

template <class From, class To>
struct CastFn {
  bool to_bool;
  __device__ To operator()(From v) const { return to_bool ? static_cast<To>(v != From(0)) : static_cast<To>(v); }
};


bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// ---- launchers ----------------------------------------------------------------------------
template <class Out, class In, class F>
void launch_map1(const char* op, const TensorDesc& out, const TensorDesc& in, F f) {
  int64_t n = out.numel();
  if (n == 0) return;
  const TensorDesc* descs[2] = {&out, &in};
  bool dense = false;
  OffsetCalc<2> oc = make_offset_calc<2>(descs, &dense);
  cudaStream_t s = stream();
  if (dense) {
    constexpr int V = 16 / sizeof(In) > 0 ? 16 / sizeof(In) : 1;
    bool vec = aligned16(in.data) && (reinterpret_cast<uintptr_t>(out.data) % (sizeof(Out) * V)) == 0;
    if (vec) map1_dense<V, Out, In, F><<<grid_for((n + V - 1) / V), kThreads, 0, s>>>(out.ptr<Out>(), in.ptr<In>(), n, f);
    else map1_dense<1, Out, In, F><<<grid_for(n), kThreads, 0, s>>>(out.ptr<Out>(), in.ptr<In>(), n, f);
  } else {
    map1_strided<Out, In, F><<<grid_for(n), kThreads, 0, s>>>(static_cast<char*>(out.data), static_cast<const char*>(in.data), oc, n, f);
  }
  check_launch(op);
}

template <class Out, class In, class F>
void launch_map2(const char* op, const TensorDesc& out, const TensorDesc& a, const TensorDesc& b, F f) {
  int64_t n = out.numel();
  if (n == 0) return;
  const TensorDesc* descs[3] = {&out, &a, &b};
  bool dense = false;
  OffsetCalc<3> oc = make_offset_calc<3>(descs, &dense);
  cudaStream_t s = stream();
  if (dense) {
    constexpr int V = 16 / sizeof(In) > 0 ? 16 / sizeof(In) : 1;
    bool vec = aligned16(a.data) && aligned16(b.data) && (reinterpret_cast<uintptr_t>(out.data) % (sizeof(Out) * V)) == 0;
    if (vec) map2_dense<V, Out, In, F><<<grid_for((n + V - 1) / V), kThreads, 0, s>>>(out.ptr<Out>(), a.ptr<In>(), b.ptr<In>(), n, f);
    else map2_dense<1, Out, In, F><<<grid_for(n), kThreads, 0, s>>>(out.ptr<Out>(), a.ptr<In>(), b.ptr<In>(), n, f);
  } else {
    map2_strided<Out, In, F><<<grid_for(n), kThreads, 0, s>>>(static_cast<char*>(out.data), static_cast<const char*>(a.data),
                                                             static_cast<const char*>(b.data), oc, n, f);
  }
  check_launch(op);
}

const char* unary_name(UnaryOp op) { return cpu::unary_op_names()[static_cast<int>(op)]; }
const char* binary_name(BinaryOp op) { return cpu::binary_op_names()[static_cast<int>(op)]; }

void check_binary(BinaryOp op, const TensorDesc& out, const TensorDesc& a, const TensorDesc& b) {
  const char* name = binary_name(op);
  cpu::check_elementwise_shape(name, out, a);
  cpu::check_elementwise_shape(name, out, b);
  if (a.dtype != b.dtype) fail(ErrorCode::DType, name, std::string("operands of one dtype, ") + dtype_name(a.dtype), dtype_name(b.dtype));
  DType want = cpu::binary_is_comparison(op) ? DType::Bool : a.dtype;
  if (out.dtype != want) fail(ErrorCode::DType, name, std::string("an output of dtype ") + dtype_name(want), dtype_name(out.dtype));
  if (!dtype_is_float(a.dtype) && !binary_integer_ok(op) && out.numel() > 0)
    fail(ErrorCode::DType, name, "a floating-point tensor", "an integer tensor");
}

}  // namespace

void unary(UnaryOp op, const TensorDesc& out, const TensorDesc& in, OpParams p) {
  const char* name = unary_name(op);
  cpu::check_elementwise_shape(name, out, in);
  if (op == UnaryOp::Cast) {
    // Same-dtype dense copies (contiguous(), clone(), to()) are one memcpy on the stream.
    if (out.dtype == in.dtype && out.dtype != DType::Bool && out.is_contiguous() && in.is_contiguous()) {
      copy_on_device(out.data, in.data, static_cast<size_t>(out.numel()) * dtype_size(out.dtype));
      return;
    }
    dispatch_dtype(in.dtype, [&](auto from) {
      dispatch_dtype(out.dtype, [&](auto to) {
        using From = decltype(from);
        using To = decltype(to);
        launch_map1<To, From>("cast", out, in, CastFn<From, To>{out.dtype == DType::Bool});
      });
    });
    return;
  }
  if (out.dtype != in.dtype) fail(ErrorCode::DType, name, std::string("an output of dtype ") + dtype_name(in.dtype), dtype_name(out.dtype));
  if (!dtype_is_float(in.dtype) && !unary_integer_ok(op) && in.numel() > 0)
    fail(ErrorCode::DType, name, "a floating-point tensor", "an integer tensor");
  dispatch_dtype(in.dtype, [&](auto tag) {
    using T = decltype(tag);
    launch_map1<T, T>(name, out, in, UnaryFn<T>{op, p});
  });
}

void binary(BinaryOp op, const TensorDesc& out, const TensorDesc& a, const TensorDesc& b, OpParams p) {
  check_binary(op, out, a, b);
  const char* name = binary_name(op);
  if (a.dtype == DType::Float32) {
    bool unit = p.p0 == 1.0;
    switch (op) {
      case BinaryOp::Add: if (unit) return launch_map2<float, float>(name, out, a, b, AddF32{}); break;
      case BinaryOp::Sub: if (unit) return launch_map2<float, float>(name, out, a, b, SubF32{}); break;
      case BinaryOp::Mul: return launch_map2<float, float>(name, out, a, b, MulF32{});
      case BinaryOp::Div: return launch_map2<float, float>(name, out, a, b, DivF32{});
      default: break;
    }
  }
  dispatch_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    if (cpu::binary_is_comparison(op)) launch_map2<bool_t, T>(name, out, a, b, BinaryFn<T, true>{op, p});
    else launch_map2<T, T>(name, out, a, b, BinaryFn<T, false>{op, p});
  });
}

void binary_scalar(BinaryOp op, const TensorDesc& out, const TensorDesc& t, double scalar, bool scalar_first, OpParams p) {
  check_binary(op, out, t, t);
  const char* name = binary_name(op);
  dispatch_dtype(t.dtype, [&](auto tag) {
    using T = decltype(tag);
    T s = t.dtype == DType::Bool ? static_cast<T>(scalar != 0) : static_cast<T>(scalar);
    if (cpu::binary_is_comparison(op)) launch_map1<bool_t, T>(name, out, t, BinaryScalarFn<T, true>{op, p, s, scalar_first});
    else launch_map1<T, T>(name, out, t, BinaryScalarFn<T, false>{op, p, s, scalar_first});
  });
}

void where(const TensorDesc& out, const TensorDesc& cond, const TensorDesc& a, const TensorDesc& b) {
  cpu::check_where_args(out, cond, a, b);
  int64_t n = out.numel();
  if (n == 0) return;
  const TensorDesc* descs[4] = {&out, &cond, &a, &b};
  bool dense = false;
  OffsetCalc<4> oc = make_offset_calc<4>(descs, &dense);
  dispatch_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    where_strided<T><<<grid_for(n), kThreads, 0, stream()>>>(static_cast<char*>(out.data), static_cast<const char*>(cond.data),
                                                             static_cast<const char*>(a.data), static_cast<const char*>(b.data), oc, n);
  });
  check_launch("where");
}

void fill(const TensorDesc& out, double value) {
  int64_t n = out.numel();
  if (n == 0) return;
  dispatch_dtype(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    T v = out.dtype == DType::Bool ? static_cast<T>(value != 0) : static_cast<T>(value);
    const TensorDesc* descs[1] = {&out};
    bool dense = false;
    OffsetCalc<1> oc = make_offset_calc<1>(descs, &dense);
    fill_strided<T><<<grid_for(n), kThreads, 0, stream()>>>(static_cast<char*>(out.data), oc, n, v);
    check_launch("fill");
  });
}

void fill_affine(const TensorDesc& out, double start, double step) {
  if (!out.is_contiguous()) fail(ErrorCode::Argument, "fill_affine", "a contiguous output", "a strided view");
  int64_t n = out.numel();
  if (n == 0) return;
  dispatch_dtype(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    fill_affine_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(out.ptr<T>(), n, start, step);
  });
  check_launch("fill_affine");
}

}  // namespace dendrite::cuda
