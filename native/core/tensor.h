// TensorDesc: what every kernel receives. A plain view (pointer, shape, strides in elements,
// dtype, device) with no ownership and no knowledge of N-API or JS.
#pragma once
#include <cstdint>
#include "dtype.h"
#include "error.h"

namespace dendrite {

constexpr int kMaxDims = 16;

enum class Device : int32_t { Cpu = 0, Cuda = 1 };
constexpr int kNumDevices = 2;

struct TensorDesc {
  void* data = nullptr;  // points at element 0 of the view (storage base + offset)
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};  // in elements, never negative
  DType dtype = DType::Float32;
  Device device = Device::Cpu;

  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < ndim; ++i) n *= shape[i];
    return n;
  }
  bool is_contiguous() const {
    int64_t expected = 1;
    for (int i = ndim - 1; i >= 0; --i) {
      if (shape[i] != 1 && strides[i] != expected) return false;
      expected *= shape[i];
    }
    return true;
  }
  template <class T> T* ptr() const { return static_cast<T*>(data); }
};

// A contiguous descriptor over `data` with the given shape.
inline TensorDesc contiguous_desc(void* data, DType dtype, const int64_t* shape, int ndim) {
  TensorDesc d;
  d.data = data;
  d.ndim = ndim;
  d.dtype = dtype;
  int64_t s = 1;
  for (int i = ndim - 1; i >= 0; --i) {
    d.shape[i] = shape[i];
    d.strides[i] = s;
    s *= shape[i];
  }
  return d;
}

}  // namespace dendrite
