// Storage, memory accounting, CPU path and threads, fill and random: the N-API side of core.
#include <cstdlib>
#include <vector>
#include "../core/allocator.h"
#include "../core/cpu_features.h"
#include "../core/thread_pool.h"
#include "../cpu/fill/fill.h"
#include "../cpu/random/random.h"
#include "common.h"
#ifdef DENDRITE_WITH_CUDA
#include "../cuda/cuda.h"
#endif

namespace dendrite::binding {
namespace {

// Storage is an external ArrayBuffer over 64-byte-aligned native memory. dispose() frees the
// memory at once and detaches the buffer (JS views of it become empty, never dangling); the
// GC finalizer frees whatever was not disposed. The control block tells the two apart.
struct StorageBlock {
  void* data;
  size_t bytes;
  bool freed;
};
// The control block pointer sits in the 64 bytes just before the data.
constexpr size_t kHeader = kAlignment;

void release_block(Napi::Env env, StorageBlock* block) {
  if (block->freed) return;
  block->freed = true;
  release(static_cast<char*>(block->data) - kHeader, block->bytes, Device::Cpu, kHeader);
  Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(block->bytes));
}

Napi::Value Alloc(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    double req = arg_double(info, 0, "alloc");
    if (!(req >= 0) || req > 1.0e15) fail(ErrorCode::OutOfMemory, "alloc", "a byte size in [0, 1e15]", std::to_string(req));
    size_t bytes = static_cast<size_t>(req);
    char* base = static_cast<char*>(allocate(bytes, Device::Cpu, kHeader));
    auto* block = new StorageBlock{base + kHeader, bytes, false};
    *reinterpret_cast<StorageBlock**>(base) = block;
    Napi::Env env = info.Env();
    Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(bytes));
    return Napi::ArrayBuffer::New(env, block->data, bytes, [](Napi::Env e, void*, StorageBlock* b) {
      release_block(e, b);
      delete b;
    }, block);
  });
}

// Frees a storage now. Idempotent: a detached buffer has no data and is left alone.
Napi::Value Free(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsArrayBuffer()) fail(ErrorCode::Argument, "free", "a storage", "another value");
    Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
    void* data = ab.Data();
    if (data == nullptr || ab.IsDetached()) return info.Env().Undefined();
    StorageBlock* block = *reinterpret_cast<StorageBlock**>(static_cast<char*>(data) - kHeader);
    release_block(info.Env(), block);
    ab.Detach();
    return info.Env().Undefined();
  });
}

Napi::Value SetMeta(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
      fail(ErrorCode::Argument, "setMeta", "a Float64Array", "another value");
    Napi::Float64Array arr = info[0].As<Napi::Float64Array>();
    AddonState& s = state();
    s.meta_ref = Napi::Persistent(arr);
    s.meta = arr.Data();
    s.meta_len = arr.ElementLength();
    return info.Env().Undefined();
  });
}

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsFunction()) throw Napi::TypeError::New(info.Env(), "setErrorClass: expected a constructor");
  state().error_class = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

Napi::Value MemoryStatsJs(const Napi::CallbackInfo& info) {
  MemoryStats m = memory_stats(Device::Cpu);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("liveBytes", Napi::Number::New(info.Env(), static_cast<double>(m.live_bytes)));
  o.Set("liveAllocations", Napi::Number::New(info.Env(), static_cast<double>(m.live_allocations)));
  o.Set("peakBytes", Napi::Number::New(info.Env(), static_cast<double>(m.peak_bytes)));
  o.Set("totalAllocations", Napi::Number::New(info.Env(), static_cast<double>(m.total_allocations)));
  return o;
}

Napi::Value CpuInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const CpuFeatures& f = cpu_features();
  Napi::Object o = Napi::Object::New(env);
  o.Set("path", Napi::String::New(env, isa_name(active_isa())));
  Napi::Array paths = Napi::Array::New(env);
  uint32_t k = 0;
  for (int i = 0; i < kNumIsa; ++i)
    if (isa_supported(static_cast<Isa>(i))) paths.Set(k++, Napi::String::New(env, isa_name(static_cast<Isa>(i))));
  o.Set("supportedPaths", paths);
  Napi::Object feats = Napi::Object::New(env);
  feats.Set("avx2", f.avx2); feats.Set("fma", f.fma); feats.Set("avx512f", f.avx512f);
  feats.Set("avx512bw", f.avx512bw); feats.Set("avx512dq", f.avx512dq); feats.Set("avx512vl", f.avx512vl);
  feats.Set("neon", f.neon);
  o.Set("features", feats);
  o.Set("numThreads", Napi::Number::New(env, num_threads()));
  o.Set("physicalCores", Napi::Number::New(env, physical_cores()));
  return o;
}

