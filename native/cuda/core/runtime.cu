// Devices, the per-device stream, the caching allocator, copies and the asynchronous copy back.
// The CUDA runtime is linked statically and loads the driver on first use, so all of this works
// (and says there is no device) on a machine without a GPU or a driver.
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>
#include "cuda_utils.cuh"

namespace dendrite::cuda {
namespace {

constexpr int kMaxDevices = 64;

struct DeviceProbe {
  int count = 0;
  std::string reason;
  std::string name;  // of device 0
};

const DeviceProbe& probe() {
  static const DeviceProbe p = [] {
    DeviceProbe r;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
      cudaGetLastError();  // not sticky, but leave nothing behind
      if (e == cudaErrorNoDevice) r.reason = "no CUDA-capable device is present";
      else if (e == cudaErrorInsufficientDriver) r.reason = "no NVIDIA driver is loaded (or it is older than the CUDA runtime)";
      else r.reason = std::string("the CUDA runtime reports ") + cudaGetErrorName(e) + ": " + cudaGetErrorString(e);
      return r;
    }
    r.count = n;
    if (n == 0) r.reason = "no CUDA-capable device is present";
    cudaDeviceProp prop;
    if (n > 0 && cudaGetDeviceProperties(&prop, 0) == cudaSuccess) r.name = prop.name;
    cudaGetLastError();
    return r;
  }();
  return p;
}

struct DeviceState {
  std::once_flag once;
  cudaStream_t stream = nullptr;
  int sms = 1;
};
DeviceState& device_state(int d) {
  static DeviceState states[kMaxDevices];
  return states[d];
}

// ---- the caching allocator -----------------------------------------------------------------
constexpr size_t kSmallLimit = size_t{1} << 20;
constexpr size_t kSmallRound = 512;
constexpr size_t kLargeRound = size_t{2} << 20;

size_t bucket_of(size_t bytes) {
  if (bytes == 0) bytes = 1;
  size_t round = bytes < kSmallLimit ? kSmallRound : kLargeRound;
  return (bytes + round - 1) / round * round;
}

struct Allocator {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void*>> free_lists;  // bucket size -> cached blocks
  int64_t allocated = 0, reserved = 0, peak = 0, live = 0, mallocs = 0;

  // cudaFree synchronises the device, so no queued kernel still uses a block it frees.
  void free_cached_locked() {
    for (auto& [size, list] : free_lists) {
      for (void* p : list) {
        cudaFree(p);
        reserved -= static_cast<int64_t>(size);
      }
    }
    free_lists.clear();
    cudaGetLastError();
  }
};
// Never destroyed: storage finalizers may still return blocks while the process exits.
Allocator& allocator() {
  static Allocator* a = new Allocator;
  return *a;
}

// Pinned staging memory for asynchronous copies back, cached the same way (cudaMallocHost is slow).
struct PinnedCache {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void*>> free_lists;
  size_t cached = 0;
};
PinnedCache& pinned() {
  static PinnedCache* c = new PinnedCache;
  return *c;
}
constexpr size_t kPinnedCacheLimit = size_t{256} << 20;

}  // namespace

[[noreturn]] void throw_cuda(cudaError_t e, const char* what) {
  cudaGetLastError();
  std::string got = std::string(cudaGetErrorName(e)) + " (" + cudaGetErrorString(e) + ")";
  if (e == cudaErrorMemoryAllocation) fail(ErrorCode::CudaOom, what, "device memory", got);
  fail(ErrorCode::Device, what, "a successful CUDA call", got);
}

int device_count() { return probe().count; }

const char* unavailable_reason() { return probe().reason.c_str(); }

const char* device_name() { return probe().name.c_str(); }

void require_device(const char* op) {
  if (probe().count == 0)
    fail(ErrorCode::Device, op, "a CUDA device (dt.cuda.isAvailable() is false)", std::string(probe().reason));
}

int current_device() {
  require_device("cuda");
  int d = 0;
  check(cudaGetDevice(&d), "cudaGetDevice");
  return d;
}

cudaStream_t stream() {
  // One device for now (dendrite never switches it): the first answer is kept, so a launch does
  // not pay for cudaGetDevice.
  static thread_local cudaStream_t cached = nullptr;
  if (cached) return cached;
  int d = current_device();
  if (d < 0 || d >= kMaxDevices) fail(ErrorCode::Device, "cuda", "a device index below 64", std::to_string(d));
  DeviceState& s = device_state(d);
  std::call_once(s.once, [&] {
    // A non-blocking stream: no implicit synchronisation with the legacy default stream, so
    // every copy below goes through this stream explicitly.
    check(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking), "cudaStreamCreate");
    check(cudaDeviceGetAttribute(&s.sms, cudaDevAttrMultiProcessorCount, d), "cudaDeviceGetAttribute");
  });
  if (!s.stream) fail(ErrorCode::Device, "cuda", "a stream for device " + std::to_string(d), "none");
  cached = s.stream;
  return s.stream;
}

