// N-API side of the CUDA device: storage handles, memory statistics, copies between devices
// (synchronous, and the asynchronous copy back behind `await t.data()`), and the raw SGEMM entry.
// Compiled in every build; without DENDRITE_WITH_CUDA each entry says there is no CUDA backend.
//
// A CUDA storage is a plain JS object wrapping a CudaBlock (device pointer + byte length),
// type-tagged so no other wrapped object passes for one. dispose() returns the block to the
// caching allocator at once and leaves the handle empty (a later read is ERR_DISPOSED); the GC
// finalizer returns whatever was not disposed.
#include <algorithm>
#include <cstring>
#include <string>
#include "common.h"
#include "sgemm_args.h"
#ifdef DENDRITE_WITH_CUDA
#include "../cuda/cuda.h"
#endif

namespace dendrite::binding {
namespace {

#ifdef DENDRITE_WITH_CUDA

struct CudaBlock {
  void* data;
  size_t bytes;
};

const napi_type_tag kCudaStorageTag = {0x64656e6472697465ULL, 0x6375646173746f72ULL};

void release_block(Napi::Env env, CudaBlock* b) {
  if (!b->data) return;
  cuda::release(b->data, b->bytes);
  b->data = nullptr;
  Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(b->bytes));
}

CudaBlock* unwrap_block(const Napi::Value& v, const char* op) {
  napi_env env = v.Env();
  bool tagged = false;
  if (!v.IsObject() || napi_check_object_type_tag(env, v, &kCudaStorageTag, &tagged) != napi_ok || !tagged)
    fail(ErrorCode::Argument, op, "a CUDA tensor storage", "another value");
  void* p = nullptr;
  if (napi_unwrap(env, v, &p) != napi_ok || !p) fail(ErrorCode::Argument, op, "a CUDA tensor storage", "another value");
  return static_cast<CudaBlock*>(p);
}

Napi::Value CudaAlloc(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    double req = arg_double(info, 0, "cudaAlloc");
    if (!(req >= 0) || req > 1.0e15) fail(ErrorCode::CudaOom, "cudaAlloc", "a byte size in [0, 1e15]", std::to_string(req));
    size_t bytes = static_cast<size_t>(req);
    Napi::Env env = info.Env();
    auto* block = new CudaBlock{nullptr, bytes};
    try {
      block->data = cuda::allocate(bytes);
    } catch (...) {
      delete block;
      throw;
    }
    Napi::Object handle = Napi::Object::New(env);
    napi_status st = napi_wrap(env, handle, block, [](napi_env e, void* data, void*) {
      auto* b = static_cast<CudaBlock*>(data);
      release_block(Napi::Env(e), b);
      delete b;
    }, nullptr, nullptr);
    if (st != napi_ok) {
      cuda::release(block->data, bytes);
      delete block;
      fail(ErrorCode::Internal, "cudaAlloc", "a storage handle", "napi_wrap failure");
    }
    napi_type_tag_object(env, handle, &kCudaStorageTag);
    Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(bytes));
    return handle;
  });
}

Napi::Value CudaFree(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 1) fail(ErrorCode::Argument, "cudaFree", "a CUDA tensor storage", "nothing");
    release_block(info.Env(), unwrap_block(info[0], "cudaFree"));
    return info.Env().Undefined();
  });
}

Napi::Value CudaMemory(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    cuda::MemoryStats m = cuda::memory_stats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("allocated", Napi::Number::New(env, static_cast<double>(m.allocated)));
    o.Set("reserved", Napi::Number::New(env, static_cast<double>(m.reserved)));
    o.Set("peak", Napi::Number::New(env, static_cast<double>(m.peak)));
    o.Set("liveBlocks", Napi::Number::New(env, static_cast<double>(m.live_blocks)));
    o.Set("cudaMallocs", Napi::Number::New(env, static_cast<double>(m.cuda_mallocs)));
    return o;
  });
}

Napi::Value CudaEmptyCache(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    cuda::empty_cache();
    return info.Env().Undefined();
  });
}

Napi::Value CudaSynchronize(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    cuda::synchronize();
    return info.Env().Undefined();
  });
}

// Two contiguous layouts of one dtype and element count; returns the byte count.
size_t check_copy(const TensorDesc& out, const TensorDesc& in, const char* op) {
  if (out.dtype != in.dtype) fail(ErrorCode::DType, op, std::string("one dtype, ") + dtype_name(out.dtype), dtype_name(in.dtype));
  if (out.numel() != in.numel()) fail(ErrorCode::Shape, op, std::to_string(out.numel()) + " elements", std::to_string(in.numel()));
  if (!out.is_contiguous() || !in.is_contiguous()) fail(ErrorCode::Argument, op, "contiguous tensors", "a strided view");
  return static_cast<size_t>(out.numel()) * dtype_size(out.dtype);
}