Napi::Value SetCpuPath(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsString()) fail(ErrorCode::Argument, "setCpuPath", "a path name", "another value");
    std::string name = info[0].As<Napi::String>().Utf8Value();
    for (int i = 0; i < kNumIsa; ++i) {
      if (name == isa_name(static_cast<Isa>(i))) {
        set_active_isa(static_cast<Isa>(i));
        return info.Env().Undefined();
      }
    }
    fail(ErrorCode::Argument, "setCpuPath", "scalar, avx2, avx512 or neon", name);
  });
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int n = arg_int(info, 0, "setNumThreads");
    if (n < 1 || n > 1024) fail(ErrorCode::Argument, "setNumThreads", "1..1024 threads", std::to_string(n));
    set_num_threads(n);
    return info.Env().Undefined();
  });
}

// fill(value, out)
Napi::Value Fill(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    MetaReader meta(kRoutesCuda);
    double v = arg_double(info, 0, "fill");
    TensorDesc out = read_tensor(meta, info[1], "fill");
    if (out.device == Device::Cuda) DENDRITE_ON_CUDA(cuda::fill(out, v));
    else cpu::fill(out, v);
    return info.Env().Undefined();
  });
}

// fillAffine(start, step, out)
Napi::Value FillAffine(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    MetaReader meta(kRoutesCuda);
    double start = arg_double(info, 0, "fillAffine"), step = arg_double(info, 1, "fillAffine");
    TensorDesc out = read_tensor(meta, info[2], "fillAffine");
    if (out.device == Device::Cuda) DENDRITE_ON_CUDA(cuda::fill_affine(out, start, step));
    else cpu::fill_affine(out, start, step);
    return info.Env().Undefined();
  });
}

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    // The seed arrives as two 32-bit halves so every uint64 seed is representable.
    double hi = arg_double(info, 0, "manualSeed"), lo = arg_double(info, 1, "manualSeed");
    cpu::manual_seed((static_cast<uint64_t>(hi) << 32) | static_cast<uint64_t>(lo));
    return info.Env().Undefined();
  });
}

// getRngState() -> [seedHi, seedLo, counterHi, counterLo]; setRngState(the same four). 32-bit
// halves, so every uint64 state round-trips through JS numbers. A Generator object swaps its own
// state in around a draw and the global one back afterwards.
Napi::Value GetRngState(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    uint64_t seed = 0, counter = 0;
    cpu::get_rng_state(&seed, &counter);
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env, 4);
    out.Set(0u, Napi::Number::New(env, static_cast<double>(seed >> 32)));
    out.Set(1u, Napi::Number::New(env, static_cast<double>(seed & 0xffffffffu)));
    out.Set(2u, Napi::Number::New(env, static_cast<double>(counter >> 32)));
    out.Set(3u, Napi::Number::New(env, static_cast<double>(counter & 0xffffffffu)));
    return out;
  });
}

Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    uint64_t half[4];
    for (int i = 0; i < 4; ++i) {
      double v = arg_double(info, i, "setRngState");
      if (!(v >= 0 && v <= 4294967295.0) || v != static_cast<double>(static_cast<uint64_t>(v)))
        fail(ErrorCode::Argument, "setRngState", "32-bit unsigned halves", std::to_string(v));
      half[i] = static_cast<uint64_t>(v);
    }
    cpu::set_rng_state((half[0] << 32) | half[1], (half[2] << 32) | half[3]);
    return info.Env().Undefined();
  });
}