int sm_count() {
  static thread_local int cached = 0;
  if (cached) return cached;
  stream();
  cached = device_state(current_device()).sms;
  return cached;
}

void synchronize() {
  require_device("cuda.synchronize");
  check(cudaStreamSynchronize(stream()), "cuda.synchronize");
}

void* allocate(size_t bytes) {
  require_device("cuda alloc");
  size_t size = bucket_of(bytes);
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  void* p = nullptr;
  auto it = a.free_lists.find(size);
  if (it != a.free_lists.end() && !it->second.empty()) {
    p = it->second.back();
    it->second.pop_back();
  } else {
    cudaError_t e = cudaMalloc(&p, size);
    if (e == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      a.free_cached_locked();
      e = cudaMalloc(&p, size);
    }
    if (e != cudaSuccess) {
      cudaGetLastError();
      std::string stats = "allocated " + std::to_string(a.allocated) + " B, reserved " + std::to_string(a.reserved) + " B";
      if (e == cudaErrorMemoryAllocation)
        fail(ErrorCode::CudaOom, "cuda alloc", "device memory for " + std::to_string(bytes) + " bytes (" + stats + ")",
             "out of memory after emptying the cache");
      throw_cuda(e, "cudaMalloc");
    }
    a.reserved += static_cast<int64_t>(size);
    ++a.mallocs;
  }
  a.allocated += static_cast<int64_t>(size);
  ++a.live;
  if (a.allocated > a.peak) a.peak = a.allocated;
#ifdef DENDRITE_CUDA_EMU
  dendrite_emu::on_cache_acquire(p, bytes, size);  // garbage-filled like fresh memory
#endif
  return p;
}

void release(void* ptr, size_t bytes) {
  if (!ptr) return;
  size_t size = bucket_of(bytes);
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
#ifdef DENDRITE_CUDA_EMU
  dendrite_emu::on_cache_release(ptr, size);  // unaddressable until handed out again (ASan)
#endif
  a.free_lists[size].push_back(ptr);
  a.allocated -= static_cast<int64_t>(size);
  --a.live;
}

MemoryStats memory_stats() {
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  return {a.allocated, a.reserved, a.peak, a.live, a.mallocs};
}

void empty_cache() {
  if (probe().count == 0) return;
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  a.free_cached_locked();
}

void copy_to_device(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  // From pageable memory this returns once the source has been staged, so it may be reused.
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream()), "copy to cuda");
}

void copy_to_host(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  cudaStream_t s = stream();
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s), "copy to cpu");
  check(cudaStreamSynchronize(s), "copy to cpu");
}

void copy_on_device(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream()), "copy on cuda");
}

struct PendingCopy {
  void* staging = nullptr;
  size_t bucket = 0;
  size_t bytes = 0;
  cudaEvent_t done = nullptr;
};

PendingCopy* copy_to_host_begin(const void* src, size_t bytes) {
  auto* c = new PendingCopy;
  c->bytes = bytes;
  if (bytes == 0) return c;
  try {
    c->bucket = bucket_of(bytes);
    {
      PinnedCache& pc = pinned();
      std::lock_guard<std::mutex> lock(pc.mutex);
      auto it = pc.free_lists.find(c->bucket);
      if (it != pc.free_lists.end() && !it->second.empty()) {
        c->staging = it->second.back();
        it->second.pop_back();
        pc.cached -= c->bucket;
      }
    }
    if (!c->staging) check(cudaMallocHost(&c->staging, c->bucket), "data() staging memory");
    cudaStream_t s = stream();
    check(cudaMemcpyAsync(c->staging, src, bytes, cudaMemcpyDeviceToHost, s), "data()");
    check(cudaEventCreateWithFlags(&c->done, cudaEventDisableTiming), "data()");
    check(cudaEventRecord(c->done, s), "data()");
  } catch (...) {
    copy_to_host_end(c);
    throw;
  }
  return c;
}

void copy_to_host_wait(PendingCopy* c, void* dst) {
  if (c->bytes == 0) return;
  check(cudaEventSynchronize(c->done), "data()");
  std::memcpy(dst, c->staging, c->bytes);
}

void copy_to_host_end(PendingCopy* c) {
  if (c->done) cudaEventDestroy(c->done);
  if (c->staging) {
    PinnedCache& pc = pinned();
    std::lock_guard<std::mutex> lock(pc.mutex);
    if (pc.cached + c->bucket <= kPinnedCacheLimit) {
      pc.free_lists[c->bucket].push_back(c->staging);
      pc.cached += c->bucket;
    } else {
      cudaFreeHost(c->staging);
    }
  }
  delete c;
}

}  // namespace dendrite::cuda