// transfer(out, in): copies a contiguous tensor to another (or the same) device.
Napi::Value Transfer(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    MetaReader meta(kRoutesCuda);
    TensorDesc out = read_tensor(meta, info[0], "to");
    TensorDesc in = read_tensor(meta, info[1], "to");
    size_t bytes = check_copy(out, in, "to");
    if (out.device == Device::Cuda && in.device == Device::Cpu) cuda::copy_to_device(out.data, in.data, bytes);
    else if (out.device == Device::Cpu && in.device == Device::Cuda) cuda::copy_to_host(out.data, in.data, bytes);
    else if (out.device == Device::Cuda) cuda::copy_on_device(out.data, in.data, bytes);
    else if (bytes) std::memcpy(out.data, in.data, bytes);
    return info.Env().Undefined();
  });
}

// Finishes a copy queued by copy_to_host_begin off the JS thread, then settles the promise.
class CopyBackWorker : public Napi::AsyncWorker {
 public:
  CopyBackWorker(Napi::Env env, cuda::PendingCopy* copy, void* dst, Napi::Value dst_buffer)
      : Napi::AsyncWorker(env, "dendrite.dataCopy"), deferred_(Napi::Promise::Deferred::New(env)), copy_(copy), dst_(dst) {
    dst_ref_ = Napi::Persistent(dst_buffer.As<Napi::Object>());
  }
  ~CopyBackWorker() override { cuda::copy_to_host_end(copy_); }
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      cuda::copy_to_host_wait(copy_, dst_);
    } catch (const Error& e) {
      code_ = e.code();
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override {
    Napi::Env env = Env();
    AddonState& s = state();
    std::string message = e.Message();
    if (!s.error_class.IsEmpty())
      deferred_.Reject(s.error_class.New({Napi::String::New(env, message), Napi::String::New(env, error_code_name(code_))}));
    else
      deferred_.Reject(Napi::Error::New(env, message).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  cuda::PendingCopy* copy_;
  void* dst_;
  Napi::ObjectReference dst_ref_;
  ErrorCode code_ = ErrorCode::Device;
};

// copyToHostAsync(out (cpu), in (cuda)) -> Promise<void>: queues the copy on the stream now (so
// it sees every kernel queued before it), waits for it on a worker thread.
Napi::Value CopyToHostAsync(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    MetaReader meta(kRoutesCuda);
    TensorDesc out = read_tensor(meta, info[0], "data");
    TensorDesc in = read_tensor(meta, info[1], "data");
    size_t bytes = check_copy(out, in, "data");
    if (out.device != Device::Cpu || in.device != Device::Cuda)
      fail(ErrorCode::Device, "data", "a copy from cuda to cpu", std::string(device_name(in.device)) + " to " + device_name(out.device));
    cuda::PendingCopy* copy = cuda::copy_to_host_begin(in.data, bytes);
    auto* worker = new CopyBackWorker(info.Env(), copy, out.data, info[0]);
    Napi::Promise p = worker->promise();
    worker->Queue();
    return p;
  });
}

// Elements a rows x cols row-major matrix with leading dimension ld reaches; validates ld.
float* device_floats(const Napi::CallbackInfo& info, size_t i, int64_t need, const char* what) {
  if (i >= info.Length()) fail(ErrorCode::Argument, "cuda.sgemm", std::string("a CUDA storage ") + what, "nothing");
  CudaBlock* b = unwrap_block(info[i], "cuda.sgemm");
  if (need > 0 && !b->data) fail(ErrorCode::Disposed, "cuda.sgemm", "a live tensor", "a disposed tensor");
  if (static_cast<size_t>(need) * sizeof(float) > b->bytes)
    fail(ErrorCode::Index, "cuda.sgemm", std::string(what) + " of at least " + std::to_string(need) + " floats",
         std::to_string(b->bytes / sizeof(float)));
  return static_cast<float*>(b->data);
}

