// The CUDA emulator's stand-in for <cuda_runtime.h>: what native/cuda/**/*.cu use of the CUDA
// runtime API and of the device language, implemented for the host C++ compiler, so the same
// kernel sources run on the CPU (`npm run build:cuda-emu`; see docs/architecture.md, "CUDA
// emulator"). It is on the include path only in the emulated build, ahead of any real CUDA
// include directory.
//
// The model: a launch runs the grid block by block on the calling thread; inside a block every
// CUDA thread is a fiber with its own stack, so __syncthreads() is a real barrier (every fiber
// runs until it reaches it or ends, then all go on), and warp shuffles / ballots / __syncwarp are
// barriers among the fibers of a warp that exchange values. __shared__ variables are statics:
// one object per kernel instantiation, shared by the block's fibers (blocks run one at a time).
// Device memory is host memory the emulator tracks, filled with 0xff bytes (NaN, -1) when handed
// out, so reads of memory no kernel wrote show.
//
// Scripts/cuda-emu-translate.cjs turns `k<<<grid, block, smem, stream>>>(args)` into
// ::dendrite_emu::launch(...) and marks __shared__ declarations (see that file).
#pragma once
#ifndef DENDRITE_CUDA_EMU
#define DENDRITE_CUDA_EMU 1
#endif

#include <math.h>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

// ---- qualifiers ------------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __constant__
#define __managed__
#define __forceinline__ inline
// (__noinline__ is left alone: libstdc++ spells __attribute__((__noinline__)).)
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __grid_constant__
// One object per kernel instantiation, shared by the fibers of the block being run.
#define __shared__ static
// (__restrict__ is a g++ keyword already.)
#define CUDART_VERSION 13000
#define __CUDART_API_VERSION 13000

// ---- vector types ------------------------------------------------------------------------------
#define DENDRITE_EMU_VEC(T, name, a1, a2, a3, a4)                                                        \
  struct __attribute__((aligned(a1))) name##1 { T x; };                                                 \
  struct __attribute__((aligned(a2))) name##2 { T x, y; };                                              \
  struct __attribute__((aligned(a3))) name##3 { T x, y, z; };                                           \
  struct __attribute__((aligned(a4))) name##4 { T x, y, z, w; };                                        \
  inline name##1 make_##name##1(T x) { return name##1{x}; }                                             \
  inline name##2 make_##name##2(T x, T y) { return name##2{x, y}; }                                     \
  inline name##3 make_##name##3(T x, T y, T z) { return name##3{x, y, z}; }                             \
  inline name##4 make_##name##4(T x, T y, T z, T w) { return name##4{x, y, z, w}; }
DENDRITE_EMU_VEC(signed char, char, 1, 2, 1, 4)
DENDRITE_EMU_VEC(unsigned char, uchar, 1, 2, 1, 4)
DENDRITE_EMU_VEC(short, short, 2, 4, 2, 8)
DENDRITE_EMU_VEC(unsigned short, ushort, 2, 4, 2, 8)
DENDRITE_EMU_VEC(int, int, 4, 8, 4, 16)
DENDRITE_EMU_VEC(unsigned int, uint, 4, 8, 4, 16)
DENDRITE_EMU_VEC(long long, longlong, 8, 16, 8, 16)
DENDRITE_EMU_VEC(unsigned long long, ulonglong, 8, 16, 8, 16)
DENDRITE_EMU_VEC(float, float, 4, 8, 4, 16)
DENDRITE_EMU_VEC(double, double, 8, 16, 8, 16)
#undef DENDRITE_EMU_VEC

struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

// ---- runtime types -------------------------------------------------------------------------------
// Error values as in the real driver_types.h (only the ones dendrite can meet).
enum cudaError {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInitializationError = 3,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidPitchValue = 12,
  cudaErrorInvalidSymbol = 13,
  cudaErrorInvalidDevicePointer = 17,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorInsufficientDriver = 35,
  cudaErrorInvalidDeviceFunction = 98,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorNotReady = 600,
  cudaErrorIllegalAddress = 700,
  cudaErrorLaunchOutOfResources = 701,
  cudaErrorLaunchTimeout = 702,
  cudaErrorAssert = 710,
  cudaErrorIllegalInstruction = 715,
  cudaErrorMisalignedAddress = 716,
  cudaErrorLaunchFailure = 719,
  cudaErrorNotSupported = 801,
  cudaErrorUnknown = 999
};
typedef enum cudaError cudaError_t;

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4
};

