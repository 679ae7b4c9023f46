// N-API glue shared by every binding file: the metadata channel, descriptor unwrapping with
// bounds checks, and the conversion of dendrite::Error into a JS DendriteError. No math here.
//
// Calling convention: before a native call, the TS layer writes each tensor operand's layout
// into a shared Float64Array, in argument order, as
//   [dtype, device, offset (elements), ndim, shape[0..ndim), strides[0..ndim) (elements)]
// and passes the operands' storages as ordinary arguments: an ArrayBuffer on the CPU, the
// handle cudaAlloc returned on CUDA. Reading a layout checks dtype, device, rank, non-negative
// sizes, that the storage is one of that device, and that every reachable element lies inside it.
#pragma once
#include <napi.h>
#include <cstdint>
#include <initializer_list>
#include <string>
#include "../core/error.h"
#include "../core/tensor.h"

namespace dendrite::binding {

struct AddonState {
  Napi::FunctionReference error_class;
  Napi::Reference<Napi::Float64Array> meta_ref;
  const double* meta = nullptr;
  size_t meta_len = 0;
};
AddonState& state();

// Marks a binding whose every tensor operand may live on CUDA (it routes them to native/cuda).
// Any other binding refuses CUDA storages with ERR_DEVICE, so a kernel family without a CUDA
// implementation can never be handed a device pointer.
struct RoutesCuda {};
inline constexpr RoutesCuda kRoutesCuda{};

class MetaReader {
 public:
  MetaReader();
  explicit MetaReader(RoutesCuda) : MetaReader() { routes_cuda_ = true; }
  bool routes_cuda() const { return routes_cuda_; }
  double next(const char* op);
  int64_t next_int(const char* op);

 private:
  const double* data_;
  size_t len_, pos_ = 0;
  bool routes_cuda_ = false;
};

// The next tensor layout from the channel, over the storage `buffer` (an ArrayBuffer on the CPU,
// a CUDA storage handle on CUDA).
TensorDesc read_tensor(MetaReader& meta, const Napi::Value& buffer, const char* op);

// The device every operand sits on; operands on different devices throw ERR_DEVICE naming both.
Device common_device(const char* op, std::initializer_list<const TensorDesc*> operands);
const char* device_name(Device d);

// Routes a call to the CUDA kernels. In a build without CUDA no CUDA tensor can be read, so the
// branch is unreachable there, but it still has to compile.
#ifdef DENDRITE_WITH_CUDA
#define DENDRITE_ON_CUDA(call) call
#else
#define DENDRITE_ON_CUDA(call) fail(ErrorCode::Device, "dispatch", "a build with the CUDA backend", "a CUDA tensor")
#endif

[[noreturn]] void throw_error(Napi::Env env, ErrorCode code, const std::string& message);

// Runs body, turning dendrite::Error (and allocation failure) into a thrown DendriteError.
template <class Body>
Napi::Value guarded(const Napi::CallbackInfo& info, Body body) {
  try {
    return body();
  } catch (const Error& e) {
    throw_error(info.Env(), e.code(), e.what());
  } catch (const std::bad_alloc&) {
    throw_error(info.Env(), ErrorCode::OutOfMemory, "out of memory");
  }
}

int32_t arg_int(const Napi::CallbackInfo& info, size_t i, const char* op);
double arg_double(const Napi::CallbackInfo& info, size_t i, const char* op);
bool arg_bool(const Napi::CallbackInfo& info, size_t i, const char* op);

// One registration function per binding file (called from addon.cc).
void init_core(Napi::Env env, Napi::Object exports);
void init_elementwise(Napi::Env env, Napi::Object exports);
void init_reduce(Napi::Env env, Napi::Object exports);
void init_gemm(Napi::Env env, Napi::Object exports);
void init_index(Napi::Env env, Napi::Object exports);
void init_optim(Napi::Env env, Napi::Object exports);
void init_loss(Napi::Env env, Napi::Object exports);
void init_roi(Napi::Env env, Napi::Object exports);
void init_conv(Napi::Env env, Napi::Object exports);
void init_pool(Napi::Env env, Napi::Object exports);
void init_norm(Napi::Env env, Napi::Object exports);
void init_rnn(Napi::Env env, Napi::Object exports);
void init_cuda(Napi::Env env, Napi::Object exports);

// Pointer and byte length of a CUDA storage handle (binding/cuda.cc); throws ERR_DEVICE in a
// build without CUDA and ERR_ARGUMENT for anything that is not such a handle.
void cuda_storage_info(const Napi::Value& buffer, const char* op, void** data, size_t* bytes);

}  // namespace dendrite::binding
