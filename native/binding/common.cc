#include "common.h"

namespace dendrite::binding {

AddonState& state() {
  // One state per JS thread: each worker_thread loads its own instance of the addon.
  thread_local AddonState s;
  return s;
}

MetaReader::MetaReader() : data_(state().meta), len_(state().meta_len) {}

double MetaReader::next(const char* op) {
  if (pos_ >= len_) fail(ErrorCode::Argument, op, "tensor layouts in the metadata channel", "too few values");
  return data_[pos_++];
}

int64_t MetaReader::next_int(const char* op) {
  double v = next(op);
  if (!(v >= -9007199254740992.0 && v <= 9007199254740992.0) || v != static_cast<double>(static_cast<int64_t>(v)))
    fail(ErrorCode::Argument, op, "an integer layout value", std::to_string(v));
  return static_cast<int64_t>(v);
}

TensorDesc read_tensor(MetaReader& meta, const Napi::Value& buffer, const char* op) {
  TensorDesc d;
  int64_t dtype = meta.next_int(op);
  int64_t device = meta.next_int(op);
  int64_t offset = meta.next_int(op);
  int64_t ndim = meta.next_int(op);
  if (!dtype_valid(static_cast<int32_t>(dtype)) || dtype != static_cast<int32_t>(dtype))
    fail(ErrorCode::DType, op, "a known dtype code", std::to_string(dtype));
  if (ndim < 0 || ndim > kMaxDims) fail(ErrorCode::Shape, op, "at most " + std::to_string(kMaxDims) + " dims", std::to_string(ndim));
  if (offset < 0) fail(ErrorCode::Argument, op, "a non-negative storage offset", std::to_string(offset));
  if (device < 0 || device >= kNumDevices) fail(ErrorCode::Device, op, "a known device code", std::to_string(device));
  if (device != static_cast<int64_t>(Device::Cpu) && !meta.routes_cuda())
    fail(ErrorCode::Device, op, "a CPU tensor (this op has no CUDA kernel)", "a CUDA tensor");
  d.dtype = static_cast<DType>(dtype);
  d.device = static_cast<Device>(device);
  d.ndim = static_cast<int>(ndim);
  for (int i = 0; i < d.ndim; ++i) d.shape[i] = meta.next_int(op);
  for (int i = 0; i < d.ndim; ++i) d.strides[i] = meta.next_int(op);
  // Highest element reachable; overflow-safe since sizes are checked < 2^53 first.
  int64_t numel = 1, last = offset;
  for (int i = 0; i < d.ndim; ++i) {
    if (d.shape[i] < 0) fail(ErrorCode::Shape, op, "non-negative sizes", shape_str(d.shape, d.ndim));
    if (d.strides[i] < 0) fail(ErrorCode::Argument, op, "non-negative strides", std::to_string(d.strides[i]));
    if (d.shape[i] > (int64_t{1} << 48) || d.strides[i] > (int64_t{1} << 48))
      fail(ErrorCode::Shape, op, "sizes below 2^48", shape_str(d.shape, d.ndim));
    numel *= d.shape[i];
    if (numel > (int64_t{1} << 48)) fail(ErrorCode::Shape, op, "fewer than 2^48 elements", shape_str(d.shape, d.ndim));
    if (d.shape[i] > 0) last += (d.shape[i] - 1) * d.strides[i];
  }
  void* data = nullptr;
  size_t bytes = 0;
  if (d.device == Device::Cpu) {
    // One N-API call both checks the type and reads pointer and length (this is the hot path of
    // every op: each call into N-API costs tens of nanoseconds).
    if (napi_get_arraybuffer_info(buffer.Env(), buffer, &data, &bytes) != napi_ok)
      fail(ErrorCode::Argument, op, "a CPU tensor storage", "another value");
  } else {
    cuda_storage_info(buffer, op, &data, &bytes);
  }
  if (numel > 0) {
    if (data == nullptr) fail(ErrorCode::Disposed, op, "a live tensor", "a disposed tensor");
    size_t end = static_cast<size_t>(last + 1) * dtype_size(d.dtype);
    if (end > bytes) fail(ErrorCode::Index, op, "a view inside its storage of " + std::to_string(bytes) + " bytes", "one reaching byte " + std::to_string(end));
  }
  d.data = static_cast<char*>(data) + (data ? offset * static_cast<int64_t>(dtype_size(d.dtype)) : 0);
  return d;
}

const char* device_name(Device d) { return d == Device::Cuda ? "cuda" : "cpu"; }

Device common_device(const char* op, std::initializer_list<const TensorDesc*> operands) {
  const TensorDesc* first = *operands.begin();
  for (const TensorDesc* t : operands)
    if (t->device != first->device)
      fail(ErrorCode::Device, op, std::string("all tensors on one device, ") + device_name(first->device),
           std::string("tensors on ") + device_name(first->device) + " and " + device_name(t->device));
  return first->device;
}

void throw_error(Napi::Env env, ErrorCode code, const std::string& message) {
  AddonState& s = state();
  if (!s.error_class.IsEmpty()) {
    Napi::Object err = s.error_class.New({Napi::String::New(env, message), Napi::String::New(env, error_code_name(code))});
    throw Napi::Error(env, err);
  }
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, error_code_name(code)));
  throw err;
}

// The getters double as type checks: they fail on a value of the wrong type.
int32_t arg_int(const Napi::CallbackInfo& info, size_t i, const char* op) {
  int32_t v = 0;
  if (i >= info.Length() || napi_get_value_int32(info.Env(), info[i], &v) != napi_ok)
    fail(ErrorCode::Argument, op, "a number argument at position " + std::to_string(i), "another value");
  return v;
}

double arg_double(const Napi::CallbackInfo& info, size_t i, const char* op) {
  double v = 0;
  if (i >= info.Length() || napi_get_value_double(info.Env(), info[i], &v) != napi_ok)
    fail(ErrorCode::Argument, op, "a number argument at position " + std::to_string(i), "another value");
  return v;
}

bool arg_bool(const Napi::CallbackInfo& info, size_t i, const char* op) {
  bool v = false;
  if (i >= info.Length() || napi_get_value_bool(info.Env(), info[i], &v) != napi_ok)
    fail(ErrorCode::Argument, op, "a boolean argument at position " + std::to_string(i), "another value");
  return v;
}

}  // namespace dendrite::binding
