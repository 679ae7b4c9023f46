// The Philox4x32-10 draws of native/cpu/random/random.cc on the GPU: element i of a draw reads
// lane i % 4 of the block at counter first + i / 4 (and, where the CPU does, its neighbour lane),
// with the same conversions to floats and integers, so manualSeed(s) gives the same numbers on
// both devices. One thread per block of four.
#include <cmath>
#include <string>
#include "../core/cuda_utils.cuh"

namespace dendrite::cuda {
namespace {

struct Philox {
  uint32_t c[4];
};

__device__ __forceinline__ Philox philox(uint64_t key, uint64_t counter) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
#pragma unroll
  for (int r = 0; r < 10; ++r) {
    uint32_t hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
    uint32_t hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
    uint32_t n0 = hi1 ^ c1 ^ k0;
    uint32_t n1 = lo1;
    uint32_t n2 = hi0 ^ c3 ^ k1;
    uint32_t n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {{c0, c1, c2, c3}};
}

__device__ __forceinline__ double u01_53(uint32_t a, uint32_t b) {
  return static_cast<double>((static_cast<uint64_t>(a) << 21) ^ (b >> 11)) * (1.0 / 9007199254740992.0);
}
__device__ __forceinline__ float u01_24(uint32_t a) { return static_cast<float>(a >> 8) * (1.0f / 16777216.0f); }

enum class Kind { Uniform, Normal, Int, Bernoulli };

struct DrawParams {
  double a, b;          // uniform [a, b) / normal (mean a, std b) / bernoulli p = a
  int64_t lo;           // int: lo + [0, range)
  uint64_t range;
};

template <class T, Kind K>
__global__ void draw_kernel(T* out, int64_t n, uint64_t seed, uint64_t first, DrawParams p) {
  const int64_t blocks = (n + 3) / 4;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t blk = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; blk < blocks; blk += stride) {
    Philox r = philox(seed, first + static_cast<uint64_t>(blk));
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int64_t i = blk * 4 + j;
      if (i >= n) break;
      if constexpr (K == Kind::Uniform) {
        if constexpr (std::is_same_v<T, float>) {
          out[i] = static_cast<float>(p.a) + static_cast<float>(p.b - p.a) * u01_24(r.c[j]);
        } else {
          out[i] = static_cast<T>(p.a + (p.b - p.a) * u01_53(r.c[j], r.c[j ^ 1]));
        }
      } else if constexpr (K == Kind::Normal) {
        // Box-Muller on lanes (0, 1) and (2, 3), in double as on the CPU.
        const int pair = j & ~1;
        double u1 = (static_cast<double>(r.c[pair]) + 1.0) * (1.0 / 4294967296.0);
        double u2 = static_cast<double>(r.c[pair + 1]) * (1.0 / 4294967296.0);
        double radius = sqrt(-2.0 * log(u1));
        double angle = 6.283185307179586 * u2;
        double z = (j & 1) ? radius * sin(angle) : radius * cos(angle);
        out[i] = static_cast<T>(p.a + p.b * z);
      } else if constexpr (K == Kind::Int) {
        uint64_t bits = (static_cast<uint64_t>(r.c[j]) << 32) | r.c[j ^ 1];
        uint64_t v = __umul64hi(bits, p.range);
        out[i] = static_cast<T>(p.lo + static_cast<int64_t>(v));
      } else {
        out[i] = static_cast<T>(u01_53(r.c[j], r.c[j ^ 1]) < p.a);
      }
    }
  }
}

void require_contiguous(const char* op, const TensorDesc& out) {
  if (!out.is_contiguous()) fail(ErrorCode::Argument, op, "a contiguous output", "a strided view");
}

template <Kind K>
void launch(const char* op, const TensorDesc& out, uint64_t seed, uint64_t first, DrawParams p) {
  int64_t n = out.numel();
  if (n == 0) return;
  int64_t blocks = (n + 3) / 4;
  dispatch_dtype(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (K == Kind::Uniform || K == Kind::Normal) {
      if constexpr (std::is_floating_point_v<T>) draw_kernel<T, K><<<grid_for(blocks), kThreads, 0, stream()>>>(out.ptr<T>(), n, seed, first, p);
    } else {
      draw_kernel<T, K><<<grid_for(blocks), kThreads, 0, stream()>>>(out.ptr<T>(), n, seed, first, p);
    }
  });
  check_launch(op);
}

}  // namespace

void random_uniform(const TensorDesc& out, double lo, double hi, uint64_t seed, uint64_t first) {
  require_contiguous("rand", out);
  if (!dtype_is_float(out.dtype)) fail(ErrorCode::DType, "rand", "float32 or float64", dtype_name(out.dtype));
  launch<Kind::Uniform>("rand", out, seed, first, DrawParams{lo, hi, 0, 0});
}

void random_normal(const TensorDesc& out, double mean, double std, uint64_t seed, uint64_t first) {
  require_contiguous("randn", out);
  if (!dtype_is_float(out.dtype)) fail(ErrorCode::DType, "randn", "float32 or float64", dtype_name(out.dtype));
  launch<Kind::Normal>("randn", out, seed, first, DrawParams{mean, std, 0, 0});
}

void random_int(const TensorDesc& out, int64_t lo, int64_t hi, uint64_t seed, uint64_t first) {
  require_contiguous("randint", out);
  if (hi <= lo) fail(ErrorCode::Argument, "randint", "low < high", std::to_string(lo) + " >= " + std::to_string(hi));
  launch<Kind::Int>("randint", out, seed, first, DrawParams{0, 0, lo, static_cast<uint64_t>(hi - lo)});
}

void random_bernoulli(const TensorDesc& out, double p, uint64_t seed, uint64_t first) {
  require_contiguous("bernoulli", out);
  launch<Kind::Bernoulli>("bernoulli", out, seed, first, DrawParams{p, 0, 0, 0});
}

}  // namespace dendrite::cuda
