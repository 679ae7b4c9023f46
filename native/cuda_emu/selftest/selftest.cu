// Self-test of the CUDA emulator (`npm run test:cuda-emu-self`): the execution model the kernels
// rely on, and the faults it must report. Written as CUDA; scripts/cuda-emu-selftest.cjs puts it
// through the same translation as native/cuda and builds it with emu.cc.
#include <cuda_runtime.h>
#include <cub/device/device_radix_sort.cuh>

#include <cstdio>
#include <cstring>
#include <vector>

static int failures = 0;
#define EXPECT(cond, ...)                                   \
  do {                                                      \
    if (!(cond)) {                                          \
      ++failures;                                           \
      std::printf("FAIL %s:%d: ", __FILE__, __LINE__);      \
      std::printf(__VA_ARGS__);                             \
      std::printf("\n");                                    \
    }                                                       \
  } while (0)

template <class T>
static T* device(size_t n) {
  void* p = nullptr;
  if (cudaMalloc(&p, n * sizeof(T)) != cudaSuccess) std::abort();
  return static_cast<T*>(p);
}
template <class T>
static std::vector<T> host(const T* d, size_t n) {
  std::vector<T> h(n);
  cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost);
  return h;
}

// Each thread writes its index to shared memory, then (after the barrier) reads its neighbour's:
// wrong without a real barrier.
__global__ void neighbour(int* out) {
  __shared__ int s[256];
  s[threadIdx.x] = static_cast<int>(threadIdx.x) * 3;
  __syncthreads();
  out[blockIdx.x * blockDim.x + threadIdx.x] = s[(threadIdx.x + 1) % blockDim.x] + static_cast<int>(blockIdx.x);
}

// Tree reduction in shared memory with a barrier per level, then a warp-shuffle finish.
__global__ void block_sum(const float* x, int n, float* out) {
  __shared__ float part[256];
  float v = 0.0f;
  for (int i = threadIdx.x; i < n; i += blockDim.x) v += x[i];
  part[threadIdx.x] = v;
  __syncthreads();
  for (int half = blockDim.x / 2; half >= 32; half >>= 1) {
    if (static_cast<int>(threadIdx.x) < half) part[threadIdx.x] += part[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x < 32) {
    float w = part[threadIdx.x];
    for (int off = 16; off > 0; off >>= 1) w += __shfl_down_sync(0xffffffffu, w, off);
    if (threadIdx.x == 0) *out = w;
  }
}

// Every shuffle mode and width, a ballot and the votes.
__global__ void shuffles(int* out) {
  const int lane = threadIdx.x & 31;
  int* o = out + threadIdx.x * 8;
  o[0] = __shfl_sync(0xffffffffu, lane * 10, 5);
  o[1] = __shfl_up_sync(0xffffffffu, lane * 10, 3);
  o[2] = __shfl_down_sync(0xffffffffu, lane * 10, 3);
  o[3] = __shfl_xor_sync(0xffffffffu, lane * 10, 1);
  o[4] = __shfl_down_sync(0xffffffffu, lane * 10, 2, 8);
  o[5] = static_cast<int>(__ballot_sync(0xffffffffu, lane % 3 == 0));
  o[6] = __any_sync(0xffffffffu, lane == 17) + 2 * __all_sync(0xffffffffu, lane < 32);
  const double d = __shfl_xor_sync(0xffffffffu, 0.5 + lane, 16);
  o[7] = static_cast<int>(d * 2);
}

__global__ void counts(int* out) {
  out[threadIdx.x] = __syncthreads_count(threadIdx.x % 4 == 0) * 1000 + __syncthreads_or(threadIdx.x == 77) * 10 +
                     __syncthreads_and(threadIdx.x < 1000);
}

__global__ void atomics(float* f, unsigned long long* u, int* mx) {
  atomicAdd(f, 0.5f);
  atomicAdd(u, 3ull);
  atomicMax(mx, static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x));
}

// 2-D blocks and grids: the index variables of every thread.
__global__ void indices(int* out) {
  const int t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const int b = blockIdx.x + gridDim.x * blockIdx.y;
  out[b * blockDim.x * blockDim.y * blockDim.z + t] = static_cast<int>(blockIdx.x * 1000000 + blockIdx.y * 10000 +
                                                                      threadIdx.z * 1000 + threadIdx.y * 100 + threadIdx.x);
}

