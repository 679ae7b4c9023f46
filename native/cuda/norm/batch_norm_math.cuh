// The per-channel arithmetic of the CUDA batch norm as __host__ __device__ functions, so it can be
// checked against native/cpu/norm on a machine without a GPU.
#pragma once
#include <cmath>
#include <cstdint>

#ifdef __CUDACC__
#define DENDRITE_BN_HD __host__ __device__ __forceinline__
#else
#define DENDRITE_BN_HD inline
#endif

namespace dendrite::cuda::bn_math {

// Count, mean and sum of squared deviations of the values seen (Welford 1962).
struct Welford {
  double n, mean, m2;
};

DENDRITE_BN_HD void welford_push(Welford& a, double v) {
  a.n += 1;
  const double d = v - a.mean;
  a.mean += d / a.n;
  a.m2 += d * (v - a.mean);
}

// Chan, Golub & LeVeque (1979): the accumulator of both sets.
DENDRITE_BN_HD Welford welford_merge(const Welford& a, const Welford& b) {
  if (b.n == 0) return a;
  if (a.n == 0) return b;
  const double n = a.n + b.n, d = b.mean - a.mean, fb = b.n / n;
  return {n, a.mean + d * fb, a.m2 + b.m2 + d * d * a.n * fb};
}

// Per-channel results of the forward: what the CPU stores and the float scale / shift of
// y = x * scale + shift.
template <class T>
struct ForwardChannel {
  T save_mean, save_invstd, scale, shift;
};

// training: from the channel's accumulator (count M), updating *rm / *rv when given; eval: from
// the running statistics. The same double arithmetic as cpu::batch_norm_forward.
template <class T>
DENDRITE_BN_HD ForwardChannel<T> forward_channel(const Welford& stats, double M, bool training, double momentum, double eps,
                                                 const T* w, const T* b, T* rm, T* rv) {
  double mean, invstd;
  if (training) {
    mean = stats.mean;
    invstd = 1.0 / sqrt(stats.m2 / M + eps);
    if (rm) {
      *rm = static_cast<T>((1 - momentum) * static_cast<double>(*rm) + momentum * mean);
      *rv = static_cast<T>((1 - momentum) * static_cast<double>(*rv) + momentum * (stats.m2 / (M - 1)));
    }
  } else {
    mean = static_cast<double>(*rm);
    invstd = 1.0 / sqrt(static_cast<double>(*rv) + eps);
  }
  const double scale = invstd * (w ? static_cast<double>(*w) : 1.0);
  const double shift = (b ? static_cast<double>(*b) : 0.0) - mean * scale;
  return {static_cast<T>(mean), static_cast<T>(invstd), static_cast<T>(scale), static_cast<T>(shift)};
}

// Coefficients of gx = (gy - mdy - (x - mean) * k) * a from the channel's sums of gy and of
// gy * (x - mean) (cpu::batch_norm_backward).
template <class T>
struct BackwardChannel {
  T mdy, k, a;
};

template <class T>
DENDRITE_BN_HD BackwardChannel<T> backward_channel(double sum_dy, double sum_dy_xmu, double M, bool training, T invstd_t, const T* w) {
  const double invstd = static_cast<double>(invstd_t);
  const double a = invstd * (w ? static_cast<double>(*w) : 1.0);
  const double k = training ? invstd * invstd * sum_dy_xmu / M : 0.0;
  const double mdy = training ? sum_dy / M : 0.0;
  return {static_cast<T>(mdy), static_cast<T>(k), static_cast<T>(a)};
}

}  // namespace dendrite::cuda::bn_math