#ifdef DENDRITE_WITH_CUDA
// The CUDA draw takes its counters from the one generator, so it continues the CPU's stream.
// The permutation is a sequential shuffle: drawn on the host, then copied over.
void random_on_cuda(int kind, double a, double b, const TensorDesc& out) {
  const char* names[] = {"rand", "randn", "randint", "bernoulli", "randperm"};
  if (!out.is_contiguous()) fail(ErrorCode::Argument, names[kind], "a contiguous output", "a strided view");
  int64_t n = out.numel();
  if (kind == 4) {
    if (out.dtype != DType::Int64) fail(ErrorCode::DType, "randperm", "int64", dtype_name(out.dtype));
    std::vector<int64_t> host(static_cast<size_t>(n));
    TensorDesc h = out;
    h.data = host.data();
    h.device = Device::Cpu;
    cpu::random_permutation(h);
    cuda::copy_to_device(out.data, host.data(), host.size() * sizeof(int64_t));
    cuda::synchronize();  // the host vector dies here
    return;
  }
  if (kind == 0 || kind == 1) {
    if (!dtype_is_float(out.dtype)) fail(ErrorCode::DType, names[kind], "float32 or float64", dtype_name(out.dtype));
  }
  if (kind == 2 && b <= a) fail(ErrorCode::Argument, "randint", "low < high", std::to_string(a) + " >= " + std::to_string(b));
  uint64_t seed = 0;
  uint64_t first = cpu::reserve_random(static_cast<uint64_t>((n + 3) / 4), &seed);
  switch (kind) {
    case 0: cuda::random_uniform(out, a, b, seed, first); break;
    case 1: cuda::random_normal(out, a, b, seed, first); break;
    case 2: cuda::random_int(out, static_cast<int64_t>(a), static_cast<int64_t>(b), seed, first); break;
    default: cuda::random_bernoulli(out, a, seed, first); break;
  }
}
#endif

// random(kind, a, b, out): kind 0 uniform [a, b), 1 normal(a, b), 2 int [a, b), 3 bernoulli(a), 4 permutation
Napi::Value Random(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    MetaReader meta(kRoutesCuda);
    int kind = arg_int(info, 0, "random");
    double a = arg_double(info, 1, "random"), b = arg_double(info, 2, "random");
    TensorDesc out = read_tensor(meta, info[3], "random");
    if (kind < 0 || kind > 4) fail(ErrorCode::Argument, "random", "a kind in 0..4", std::to_string(kind));
    if (out.device == Device::Cuda) {
      DENDRITE_ON_CUDA(random_on_cuda(kind, a, b, out));
      return info.Env().Undefined();
    }
    switch (kind) {
      case 0: cpu::random_uniform(out, a, b); break;
      case 1: cpu::random_normal(out, a, b); break;
      case 2: cpu::random_int(out, static_cast<int64_t>(a), static_cast<int64_t>(b)); break;
      case 3: cpu::random_bernoulli(out, a); break;
      case 4: cpu::random_permutation(out); break;
      default: fail(ErrorCode::Argument, "random", "a kind in 0..4", std::to_string(kind));
    }
    return info.Env().Undefined();
  });
}

}  // namespace

void init_core(Napi::Env env, Napi::Object exports) {
  exports.Set("alloc", Napi::Function::New(env, Alloc, "alloc"));
  exports.Set("free", Napi::Function::New(env, Free, "free"));
  exports.Set("setMeta", Napi::Function::New(env, SetMeta, "setMeta"));
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass, "setErrorClass"));
  exports.Set("memoryStats", Napi::Function::New(env, MemoryStatsJs, "memoryStats"));
  exports.Set("cpuInfo", Napi::Function::New(env, CpuInfo, "cpuInfo"));
  exports.Set("setCpuPath", Napi::Function::New(env, SetCpuPath, "setCpuPath"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("fill", Napi::Function::New(env, Fill, "fill"));
  exports.Set("fillAffine", Napi::Function::New(env, FillAffine, "fillAffine"));
  exports.Set("manualSeed", Napi::Function::New(env, ManualSeed, "manualSeed"));
  exports.Set("random", Napi::Function::New(env, Random, "random"));
  exports.Set("getRngState", Napi::Function::New(env, GetRngState, "getRngState"));
  exports.Set("setRngState", Napi::Function::New(env, SetRngState, "setRngState"));
}

}  // namespace dendrite::binding
