#include "fill.h"
#include "../../core/iterator.h"

namespace dendrite::cpu {

void fill(const TensorDesc& out, double value) {
  const TensorDesc* descs[1] = {&out};
  StridedOperands it(descs, 1);
  dispatch_dtype(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    T v = from_double<T>(value, out.dtype == DType::Bool);
    it.run([v](char* const* p, const int64_t* s, int64_t n) {
      if (s[0] == sizeof(T)) {
        T* o = reinterpret_cast<T*>(p[0]);
        for (int64_t i = 0; i < n; ++i) o[i] = v;
      } else {
        for (int64_t i = 0; i < n; ++i) *reinterpret_cast<T*>(p[0] + i * s[0]) = v;
      }
    });
  });
}

void fill_affine(const TensorDesc& out, double start, double step) {
  if (!out.is_contiguous()) fail(ErrorCode::Argument, "fill_affine", "a contiguous output", "a strided view");
  int64_t n = out.numel();
  dispatch_dtype(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* o = out.ptr<T>();
    parallel_for(0, n, kElementwiseGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) o[i] = from_double<T>(start + static_cast<double>(i) * step, false);
    });
  });
}

}  // namespace dendrite::cpu