enum cudaDeviceAttr {
  cudaDevAttrMaxThreadsPerBlock = 1,
  cudaDevAttrMaxBlockDimX = 2,
  cudaDevAttrMaxBlockDimY = 3,
  cudaDevAttrMaxBlockDimZ = 4,
  cudaDevAttrMaxGridDimX = 5,
  cudaDevAttrMaxGridDimY = 6,
  cudaDevAttrMaxGridDimZ = 7,
  cudaDevAttrMaxSharedMemoryPerBlock = 8,
  cudaDevAttrTotalConstantMemory = 9,
  cudaDevAttrWarpSize = 10,
  cudaDevAttrMaxRegistersPerBlock = 12,
  cudaDevAttrClockRate = 13,
  cudaDevAttrMultiProcessorCount = 16,
  cudaDevAttrMemoryClockRate = 36,
  cudaDevAttrGlobalMemoryBusWidth = 37,
  cudaDevAttrL2CacheSize = 38,
  cudaDevAttrMaxThreadsPerMultiProcessor = 39,
  cudaDevAttrComputeCapabilityMajor = 75,
  cudaDevAttrComputeCapabilityMinor = 76,
  cudaDevAttrMaxSharedMemoryPerMultiprocessor = 81,
  cudaDevAttrMaxSharedMemoryPerBlockOptin = 97
};

enum cudaFuncAttribute {
  cudaFuncAttributeMaxDynamicSharedMemorySize = 8,
  cudaFuncAttributePreferredSharedMemoryCarveout = 9
};

struct CUstream_st;
struct CUevent_st;
typedef CUstream_st* cudaStream_t;
typedef CUevent_st* cudaEvent_t;
typedef void (*cudaHostFn_t)(void* userData);

#define cudaStreamDefault 0x00
#define cudaStreamNonBlocking 0x01
#define cudaEventDefault 0x00
#define cudaEventBlockingSync 0x01
#define cudaEventDisableTiming 0x02
#define cudaHostAllocDefault 0x00
#define cudaStreamLegacy ((cudaStream_t)0x1)
#define cudaStreamPerThread ((cudaStream_t)0x2)

struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  size_t sharedMemPerBlock;
  int regsPerBlock;
  int warpSize;
  int maxThreadsPerBlock;
  int maxThreadsDim[3];
  int maxGridSize[3];
  size_t totalConstMem;
  int major;
  int minor;
  int multiProcessorCount;
  int maxThreadsPerMultiProcessor;
  size_t sharedMemPerMultiprocessor;
  size_t sharedMemPerBlockOptin;
  int l2CacheSize;
};

// ---- runtime API -------------------------------------------------------------------------------
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaDeviceReset();
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
const char* cudaGetErrorName(cudaError_t e);
const char* cudaGetErrorString(cudaError_t e);
cudaError_t cudaDriverGetVersion(int* version);
cudaError_t cudaRuntimeGetVersion(int* version);

cudaError_t cudaMalloc(void** ptr, size_t bytes);
cudaError_t cudaFree(void* ptr);
cudaError_t cudaMallocHost(void** ptr, size_t bytes);
cudaError_t cudaHostAlloc(void** ptr, size_t bytes, unsigned int flags);
cudaError_t cudaFreeHost(void* ptr);
cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream = 0);
cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                              cudaMemcpyKind kind, cudaStream_t stream = 0);
cudaError_t cudaMemset(void* dst, int value, size_t bytes);
cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t stream = 0);

