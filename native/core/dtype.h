// Element types and the one place that maps a runtime dtype to a C++ type.
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

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

// Float -> integer conversion with every input defined: in range, truncation toward zero;
// NaN, +-Inf and out-of-range values give the x86 "integer indefinite" (the minimum of the
// 32- or 64-bit intermediate), which is what PyTorch produces on x86; narrower targets (uint8)
// then wrap modulo 2^8, as PyTorch's conversion through int does. A plain static_cast would be
// undefined behaviour for those inputs.
template <class To, class From>
To float_to_int(From v) {
  using Wide = std::conditional_t<sizeof(To) == 8, int64_t, int32_t>;
  constexpr double lo = static_cast<double>(std::numeric_limits<Wide>::min());
  const double d = static_cast<double>(v);
  Wide w = (d >= lo && d < -lo) ? static_cast<Wide>(d) : std::numeric_limits<Wide>::min();
  return static_cast<To>(w);
}

// A double (a JS number) as a value of T: bool is v != 0, integers follow float_to_int.
template <class T>
T from_double(double v, bool is_bool) {
  if (is_bool) return static_cast<T>(v != 0);
  if constexpr (std::is_integral_v<T>) return float_to_int<T>(v);
  else return static_cast<T>(v);
}

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