// cudaSgemm(transA, transB, M, N, K, alpha, beta, lda, ldb, ldc, A, B, C, biasKind?, act?, bias?):
// the dt.linalg.sgemm contract on CUDA storages (float32, row-major, in place on C).
Napi::Value CudaSgemm(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const SgemmCall c = read_sgemm_call(info, "cuda.sgemm", [&](size_t i, int64_t need, const char* what) { return device_floats(info, i, need, what); });
    cuda::sgemm_ex(c.ta, c.tb, c.M, c.N, c.K, c.alpha, c.A, c.lda, c.B, c.ldb, c.beta, c.C, c.ldc, c.ep);
    return info.Env().Undefined();
  });
}

// cudaSgemmStats(): { splitK, smCount } (cuda::sgemm_stats).
Napi::Value CudaSgemmStats(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    cuda::SgemmStats st = cuda::sgemm_stats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("splitK", Napi::Number::New(env, static_cast<double>(st.split_k_calls)));
    o.Set("smCount", Napi::Number::New(env, st.sm_count));
    return o;
  });
}

Napi::Value CudaInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("compiled", Napi::Boolean::New(env, true));
  o.Set("deviceCount", Napi::Number::New(env, cuda::device_count()));
  o.Set("reason", Napi::String::New(env, cuda::unavailable_reason()));
  o.Set("deviceName", Napi::String::New(env, cuda::device_name()));
  return o;
}

#else  // a build without the CUDA backend

[[noreturn]] void no_cuda(const char* op) {
  fail(ErrorCode::Device, op, "a build with the CUDA backend (dt.cuda.isAvailable() is false)", "a CPU-only build");
}

Napi::Value NoCuda(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value { no_cuda("cuda"); });
}

Napi::Value Transfer(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    MetaReader meta(kRoutesCuda);
    TensorDesc out = read_tensor(meta, info[0], "to");
    TensorDesc in = read_tensor(meta, info[1], "to");
    if (out.dtype != in.dtype || out.numel() != in.numel() || !out.is_contiguous() || !in.is_contiguous())
      fail(ErrorCode::Argument, "to", "contiguous tensors of one dtype and size", "a mismatch");
    size_t bytes = static_cast<size_t>(out.numel()) * dtype_size(out.dtype);
    if (bytes) std::memcpy(out.data, in.data, bytes);
    return info.Env().Undefined();
  });
}

Napi::Value CudaInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("compiled", Napi::Boolean::New(env, false));
  o.Set("deviceCount", Napi::Number::New(env, 0));
  o.Set("reason", Napi::String::New(env, "this build of dendrite has no CUDA backend (rebuild with npm run build:cuda)"));
  o.Set("deviceName", Napi::String::New(env, ""));
  return o;
}

#endif

}  // namespace

#ifdef DENDRITE_WITH_CUDA
void cuda_storage_info(const Napi::Value& buffer, const char* op, void** data, size_t* bytes) {
  CudaBlock* b = unwrap_block(buffer, op);
  *data = b->data;
  *bytes = b->data ? b->bytes : 0;
}
#else
void cuda_storage_info(const Napi::Value&, const char* op, void**, size_t*) {
  fail(ErrorCode::Device, op, "a CPU tensor (this build has no CUDA backend)", "a CUDA tensor");
}
#endif

void init_cuda(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaInfo", Napi::Function::New(env, CudaInfo, "cudaInfo"));
  exports.Set("transfer", Napi::Function::New(env, Transfer, "transfer"));
#ifdef DENDRITE_WITH_CUDA
  exports.Set("cudaAlloc", Napi::Function::New(env, CudaAlloc, "cudaAlloc"));
  exports.Set("cudaFree", Napi::Function::New(env, CudaFree, "cudaFree"));
  exports.Set("cudaMemory", Napi::Function::New(env, CudaMemory, "cudaMemory"));
  exports.Set("cudaEmptyCache", Napi::Function::New(env, CudaEmptyCache, "cudaEmptyCache"));
  exports.Set("cudaSynchronize", Napi::Function::New(env, CudaSynchronize, "cudaSynchronize"));
  exports.Set("copyToHostAsync", Napi::Function::New(env, CopyToHostAsync, "copyToHostAsync"));
  exports.Set("cudaSgemm", Napi::Function::New(env, CudaSgemm, "cudaSgemm"));
  exports.Set("cudaSgemmStats", Napi::Function::New(env, CudaSgemmStats, "cudaSgemmStats"));
#else
  for (const char* name : {"cudaAlloc", "cudaFree", "cudaMemory", "cudaEmptyCache", "cudaSynchronize", "copyToHostAsync", "cudaSgemm",
                           "cudaSgemmStats"})
    exports.Set(name, Napi::Function::New(env, NoCuda, name));
#endif
}

}  // namespace dendrite::binding