cudaError_t cudaStreamCreate(cudaStream_t* stream);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaStreamQuery(cudaStream_t stream);
cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int flags = 0);
cudaError_t cudaLaunchHostFunc(cudaStream_t stream, cudaHostFn_t fn, void* user_data);
cudaError_t cudaEventCreate(cudaEvent_t* event);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags);
cudaError_t cudaEventDestroy(cudaEvent_t event);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = 0);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaEventQuery(cudaEvent_t event);
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end);

namespace dendrite_emu {
cudaError_t func_set_attribute(cudaFuncAttribute attr, int value);
}
template <class F>
cudaError_t cudaFuncSetAttribute(F*, cudaFuncAttribute attr, int value) {
  return ::dendrite_emu::func_set_attribute(attr, value);
}
template <class T>
cudaError_t cudaMemcpyToSymbol(T& symbol, const void* src, size_t bytes, size_t offset = 0,
                               cudaMemcpyKind = cudaMemcpyHostToDevice) {
  if (offset + bytes > sizeof(T)) return cudaErrorInvalidValue;
  std::memcpy(reinterpret_cast<char*>(&symbol) + offset, src, bytes);
  return cudaSuccess;
}
template <class T>
cudaError_t cudaMemcpyToSymbolAsync(T& symbol, const void* src, size_t bytes, size_t offset = 0,
                                    cudaMemcpyKind kind = cudaMemcpyHostToDevice, cudaStream_t = 0) {
  return cudaMemcpyToSymbol(symbol, src, bytes, offset, kind);
}

// ---- the emulator's side ---------------------------------------------------------------------------
// Index variables of the fiber running now (the scheduler sets them before it resumes one).
extern uint3 threadIdx;
extern uint3 blockIdx;
extern dim3 blockDim;
extern dim3 gridDim;
constexpr int warpSize = 32;

namespace dendrite_emu {

struct Site {
  const char* kernel;
  const char* file;
  int line;
};

struct LaunchConfig {
  dim3 grid, block;
  size_t smem;
  cudaStream_t stream;
  LaunchConfig(dim3 g, dim3 b, size_t s = 0, cudaStream_t st = 0) : grid(g), block(b), smem(s), stream(st) {}
};

// Runs `body(closure)` once per CUDA thread of the grid. Errors (a bad configuration, a barrier
// deadlock, a fault) are reported on stderr and left for cudaGetLastError().
void launch_raw(const Site& site, const LaunchConfig& cfg, void (*body)(void*), void* closure);
// A pointer argument of a kernel must be device (or pinned host) memory; false with a message on
// stderr otherwise.
bool check_kernel_pointer(const Site& site, int index, const void* p);

template <class T>
inline bool check_arg(const Site& site, int index, const T& v) {
  if constexpr (std::is_pointer_v<T> && std::is_object_v<std::remove_pointer_t<T>>)
    return check_kernel_pointer(site, index, static_cast<const void*>(v));
  else return true;
}

template <class F, class... A>
void launch(const Site& site, const LaunchConfig& cfg, F kernel, A&&... args) {
  // Arguments are evaluated and converted once, like the real launch; every thread then gets its
  // own copies (kernel parameters are per-thread values).
  struct Closure {
    F kernel;
    std::tuple<std::decay_t<A>...> args;
  };
  Closure c{kernel, std::tuple<std::decay_t<A>...>(std::forward<A>(args)...)};
  bool ok = std::apply([&](const auto&... a) {
    int i = 0;
    bool all = true;
    ((all = check_arg(site, i++, a) && all), ...);
    return all;
  }, c.args);
  if (!ok) return;  // check_kernel_pointer recorded the error
  launch_raw(site, cfg, [](void* p) {
    auto* cl = static_cast<Closure*>(p);
    std::apply(cl->kernel, cl->args);
  }, &c);
}

// ---- block-level primitives (called from kernels) ----
void syncthreads(const char* file, int line);
int syncthreads_count(const char* file, int line, int pred);
int syncthreads_and(const char* file, int line, int pred);
int syncthreads_or(const char* file, int line, int pred);
void syncwarp(const char* file, int line, unsigned mask);
// Warp exchange: every lane of `mask` contributes `bits`; returns those of the source lane picked
// by `mode` (0 idx, 1 up, 2 down, 3 xor) and `arg` within segments of `width` lanes.
unsigned long long warp_shuffle(const char* file, int line, unsigned mask, unsigned long long bits, int mode, int arg,
                                int width);
unsigned warp_ballot(const char* file, int line, unsigned mask, int pred);
unsigned active_mask();
void* dynamic_shared();
// Fills a __shared__ variable with garbage the first time the running block reaches it.
void shared_touch(void* p, size_t bytes, unsigned long long* epoch);
[[noreturn]] void trap(const char* file, int line, const char* what);
// Hooks for the caching allocator in native/cuda/core/runtime.cu: a block handed out again is
// filled with garbage like a fresh one (and, under ASan, only its first `bytes` are addressable);
// a block given back to the cache is unaddressable under ASan until it is handed out again.
void on_cache_acquire(void* p, size_t bytes, size_t block);
void on_cache_release(void* p, size_t block);
void misaligned_atomic(const void* p, size_t align);
long long clock_ticks();

template <class T>
inline T shuffle(const char* file, int line, unsigned mask, T v, int mode, int arg, int width) {
  static_assert(std::is_trivially_copyable_v<T> && (sizeof(T) == 4 || sizeof(T) == 8 || sizeof(T) == 2),
                "shuffles move 2-, 4- or 8-byte values");
  unsigned long long bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  bits = warp_shuffle(file, line, mask, bits, mode, arg, width);
  T r;
  std::memcpy(&r, &bits, sizeof(T));
  return r;
}

template <class T>
inline T* atomic_ptr(T* p) {
  if (reinterpret_cast<uintptr_t>(p) % sizeof(T)) misaligned_atomic(p, sizeof(T));
  return p;
}

}  // namespace dendrite_emu