template <class T>
__global__ void dynamic_smem(T* out, int n) {
  extern __shared__ float buf[];
  for (int i = threadIdx.x; i < n; i += blockDim.x) buf[i] = static_cast<float>(i);
  __syncthreads();
  if (threadIdx.x == 0) {
    T s = 0;
    for (int i = 0; i < n; ++i) s += static_cast<T>(buf[i]);
    *out = s;
  }
}

// Reads shared memory no thread wrote: must see garbage, not the previous block's values.
__global__ void stale_shared(float* out) {
  __shared__ float s[32];
  if (blockIdx.x == 0) s[threadIdx.x] = 1.0f;
  __syncthreads();
  out[blockIdx.x * 32 + threadIdx.x] = s[threadIdx.x];
}

// Kernel parameters are per-thread copies.
__global__ void params(int a, int* out) {
  a += static_cast<int>(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = a;
}

// Deliberate bugs the emulator must catch.
__global__ void deadlock(int* out) {
  if (threadIdx.x < 16) __syncthreads();
  else out[0] = __shfl_sync(0xffffffffu, 1, 0);
}
__global__ void divergent_barrier(int* out) {
  if (threadIdx.x < 64) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1;
}
__global__ void early_exit(int* out, int n) {
  if (static_cast<int>(threadIdx.x) >= n) return;
  __syncthreads();
  out[threadIdx.x] = 1;
}
__global__ void wild_write(int* base) { base[1000 + threadIdx.x] = 1; }
__global__ void write_all(float* out, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) out[i] = 2.0f;
}

