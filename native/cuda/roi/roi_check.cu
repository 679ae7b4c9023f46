// The roi family's data-dependent checks on the device (see roi_math.cuh): a kernel records the
// lowest offending box (or argmax position) with atomicMin, the host reads the verdicts back and,
// only when something is wrong, fetches that box to say what the CPU would say.
#include "roi_math.cuh"

namespace dendrite::cuda::roi_detail {
namespace {

enum Verdict : int { kBadBox = 0, kBadGrid = 1, kBadArgmax = 2, kVerdicts = 3 };
constexpr unsigned long long kNone = ~0ull;

template <class T>
__global__ void validate_boxes(const T* rois, int64_t k, int64_t batch, bool check_grid, T scale, T offset, bool aligned,
                               int64_t pooled_h, int64_t pooled_w, unsigned long long* verdict) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < k; i += stride) {
    const T* r = rois + 5 * i;
    const double b = static_cast<double>(r[0]);
    bool bad = !(b >= 0 && b < static_cast<double>(batch)) || b != floor(b);
    for (int j = 1; j < 5; ++j) bad = bad || !isfinite(static_cast<double>(r[j]));
    if (bad) {
      atomicMin(verdict + kBadBox, static_cast<unsigned long long>(i));
      continue;
    }
    if (check_grid) {
      const double gh = adaptive_grid(align_extent(r[2], r[4], scale, offset, aligned), pooled_h);
      const double gw = adaptive_grid(align_extent(r[1], r[3], scale, offset, aligned), pooled_w);
      constexpr double limit = static_cast<double>(cpu::kMaxRoiAlignGrid);
      if (!(gh <= limit) || !(gw <= limit)) atomicMin(verdict + kBadGrid, static_cast<unsigned long long>(i));
    }
  }
}

__global__ void validate_argmax(const int32_t* argmax, int64_t n, int64_t plane, unsigned long long* verdict) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const int64_t a = argmax[i];
    if (a < -1 || a >= plane) atomicMin(verdict + kBadArgmax, static_cast<unsigned long long>(i));
  }
}

template <class T>
void fetch_box(const TensorDesc& rois, int64_t i, T* v) {
  copy_to_host(v, rois.ptr<T>() + 5 * i, 5 * sizeof(T));
}

template <class T>
[[noreturn]] void throw_box(const char* op, const TensorDesc& rois, int64_t i, int64_t batch) {
  T r[5];
  fetch_box<T>(rois, i, r);
  const double b = static_cast<double>(r[0]);
  if (!(b >= 0 && b < static_cast<double>(batch)) || b != std::floor(b))
    fail(ErrorCode::Index, op, "batch indices (boxes[:, 0]) that are integers in [0, " + std::to_string(batch) + ")",
         "box " + std::to_string(i) + " with batch index " + std::to_string(b));
  fail(ErrorCode::Argument, op, "finite box coordinates", "box " + std::to_string(i) + " with a non-finite coordinate");
}

template <class T>
[[noreturn]] void throw_grid(const TensorDesc& rois, int64_t i, const cpu::RoiAlignParams& p) {
  T r[5];
  fetch_box<T>(rois, i, r);
  const T scale = static_cast<T>(p.spatial_scale), offset = p.aligned ? T(0.5) : T(0);
  double g = adaptive_grid(align_extent(r[2], r[4], scale, offset, p.aligned), p.pooled_h);
  if (g <= static_cast<double>(cpu::kMaxRoiAlignGrid)) g = adaptive_grid(align_extent(r[1], r[3], scale, offset, p.aligned), p.pooled_w);
  fail(ErrorCode::Argument, "roiAlign",
       "an adaptive sampling grid of at most " + std::to_string(cpu::kMaxRoiAlignGrid) +
           " samples per bin side (pass samplingRatio, or a smaller box)",
       "box " + std::to_string(i) + " asking for " + std::to_string(g));
}

}  // namespace

void check_boxes_on_device(const char* op, const TensorDesc& rois, int64_t batch, const cpu::RoiAlignParams* grid,
                           const TensorDesc* argmax, int64_t plane) {
  const int64_t k = rois.shape[0];
  const int64_t n_arg = argmax ? argmax->numel() : 0;
  if (k == 0 && n_arg == 0) return;
  cudaStream_t s = stream();
  Scratch flags(kVerdicts * sizeof(unsigned long long));
  check(cudaMemsetAsync(flags.ptr, 0xff, flags.bytes, s), op);  // every verdict kNone
  auto* verdict = flags.as<unsigned long long>();
  const bool is_double = rois.dtype == DType::Float64;
  if (k > 0) {
    const bool check_grid = grid != nullptr && grid->sampling_ratio <= 0;
    const int64_t ph = grid ? grid->pooled_h : 1, pw = grid ? grid->pooled_w : 1;
    const bool aligned = grid && grid->aligned;
    const double scale = grid ? grid->spatial_scale : 1.0, offset = aligned ? 0.5 : 0.0;
    if (is_double)
      validate_boxes<double><<<grid_for(k), kThreads, 0, s>>>(rois.ptr<double>(), k, batch, check_grid, scale, offset, aligned, ph, pw,
                                                             verdict);
    else
      validate_boxes<float><<<grid_for(k), kThreads, 0, s>>>(rois.ptr<float>(), k, batch, check_grid, static_cast<float>(scale),
                                                            static_cast<float>(offset), aligned, ph, pw, verdict);
    check_launch(op);
  }
  if (n_arg > 0) {
    validate_argmax<<<grid_for(n_arg), kThreads, 0, s>>>(argmax->ptr<int32_t>(), n_arg, plane, verdict);
    check_launch(op);
  }
  unsigned long long host[kVerdicts];
  copy_to_host(host, flags.ptr, sizeof(host));
  if (host[kBadBox] != kNone) {
    const auto i = static_cast<int64_t>(host[kBadBox]);
    if (is_double) throw_box<double>(op, rois, i, batch);
    throw_box<float>(op, rois, i, batch);
  }
  if (host[kBadGrid] != kNone) {
    const auto i = static_cast<int64_t>(host[kBadGrid]);
    if (is_double) throw_grid<double>(rois, i, *grid);
    throw_grid<float>(rois, i, *grid);
  }
  if (host[kBadArgmax] != kNone) {
    int32_t v = 0;
    copy_to_host(&v, argmax->ptr<int32_t>() + host[kBadArgmax], sizeof(v));
    fail(ErrorCode::Index, op, "argmax values in [-1, " + std::to_string(plane) + ")", std::to_string(v));
  }
}

}  // namespace dendrite::cuda::roi_detail