#define __syncthreads() ::dendrite_emu::syncthreads(__FILE__, __LINE__)
#define __syncthreads_count(p) ::dendrite_emu::syncthreads_count(__FILE__, __LINE__, (p))
#define __syncthreads_and(p) ::dendrite_emu::syncthreads_and(__FILE__, __LINE__, (p))
#define __syncthreads_or(p) ::dendrite_emu::syncthreads_or(__FILE__, __LINE__, (p))
#define __syncwarp(...) ::dendrite_emu::syncwarp(__FILE__, __LINE__, ::dendrite_emu::warp_mask_arg(__VA_ARGS__))
#define __shfl_sync(m, v, ...) ::dendrite_emu::shuffle_idx(__FILE__, __LINE__, (m), (v), __VA_ARGS__)
#define __shfl_up_sync(m, v, ...) ::dendrite_emu::shuffle_up(__FILE__, __LINE__, (m), (v), __VA_ARGS__)
#define __shfl_down_sync(m, v, ...) ::dendrite_emu::shuffle_down(__FILE__, __LINE__, (m), (v), __VA_ARGS__)
#define __shfl_xor_sync(m, v, ...) ::dendrite_emu::shuffle_xor(__FILE__, __LINE__, (m), (v), __VA_ARGS__)
#define __ballot_sync(m, p) ::dendrite_emu::warp_ballot(__FILE__, __LINE__, (m), (p) ? 1 : 0)
#define __any_sync(m, p) (::dendrite_emu::warp_ballot(__FILE__, __LINE__, (m), (p) ? 1 : 0) != 0u)
#define __all_sync(m, p) \
  (::dendrite_emu::warp_ballot(__FILE__, __LINE__, (m), (p) ? 1 : 0) == ((m) & ::dendrite_emu::active_mask()))
#define __trap() ::dendrite_emu::trap(__FILE__, __LINE__, "__trap()")
#define __brkpt() ::dendrite_emu::trap(__FILE__, __LINE__, "__brkpt()")