int main() {
  // Device identity.
  cudaDeviceProp prop;
  EXPECT(cudaGetDeviceProperties(&prop, 0) == cudaSuccess && std::strstr(prop.name, "emulator"), "device name");

  {
    int* out = device<int>(3 * 256);
    neighbour<<<3, 256>>>(out);
    EXPECT(cudaGetLastError() == cudaSuccess, "neighbour launch");
    auto h = host(out, 3 * 256);
    bool ok = true;
    for (int b = 0; b < 3; ++b)
      for (int t = 0; t < 256; ++t) ok &= h[b * 256 + t] == ((t + 1) % 256) * 3 + b;
    EXPECT(ok, "__syncthreads orders shared-memory writes before reads");
    cudaFree(out);
  }
  {
    const int n = 1000;
    std::vector<float> x(n);
    double want = 0;
    for (int i = 0; i < n; ++i) want += (x[i] = static_cast<float>(i % 7) - 3.0f);
    float* dx = device<float>(n);
    float* dout = device<float>(1);
    cudaMemcpy(dx, x.data(), n * sizeof(float), cudaMemcpyHostToDevice);
    block_sum<<<1, 256>>>(dx, n, dout);
    EXPECT(host(dout, 1)[0] == static_cast<float>(want), "block sum %g, want %g", host(dout, 1)[0], want);
    cudaFree(dx);
    cudaFree(dout);
  }
  {
    int* out = device<int>(64 * 8);
    shuffles<<<1, 64>>>(out);
    auto h = host(out, 64 * 8);
    bool ok = true;
    for (int t = 0; t < 64; ++t) {
      const int lane = t & 31;
      const int* o = &h[t * 8];
      ok &= o[0] == 50;
      ok &= o[1] == (lane >= 3 ? (lane - 3) * 10 : lane * 10);
      ok &= o[2] == (lane + 3 < 32 ? (lane + 3) * 10 : lane * 10);
      ok &= o[3] == (lane ^ 1) * 10;
      ok &= o[4] == ((lane & 7) + 2 < 8 ? (lane + 2) * 10 : lane * 10);
      unsigned ballot = 0;
      for (int l = 0; l < 32; l += 3) ballot |= 1u << l;
      ok &= static_cast<unsigned>(o[5]) == ballot;
      ok &= o[6] == 3;
      ok &= o[7] == static_cast<int>((0.5 + (lane ^ 16)) * 2);
      if (!ok) {
        EXPECT(false, "shuffles, thread %d: %d %d %d %d %d %x %d %d", t, o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]);
        break;
      }
    }
    cudaFree(out);
  }
  {
    int* out = device<int>(256);
    counts<<<1, 256>>>(out);
    auto h = host(out, 256);
    EXPECT(h[0] == 64011 && h[255] == 64011, "__syncthreads_count/or/and: %d", h[0]);
    cudaFree(out);
  }
  {
    float* f = device<float>(1);
    unsigned long long* u = device<unsigned long long>(1);
    int* mx = device<int>(1);
    cudaMemset(f, 0, 4);
    cudaMemset(u, 0, 8);
    cudaMemset(mx, 0, 4);
    atomics<<<7, 96>>>(f, u, mx);
    EXPECT(host(f, 1)[0] == 336.0f && host(u, 1)[0] == 2016 && host(mx, 1)[0] == 671, "atomics");
    cudaFree(f);
    cudaFree(u);
    cudaFree(mx);
  }
  {
    const dim3 grid(3, 2), block(4, 3, 2);
    int* out = device<int>(6 * 24);
    indices<<<grid, block>>>(out);
    auto h = host(out, 6 * 24);
    bool ok = true;
    for (int by = 0; by < 2; ++by)
      for (int bx = 0; bx < 3; ++bx)
        for (int tz = 0; tz < 2; ++tz)
          for (int ty = 0; ty < 3; ++ty)
            for (int tx = 0; tx < 4; ++tx)
              ok &= h[(bx + 3 * by) * 24 + tx + 4 * (ty + 3 * tz)] == bx * 1000000 + by * 10000 + tz * 1000 + ty * 100 + tx;
    EXPECT(ok, "threadIdx / blockIdx in 2-D grids of 3-D blocks");
    cudaFree(out);
  }
  {
    double* out = device<double>(1);
    dynamic_smem<double><<<1, 128, 500 * sizeof(float)>>>(out, 500);
    EXPECT(cudaGetLastError() == cudaSuccess && host(out, 1)[0] == 124750.0, "extern __shared__");
    cudaFree(out);
  }
  {
    float* out = device<float>(64);
    stale_shared<<<2, 32>>>(out);
    auto h = host(out, 64);
    EXPECT(h[0] == 1.0f && h[40] != h[40], "unwritten __shared__ reads garbage (NaN), got %g", h[40]);
    cudaFree(out);
  }
  {
    int* out = device<int>(64);
    params<<<1, 64>>>(100, out);
    auto h = host(out, 64);
    EXPECT(h[0] == 100 && h[63] == 163, "per-thread parameter copies");
    cudaFree(out);
  }
  {
    float* out = device<float>(1000);
    auto h = host(out, 1000);
    EXPECT(h[0] != h[0] && h[999] != h[999], "fresh device memory is garbage (NaN)");
    write_all<<<3, 64>>>(out, 1000);
    h = host(out, 1000);
    EXPECT(h[0] == 2.0f && h[999] == 2.0f, "grid-stride loop");
    cudaFree(out);
  }

  {
    // cub::DeviceRadixSort: stable, ascending, by the requested bits; signed and float keys.
    const std::vector<unsigned> k = {5, 3, 5, 1, 3, 0, 7, 5};
    const std::vector<int> v = {0, 1, 2, 3, 4, 5, 6, 7};
    unsigned* dk = device<unsigned>(8);
    unsigned* dko = device<unsigned>(8);
    int* dv = device<int>(8);
    int* dvo = device<int>(8);
    cudaMemcpy(dk, k.data(), 32, cudaMemcpyHostToDevice);
    cudaMemcpy(dv, v.data(), 32, cudaMemcpyHostToDevice);
    size_t temp_bytes = 0;
    cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, dk, dko, dv, dvo, 8, 0, 3);
    void* temp = nullptr;
    cudaMalloc(&temp, temp_bytes);
    EXPECT(cub::DeviceRadixSort::SortPairs(temp, temp_bytes, dk, dko, dv, dvo, 8, 0, 3) == cudaSuccess, "SortPairs");
    EXPECT(host(dko, 8) == (std::vector<unsigned>{0, 1, 3, 3, 5, 5, 5, 7}) && host(dvo, 8) == (std::vector<int>{5, 3, 1, 4, 0, 2, 7, 6}),
           "SortPairs order");
    const std::vector<float> fk = {2.5f, -1.0f, 0.0f, -3.5f, 1.0f, -0.0f, 7.0f, -1.0f};
    float* dfk = device<float>(8);
    float* dfo = device<float>(8);
    cudaMemcpy(dfk, fk.data(), 32, cudaMemcpyHostToDevice);
    cub::DeviceRadixSort::SortPairs(temp, temp_bytes, dfk, dfo, dv, dvo, 8);
    auto fo = host(dfo, 8);
    EXPECT(fo[0] == -3.5f && fo[1] == -1.0f && fo[3] == 0.0f && fo[7] == 7.0f && host(dvo, 8)[1] == 1 && host(dvo, 8)[2] == 7,
           "SortPairs float keys");
    EXPECT(cub::DeviceRadixSort::SortPairs(temp, temp_bytes, k.data(), dko, dv, dvo, 8) == cudaErrorInvalidValue,
           "SortPairs with host keys");
    cudaGetLastError();
    for (void* p : {static_cast<void*>(dk), static_cast<void*>(dko), static_cast<void*>(dv), static_cast<void*>(dvo), temp,
                    static_cast<void*>(dfk), static_cast<void*>(dfo)})
      cudaFree(p);
  }

  std::printf("-- the next launches are faulty on purpose; the emulator reports them:\n");
  std::fflush(stdout);
  {
    int* out = device<int>(256);
    deadlock<<<1, 32>>>(out);
    EXPECT(cudaGetLastError() == cudaErrorLaunchFailure, "deadlock reported");
    divergent_barrier<<<1, 128>>>(out);
    EXPECT(cudaGetLastError() == cudaErrorLaunchFailure, "threads at different __syncthreads reported");
    early_exit<<<1, 64>>>(out, 40);
    EXPECT(cudaGetLastError() == cudaSuccess, "exited threads do not block __syncthreads (a warning only)");
    neighbour<<<1, 2048>>>(out);
    EXPECT(cudaGetLastError() == cudaErrorInvalidConfiguration, "2048 threads per block");
    neighbour<<<dim3(1, 70000), 32>>>(out);
    EXPECT(cudaGetLastError() == cudaErrorInvalidConfiguration, "grid.y above 65535");
    neighbour<<<0, 32>>>(out);
    EXPECT(cudaGetLastError() == cudaErrorInvalidConfiguration, "empty grid");
    dynamic_smem<float><<<1, 32, 64 * 1024>>>(reinterpret_cast<float*>(out), 10);
    EXPECT(cudaGetLastError() == cudaErrorInvalidConfiguration, "64 KiB of dynamic shared memory without opt-in");
    std::vector<int> on_host(256);
    neighbour<<<1, 256>>>(on_host.data());
    EXPECT(cudaGetLastError() == cudaErrorIllegalAddress, "a host pointer as a kernel argument");
    EXPECT(on_host[0] == 0, "the kernel did not run");
    EXPECT(cudaMemcpy(out, on_host.data(), 257 * sizeof(int), cudaMemcpyHostToDevice) == cudaErrorInvalidValue,
           "a copy past the end of a device allocation");
    EXPECT(cudaMemcpy(on_host.data(), out, 4, cudaMemcpyHostToDevice) == cudaErrorInvalidValue, "a copy of the wrong kind");
    EXPECT(cudaMemset(on_host.data(), 0, 4) == cudaErrorInvalidValue, "cudaMemset of host memory");
#ifndef __SANITIZE_ADDRESS__
    wild_write<<<1, 32>>>(nullptr);
    EXPECT(cudaGetLastError() == cudaErrorIllegalAddress, "a fault inside a kernel");
    neighbour<<<1, 256>>>(out);
    EXPECT(cudaGetLastError() == cudaSuccess && host(out, 1)[0] == 3, "the next launch after a fault");
#endif
    void* big = nullptr;
    EXPECT(cudaMalloc(&big, size_t{1} << 50) == cudaErrorMemoryAllocation, "out of memory");
    cudaGetLastError();
    cudaFree(out);
  }

  if (failures) {
    std::printf("cuda emulator self-test: %d failure(s)\n", failures);
    return 1;
  }
  std::printf("cuda emulator self-test: all passed\n");
  return 0;
}
