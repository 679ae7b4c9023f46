// Random geometries (groups, depthwise, pointwise, stride, padding, dilation, output sizes
// larger than the forward formula gives, as in the transposed roles) and random settings of
// the driver's constants (column budget, minimum columns, K-split and reduction chunks, 32- or
// 64-bit index math, SM count): conv2d_forward, _backward_input and _backward_weight of
// conv.cu, run on the host through emu.h, against plain loops in double. Outputs start as NaN,
// so an element a kernel never writes shows; scratch starts as NaN too.
#include "conv_emu.cc"
#include <random>

using namespace dendrite;

struct Cfg {
  int64_t N, C, H, W, K, R, S, OH, OW;
  cpu::ConvParams p;
  bool bias;
};

static TensorDesc desc(std::vector<float>& v, std::initializer_list<int64_t> shape) {
  int64_t s[4]; int i = 0;
  for (int64_t d : shape) s[i++] = d;
  TensorDesc t = contiguous_desc(v.data(), DType::Float32, s, i);
  t.device = Device::Cuda;
  return t;
}

static int fails = 0;
static void compare(const char* what, const std::vector<float>& got, const std::vector<double>& want, const Cfg& c) {
  for (size_t i = 0; i < want.size(); ++i) {
    const double a = got[i], b = want[i];
    if (!(std::fabs(a - b) <= 1e-4 * (1 + std::fabs(b)))) {
      std::printf("FAIL %s [%zu]: got %g want %g | N%ld C%ld H%ld W%ld K%ld R%ld S%ld OH%ld OW%ld s%ld,%ld p%ld,%ld d%ld,%ld g%ld bias%d | col %ld mincols %ld pwp %ld f64 %d sms %d\n",
                  what, i, a, b, c.N, c.C, c.H, c.W, c.K, c.R, c.S, c.OH, c.OW, c.p.stride_h, c.p.stride_w, c.p.pad_h,
                  c.p.pad_w, c.p.dil_h, c.p.dil_w, c.p.groups, c.bias, emu::col_elems, emu::min_cols, emu::pointwise_p,
                  emu::force64, emu::sms);
      ++fails;
      return;
    }
  }
}

static void run(const Cfg& c, std::mt19937& rng) {
  std::uniform_real_distribution<float> U(-1, 1);
  const int64_t Cg = c.C / c.p.groups, Kg = c.K / c.p.groups;
  std::vector<float> x(c.N * c.C * c.H * c.W), w(c.K * Cg * c.R * c.S), b(c.K), bi(c.C), gy(c.N * c.K * c.OH * c.OW);
  for (auto* v : {&x, &w, &b, &bi, &gy}) for (auto& e : *v) e = U(rng);
  std::vector<double> y_ref(gy.size()), gx_ref(x.size()), gw_ref(w.size());
  for (int64_t n = 0; n < c.N; ++n)
    for (int64_t k = 0; k < c.K; ++k) {
      const int64_t g = k / Kg;
      for (int64_t oh = 0; oh < c.OH; ++oh)
        for (int64_t ow = 0; ow < c.OW; ++ow) {
          const int64_t yi = ((n * c.K + k) * c.OH + oh) * c.OW + ow;
          double acc = c.bias ? b[k] : 0;
          for (int64_t cc = 0; cc < Cg; ++cc)
            for (int64_t r = 0; r < c.R; ++r)
              for (int64_t s = 0; s < c.S; ++s) {
                const int64_t ih = oh * c.p.stride_h - c.p.pad_h + r * c.p.dil_h, iw = ow * c.p.stride_w - c.p.pad_w + s * c.p.dil_w;
                if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
                const int64_t xi = ((n * c.C + g * Cg + cc) * c.H + ih) * c.W + iw, wi = ((k * Cg + cc) * c.R + r) * c.S + s;
                acc += double(x[xi]) * w[wi];
                gx_ref[xi] += double(w[wi]) * gy[yi];
                gw_ref[wi] += double(x[xi]) * gy[yi];
              }
          y_ref[yi] = acc;
        }
    }
  if (c.bias)
    for (int64_t n = 0; n < c.N; ++n)
      for (int64_t cc = 0; cc < c.C; ++cc)
        for (int64_t i = 0; i < c.H * c.W; ++i) gx_ref[(n * c.C + cc) * c.H * c.W + i] += bi[cc];
  const float nan = std::nanf("");
  std::vector<float> y(gy.size(), nan), gx(x.size(), nan), gw(w.size(), nan);
  TensorDesc xd = desc(x, {c.N, c.C, c.H, c.W}), wd = desc(w, {c.K, Cg, c.R, c.S}), bd = desc(b, {c.K}), bid = desc(bi, {c.C});
  TensorDesc yd = desc(y, {c.N, c.K, c.OH, c.OW}), gyd = desc(gy, {c.N, c.K, c.OH, c.OW}), gxd = desc(gx, {c.N, c.C, c.H, c.W}), gwd = desc(gw, {c.K, Cg, c.R, c.S});
  cuda::conv2d_forward(yd, xd, wd, c.bias ? &bd : nullptr, c.p);
  cuda::conv2d_backward_input(gxd, gyd, wd, c.bias ? &bid : nullptr, c.p);
  cuda::conv2d_backward_weight(gwd, gyd, xd, c.p);
  compare("y", y, y_ref, c);
  compare("gx", gx, gx_ref, c);
  compare("gw", gw, gw_ref, c);
  if (cuda::live_scratch != 0) { std::printf("scratch leak\n"); ++fails; }
}