namespace dendrite_emu {
inline unsigned warp_mask_arg() { return 0xffffffffu; }
inline unsigned warp_mask_arg(unsigned m) { return m; }
template <class T> inline T shuffle_idx(const char* f, int l, unsigned m, T v, int src, int w = 32) { return shuffle(f, l, m, v, 0, src, w); }
template <class T> inline T shuffle_up(const char* f, int l, unsigned m, T v, unsigned d, int w = 32) { return shuffle(f, l, m, v, 1, static_cast<int>(d), w); }
template <class T> inline T shuffle_down(const char* f, int l, unsigned m, T v, unsigned d, int w = 32) { return shuffle(f, l, m, v, 2, static_cast<int>(d), w); }
template <class T> inline T shuffle_xor(const char* f, int l, unsigned m, T v, int x, int w = 32) { return shuffle(f, l, m, v, 3, x, w); }
}  // namespace dendrite_emu

inline unsigned __activemask() { return ::dendrite_emu::active_mask(); }
inline void __threadfence() {}
inline void __threadfence_block() {}
inline void __threadfence_system() {}
inline void __nanosleep(unsigned) {}
inline long long clock64() { return ::dendrite_emu::clock_ticks(); }

// ---- atomics (the fibers of a launch share one OS thread; the builtins keep it honest anyway) ----
#define DENDRITE_EMU_ATOMIC_INT(T)                                                                                 \
  inline T atomicAdd(T* p, T v) { return __atomic_fetch_add(::dendrite_emu::atomic_ptr(p), v, __ATOMIC_SEQ_CST); } \
  inline T atomicExch(T* p, T v) { return __atomic_exchange_n(::dendrite_emu::atomic_ptr(p), v, __ATOMIC_SEQ_CST); } \
  inline T atomicCAS(T* p, T cmp, T v) {                                                                           \
    __atomic_compare_exchange_n(::dendrite_emu::atomic_ptr(p), &cmp, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
    return cmp;                                                                                                    \
  }                                                                                                                \
  inline T atomicAnd(T* p, T v) { return __atomic_fetch_and(::dendrite_emu::atomic_ptr(p), v, __ATOMIC_SEQ_CST); } \
  inline T atomicOr(T* p, T v) { return __atomic_fetch_or(::dendrite_emu::atomic_ptr(p), v, __ATOMIC_SEQ_CST); }   \
  inline T atomicXor(T* p, T v) { return __atomic_fetch_xor(::dendrite_emu::atomic_ptr(p), v, __ATOMIC_SEQ_CST); } \
  inline T atomicMax(T* p, T v) {                                                                                  \
    T old = *::dendrite_emu::atomic_ptr(p);                                                                        \
    while (old < v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}      \
    return old;                                                                                                    \
  }                                                                                                                \
  inline T atomicMin(T* p, T v) {                                                                                  \
    T old = *::dendrite_emu::atomic_ptr(p);                                                                        \
    while (old > v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}      \
    return old;                                                                                                    \
  }
DENDRITE_EMU_ATOMIC_INT(int)
DENDRITE_EMU_ATOMIC_INT(unsigned int)
DENDRITE_EMU_ATOMIC_INT(unsigned long long)
#undef DENDRITE_EMU_ATOMIC_INT
inline long long atomicMax(long long* p, long long v) {
  long long old = *::dendrite_emu::atomic_ptr(p);
  while (old < v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
  return old;
}
inline long long atomicMin(long long* p, long long v) {
  long long old = *::dendrite_emu::atomic_ptr(p);
  while (old > v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
  return old;
}
inline int atomicSub(int* p, int v) { return __atomic_fetch_sub(::dendrite_emu::atomic_ptr(p), v, __ATOMIC_SEQ_CST); }
inline unsigned int atomicSub(unsigned int* p, unsigned int v) {
  return __atomic_fetch_sub(::dendrite_emu::atomic_ptr(p), v, __ATOMIC_SEQ_CST);
}
inline unsigned short atomicCAS(unsigned short* p, unsigned short cmp, unsigned short v) {
  __atomic_compare_exchange_n(::dendrite_emu::atomic_ptr(p), &cmp, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return cmp;
}
inline unsigned int atomicInc(unsigned int* p, unsigned int limit) {
  unsigned int old = *::dendrite_emu::atomic_ptr(p);
  *p = old >= limit ? 0u : old + 1u;
  return old;
}
inline unsigned int atomicDec(unsigned int* p, unsigned int limit) {
  unsigned int old = *::dendrite_emu::atomic_ptr(p);
  *p = (old == 0u || old > limit) ? limit : old - 1u;
  return old;
}
namespace dendrite_emu {
template <class F, class U, class Op>
inline F atomic_float(F* p, F v, Op op) {
  static_assert(sizeof(F) == sizeof(U), "");
  U* w = reinterpret_cast<U*>(atomic_ptr(p));
  U old = __atomic_load_n(w, __ATOMIC_SEQ_CST), next;
  F of, nf;
  do {
    std::memcpy(&of, &old, sizeof(F));
    nf = op(of, v);
    std::memcpy(&next, &nf, sizeof(F));
  } while (!__atomic_compare_exchange_n(w, &old, next, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
  return of;
}
}  // namespace dendrite_emu
inline float atomicAdd(float* p, float v) {
  return ::dendrite_emu::atomic_float<float, unsigned int>(p, v, [](float a, float b) { return a + b; });
}
inline double atomicAdd(double* p, double v) {
  return ::dendrite_emu::atomic_float<double, unsigned long long>(p, v, [](double a, double b) { return a + b; });
}
inline float atomicExch(float* p, float v) {
  return ::dendrite_emu::atomic_float<float, unsigned int>(p, v, [](float, float b) { return b; });
}

// ---- intrinsics --------------------------------------------------------------------------------------
template <class T> inline T __ldg(const T* p) { return *p; }
template <class T> inline T __ldcg(const T* p) { return *p; }
template <class T> inline T __ldca(const T* p) { return *p; }
template <class T> inline T __ldcs(const T* p) { return *p; }
template <class T> inline T __ldlu(const T* p) { return *p; }
template <class T> inline T __ldcv(const T* p) { return *p; }
template <class T> inline void __stcg(T* p, T v) { *p = v; }
template <class T> inline void __stcs(T* p, T v) { *p = v; }
template <class T> inline void __stwb(T* p, T v) { *p = v; }
template <class T> inline void __stwt(T* p, T v) { *p = v; }
inline size_t __cvta_generic_to_shared(const void* p) { return reinterpret_cast<size_t>(p); }

inline float __expf(float x) { return expf(x); }
inline float __exp10f(float x) { return powf(10.0f, x); }
inline float __logf(float x) { return logf(x); }
inline float __log2f(float x) { return log2f(x); }
inline float __log10f(float x) { return log10f(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __tanf(float x) { return tanf(x); }
inline void __sincosf(float x, float* s, float* c) { *s = sinf(x); *c = cosf(x); }
inline float __tanhf(float x) { return tanhf(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float rcbrtf(float x) { return 1.0f / cbrtf(x); }
inline double rcbrt(double x) { return 1.0 / cbrt(x); }
inline float normcdff(float x) { return 0.5f * erfcf(-x * 0.70710678118654752f); }
inline double normcdf(double x) { return 0.5 * erfc(-x * 0.70710678118654752440); }
inline float __saturatef(float x) { return x != x ? 0.0f : (x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x)); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return sqrtf(a); }
inline float __frcp_rn(float a) { return 1.0f / a; }
inline float __frsqrt_rn(float a) { return 1.0f / sqrtf(a); }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline double __dsqrt_rn(double a) { return sqrt(a); }
inline double __drcp_rn(double a) { return 1.0 / a; }
inline double __fma_rn(double a, double b, double c) { return fma(a, b, c); }

inline int __float_as_int(float x) { int r; std::memcpy(&r, &x, 4); return r; }
inline unsigned int __float_as_uint(float x) { unsigned int r; std::memcpy(&r, &x, 4); return r; }
inline float __int_as_float(int x) { float r; std::memcpy(&r, &x, 4); return r; }
inline float __uint_as_float(unsigned int x) { float r; std::memcpy(&r, &x, 4); return r; }
inline long long __double_as_longlong(double x) { long long r; std::memcpy(&r, &x, 8); return r; }
inline double __longlong_as_double(long long x) { double r; std::memcpy(&r, &x, 8); return r; }
inline int __double2hiint(double x) { return static_cast<int>(__double_as_longlong(x) >> 32); }
inline int __double2loint(double x) { return static_cast<int>(__double_as_longlong(x)); }
inline double __hiloint2double(int hi, int lo) {
  return __longlong_as_double(static_cast<long long>((static_cast<unsigned long long>(static_cast<unsigned>(hi)) << 32) |
                                                     static_cast<unsigned>(lo)));
}
inline int __float2int_rn(float x) { return static_cast<int>(nearbyintf(x)); }
inline int __float2int_rz(float x) { return static_cast<int>(x); }
inline int __float2int_rd(float x) { return static_cast<int>(floorf(x)); }
inline int __float2int_ru(float x) { return static_cast<int>(ceilf(x)); }
inline unsigned int __float2uint_rn(float x) { return static_cast<unsigned int>(nearbyintf(x)); }
inline long long __float2ll_rn(float x) { return static_cast<long long>(nearbyintf(x)); }
inline long long __double2ll_rn(double x) { return static_cast<long long>(nearbyint(x)); }
inline int __double2int_rn(double x) { return static_cast<int>(nearbyint(x)); }
inline float __int2float_rn(int x) { return static_cast<float>(x); }
inline float __uint2float_rn(unsigned int x) { return static_cast<float>(x); }
inline float __ll2float_rn(long long x) { return static_cast<float>(x); }
inline double __ll2double_rn(long long x) { return static_cast<double>(x); }
inline float __double2float_rn(double x) { return static_cast<float>(x); }

inline unsigned int __umulhi(unsigned int a, unsigned int b) {
  return static_cast<unsigned int>((static_cast<unsigned long long>(a) * b) >> 32);
}
inline int __mulhi(int a, int b) { return static_cast<int>((static_cast<long long>(a) * b) >> 32); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  return static_cast<unsigned long long>((static_cast<unsigned __int128>(a) * b) >> 64);
}
inline long long __mul64hi(long long a, long long b) { return static_cast<long long>((static_cast<__int128>(a) * b) >> 64); }
inline int __mul24(int a, int b) { return ((a << 8) >> 8) * ((b << 8) >> 8); }
inline unsigned int __umul24(unsigned int a, unsigned int b) { return (a & 0xffffffu) * (b & 0xffffffu); }
inline int __popc(unsigned int x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned int __brev(unsigned int x) {
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
  return __builtin_bswap32(x);
}
inline unsigned long long __brevll(unsigned long long x) {
  return (static_cast<unsigned long long>(__brev(static_cast<unsigned>(x))) << 32) | __brev(static_cast<unsigned>(x >> 32));
}
inline unsigned int __byte_perm(unsigned int x, unsigned int y, unsigned int s) {
  unsigned long long v = (static_cast<unsigned long long>(y) << 32) | x;
  unsigned int r = 0;
  for (int i = 0; i < 4; ++i) r |= static_cast<unsigned int>((v >> (8 * ((s >> (4 * i)) & 7))) & 0xffu) << (8 * i);
  return r;
}
inline unsigned int __sad(int a, int b, unsigned int c) { return c + static_cast<unsigned int>(a > b ? a - b : b - a); }

// The device-side min/max overloads CUDA puts in the global namespace.
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned int min(unsigned int a, unsigned int b) { return a < b ? a : b; }
inline unsigned int max(unsigned int a, unsigned int b) { return a > b ? a : b; }
inline unsigned int min(int a, unsigned int b) { return min(static_cast<unsigned int>(a), b); }
inline unsigned int min(unsigned int a, int b) { return min(a, static_cast<unsigned int>(b)); }
inline unsigned int max(int a, unsigned int b) { return max(static_cast<unsigned int>(a), b); }
inline unsigned int max(unsigned int a, int b) { return max(a, static_cast<unsigned int>(b)); }
inline long min(long a, long b) { return a < b ? a : b; }
inline long max(long a, long b) { return a > b ? a : b; }
inline unsigned long min(unsigned long a, unsigned long b) { return a < b ? a : b; }
inline unsigned long max(unsigned long a, unsigned long b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }
