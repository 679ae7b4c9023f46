// Element types and the one place that maps a runtime dtype to a C++ type.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dendrite {

// Values match lib/dtype.ts (DTYPE_CODES); they cross the N-API boundary as ints.
enum class DType : int32_t { Float32 = 0, Float64 = 1, Int32 = 2, Int64 = 3, UInt8 = 4, Bool = 5 };
constexpr int kNumDTypes = 6;

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int32: return 4;
    case DType::Int64: return 8;
    case DType::UInt8: return 1;
    case DType::Bool: return 1;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::UInt8: return "uint8";
    case DType::Bool: return "bool";
  }
  return "unknown";
}

inline bool dtype_valid(int32_t code) { return code >= 0 && code < kNumDTypes; }
inline bool dtype_is_float(DType t) { return t == DType::Float32 || t == DType::Float64; }

// bool is stored as one byte holding 0 or 1.
using bool_t = uint8_t;

// Calls f(T{}) with T the C++ type of `t`. Every kernel that is generic over dtype goes through here.
template <class F>
decltype(auto) dispatch_dtype(DType t, F&& f) {
  switch (t) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    case DType::Int32: return f(int32_t{});
    case DType::Int64: return f(int64_t{});
    case DType::UInt8: return f(uint8_t{});
    case DType::Bool: return f(bool_t{});
  }
  return f(float{});
}

}  // namespace dendrite
