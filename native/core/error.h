// dendrite::Error: the only way kernels and bindings report bad input. The binding layer
// turns it into a JS DendriteError carrying the same code.
#pragma once
#include <stdexcept>
#include <string>
#include <sstream>
#include <vector>
#include <cstdint>

namespace dendrite {

enum class ErrorCode {
  Shape, DType, Device, Index, Argument, Disposed, Format, OutOfMemory, CudaOom, NotImplemented, Internal
};

inline const char* error_code_name(ErrorCode c) {
  switch (c) {
    case ErrorCode::Shape: return "ERR_SHAPE";
    case ErrorCode::DType: return "ERR_DTYPE";
    case ErrorCode::Device: return "ERR_DEVICE";
    case ErrorCode::Index: return "ERR_INDEX";
    case ErrorCode::Argument: return "ERR_ARGUMENT";
    case ErrorCode::Disposed: return "ERR_DISPOSED";
    case ErrorCode::Format: return "ERR_FORMAT";
    case ErrorCode::OutOfMemory: return "ERR_OUT_OF_MEMORY";
    case ErrorCode::CudaOom: return "ERR_CUDA_OOM";
    case ErrorCode::NotImplemented: return "ERR_NOT_IMPLEMENTED";
    case ErrorCode::Internal: return "ERR_INTERNAL";
  }
  return "ERR_INTERNAL";
}

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

// The one message builder: "<op>: expected <expected>, got <got>".
[[noreturn]] inline void fail(ErrorCode code, const std::string& op, const std::string& expected,
                              const std::string& got) {
  throw Error(code, op + ": expected " + expected + ", got " + got);
}

inline std::string shape_str(const int64_t* shape, int ndim) {
  std::ostringstream s;
  s << '[';
  for (int i = 0; i < ndim; ++i) s << (i ? ", " : "") << shape[i];
  s << ']';
  return s.str();
}

}  // namespace dendrite
