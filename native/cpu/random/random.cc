#include "random.h"
#include <cmath>
#include <mutex>
#include "../../core/iterator.h"

namespace dendrite::cpu {
namespace {

struct Philox {
  uint32_t c[4];
};

// Philox4x32-10: 10 rounds of the multiply-xor round function on a 128-bit counter.
inline Philox philox(uint64_t key, uint64_t counter) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int r = 0; r < 10; ++r) {
    uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
    uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
    uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    uint32_t n1 = static_cast<uint32_t>(p1);
    uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    uint32_t n3 = static_cast<uint32_t>(p0);
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {{c0, c1, c2, c3}};
}

struct Generator {
  std::mutex mutex;
  uint64_t seed = 0x5eed5eedULL;
  uint64_t counter = 0;
  // Reserves `blocks` counters for one draw and returns the first.
  uint64_t reserve(uint64_t blocks) {
    std::lock_guard<std::mutex> lock(mutex);
    uint64_t first = counter;
    counter += blocks;
    return first;
  }
};

Generator& gen() {
  static Generator g;
  return g;
}

inline double u01_53(uint32_t a, uint32_t b) {  // [0, 1) with 53 random bits
  return static_cast<double>((static_cast<uint64_t>(a) << 21) ^ (b >> 11)) * (1.0 / 9007199254740992.0);
}
inline float u01_24(uint32_t a) { return static_cast<float>(a >> 8) * (1.0f / 16777216.0f); }

void require_contiguous(const char* op, const TensorDesc& out) {
  if (!out.is_contiguous()) fail(ErrorCode::Argument, op, "a contiguous output", "a strided view");
}

// Runs f(i, block) for every element i, where block is the Philox output of counter first + i / 4.
template <class F>
void for_each_draw(int64_t n, uint64_t first, F f) {
  int64_t blocks = (n + 3) / 4;
  parallel_for(0, blocks, 4096, [&](int64_t lo, int64_t hi) {
    for (int64_t blk = lo; blk < hi; ++blk) {
      Philox r = philox(gen().seed, first + static_cast<uint64_t>(blk));
      for (int j = 0; j < 4 && blk * 4 + j < n; ++j) f(blk * 4 + j, r, j);
    }
  });
}

}  // namespace

void manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(gen().mutex);
  gen().seed = seed;
  gen().counter = 0;
}
uint64_t initial_seed() { return gen().seed; }
void get_rng_state(uint64_t* seed, uint64_t* counter) {
  std::lock_guard<std::mutex> lock(gen().mutex);
  *seed = gen().seed;
  *counter = gen().counter;
}
void set_rng_state(uint64_t seed, uint64_t counter) {
  std::lock_guard<std::mutex> lock(gen().mutex);
  gen().seed = seed;
  gen().counter = counter;
}

uint64_t reserve_random(uint64_t blocks, uint64_t* seed) {
  std::lock_guard<std::mutex> lock(gen().mutex);
  *seed = gen().seed;
  uint64_t first = gen().counter;
  gen().counter += blocks;
  return first;
}

void random_uniform(const TensorDesc& out, double lo, double hi) {
  require_contiguous("rand", out);
  int64_t n = out.numel();
  uint64_t first = gen().reserve((n + 3) / 4);
  double span = hi - lo;
  switch (out.dtype) {
    case DType::Float32: {
      float* o = out.ptr<float>();
      float flo = static_cast<float>(lo), fspan = static_cast<float>(span);
      for_each_draw(n, first, [&](int64_t i, const Philox& r, int j) { o[i] = flo + fspan * u01_24(r.c[j]); });
      break;
    }
    case DType::Float64: {
      double* o = out.ptr<double>();
      for_each_draw(n, first, [&](int64_t i, const Philox& r, int j) { o[i] = lo + span * u01_53(r.c[j], r.c[j ^ 1]); });
      break;
    }
    default: fail(ErrorCode::DType, "rand", "float32 or float64", dtype_name(out.dtype));
  }
}

void random_normal(const TensorDesc& out, double mean, double std) {
  require_contiguous("randn", out);
  if (!dtype_is_float(out.dtype)) fail(ErrorCode::DType, "randn", "float32 or float64", dtype_name(out.dtype));
  int64_t n = out.numel();
  uint64_t first = gen().reserve((n + 3) / 4);
  // Box-Muller on pairs of lanes: lanes (0,1) and (2,3) of each block give two normals each.
  for_each_draw(n, first, [&](int64_t i, const Philox& r, int j) {
    int pair = j & ~1;
    double u1 = (static_cast<double>(r.c[pair]) + 1.0) * (1.0 / 4294967296.0);  // (0, 1]
    double u2 = static_cast<double>(r.c[pair + 1]) * (1.0 / 4294967296.0);
    double radius = std::sqrt(-2.0 * std::log(u1));
    double angle = 6.283185307179586 * u2;
    double z = (j & 1) ? radius * std::sin(angle) : radius * std::cos(angle);
    double v = mean + std * z;
    if (out.dtype == DType::Float32) out.ptr<float>()[i] = static_cast<float>(v);
    else out.ptr<double>()[i] = v;
  });
}

void random_int(const TensorDesc& out, int64_t lo, int64_t hi) {
  require_contiguous("randint", out);
  if (hi <= lo) fail(ErrorCode::Argument, "randint", "low < high", std::to_string(lo) + " >= " + std::to_string(hi));
  int64_t n = out.numel();
  uint64_t range = static_cast<uint64_t>(hi - lo);
  uint64_t first = gen().reserve((n + 3) / 4);
  dispatch_dtype(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* o = out.ptr<T>();
    for_each_draw(n, first, [&](int64_t i, const Philox& r, int j) {
      // 64 random bits from this lane and its neighbour; multiply-shift maps them onto the range
      // with bias below 2^-32 for any range that fits in 32 bits.
      uint64_t bits = (static_cast<uint64_t>(r.c[j]) << 32) | r.c[j ^ 1];
      uint64_t v = static_cast<uint64_t>((static_cast<unsigned __int128>(bits) * range) >> 64);
      o[i] = static_cast<T>(lo + static_cast<int64_t>(v));
    });
  });
}

void random_bernoulli(const TensorDesc& out, double p) {
  require_contiguous("bernoulli", out);
  int64_t n = out.numel();
  uint64_t first = gen().reserve((n + 3) / 4);
  dispatch_dtype(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* o = out.ptr<T>();
    for_each_draw(n, first, [&](int64_t i, const Philox& r, int j) { o[i] = static_cast<T>(u01_53(r.c[j], r.c[j ^ 1]) < p); });
  });
}

void random_permutation(const TensorDesc& out) {
  require_contiguous("randperm", out);
  if (out.dtype != DType::Int64) fail(ErrorCode::DType, "randperm", "int64", dtype_name(out.dtype));
  int64_t n = out.numel();
  int64_t* o = out.ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) o[i] = i;
  uint64_t first = gen().reserve(static_cast<uint64_t>(n));
  for (int64_t i = n - 1; i > 0; --i) {
    Philox r = philox(gen().seed, first + static_cast<uint64_t>(i));
    uint64_t bits = (static_cast<uint64_t>(r.c[0]) << 32) | r.c[1];
    int64_t j = static_cast<int64_t>((static_cast<unsigned __int128>(bits) * static_cast<uint64_t>(i + 1)) >> 64);
    std::swap(o[i], o[j]);
  }
}

}  // namespace dendrite::cpu