int main(int argc, char** argv) {
  const int iters = argc > 1 ? std::atoi(argv[1]) : 2000;
  std::mt19937 rng(argc > 2 ? std::atoi(argv[2]) : 1);
  auto ri = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int it = 0; it < iters; ++it) {
    Cfg c{};
    const int kind = ri(0, 9);  // 0-1 pointwise, 2-3 depthwise, else general
    int64_t groups = ri(1, 3);
    int64_t Cg = ri(1, 4), Kg = ri(1, 4);
    if (kind <= 3 && kind >= 2) { Cg = 1; groups = ri(1, 5); }
    c.C = Cg * groups; c.K = Kg * groups;
    c.p.groups = groups;
    c.N = ri(1, 4);
    static const int maxhw = getenv("MAXHW") ? atoi(getenv("MAXHW")) : 14;
    c.H = ri(1, maxhw); c.W = ri(1, maxhw);
    if (kind <= 1) {
      c.R = c.S = 1; c.p.stride_h = c.p.stride_w = 1; c.p.pad_h = c.p.pad_w = 0; c.p.dil_h = ri(1, 2); c.p.dil_w = ri(1, 2);
      c.OH = c.H; c.OW = c.W;
      if (ri(0, 5) == 0) c.OH += ri(-1, 1);
    } else {
      c.R = ri(1, 5); c.S = ri(1, 5);
      c.p.stride_h = ri(1, 3); c.p.stride_w = ri(1, 3);
      c.p.pad_h = ri(0, 3); c.p.pad_w = ri(0, 3);
      c.p.dil_h = ri(1, 3); c.p.dil_w = ri(1, 3);
      c.OH = (c.H + 2 * c.p.pad_h - c.p.dil_h * (c.R - 1) - 1) / c.p.stride_h + 1;
      c.OW = (c.W + 2 * c.p.pad_w - c.p.dil_w * (c.S - 1) - 1) / c.p.stride_w + 1;
      if (ri(0, 3) == 0) { c.OH += ri(0, 2); c.OW += ri(0, 2); }  // sizes as given (transposed roles)
    }
    if (c.OH < 1 || c.OW < 1) { --it; continue; }
    c.bias = ri(0, 1);
    const int64_t cols[] = {int64_t{16} << 20, 1, 40, 300, 5000};
    emu::col_elems = cols[ri(0, 4)];
    const int64_t mins[] = {1, 3, 16, 256};
    emu::min_cols = mins[ri(0, 3)];
    const int64_t pwp[] = {2048, 1, 30};
    emu::pointwise_p = pwp[ri(0, 2)];
    emu::force64 = ri(0, 1);
    const int64_t chunks[] = {4096, 1, 7, 100};
    emu::reduce_chunk = chunks[ri(0, 3)];
    const int sms[] = {1, 3, 132};
    emu::sms = sms[ri(0, 2)];
    run(c, rng);
    if (fails > 20) break;
  }
  std::printf("done: %d failures, %ld launches, %ld gemms, %ld matmuls\n", fails, emu::launches, cuda::gemm_calls, cuda::matmul_calls);
  return fails != 0;
}
