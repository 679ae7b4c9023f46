// The CUDA backend as the binding sees it: plain C++ (no CUDA headers), so the N-API files
// compile with the host compiler. Every function here runs on the host thread that calls it,
// enqueues work on the current device's stream and returns; errors CUDA reports (a failed
// launch, an illegal address, out of memory) come back as dendrite::Error, never an abort.
//
// Kernels take the same TensorDesc and follow the same contracts as their cpu:: twins (the
// headers under native/cpu/ say what each one computes); the tests compare the two.
#pragma once
#include <cstddef>
#include <cstdint>
#include "../core/tensor.h"
#include "../cpu/elementwise/elementwise.h"
#include "../cpu/gemm/gemm.h"
#include "../cpu/reduce/reduce.h"

namespace dendrite::cuda {

// ---- devices ----------------------------------------------------------------------------
// GPUs the driver reports; 0 without a driver or a GPU (never throws).
int device_count();
// Why no device is usable ("no NVIDIA driver", "no CUDA-capable device", ...), or "" when one is.
const char* unavailable_reason();
// The name the runtime gives device 0 ("NVIDIA H100 80GB HBM3", or "dendrite CUDA emulator (CPU)"
// in the emulated build), "" without a device.
const char* device_name();
// Throws ERR_DEVICE naming `op` and the reason when no device is usable.
void require_device(const char* op);
int current_device();
// Waits for every kernel and copy queued on the current device.
void synchronize();

// ---- memory: a caching allocator over cudaMalloc ------------------------------------------
// Sizes are rounded into buckets (512 B below 1 MiB, 2 MiB steps above); a released block goes
// to its bucket's free list and is handed out again for the same bucket. Frees are ordered on
// the one stream every kernel runs on, so a block reused by a later kernel is never still read
// by an earlier one. Out of memory: the cache is emptied and cudaMalloc tried once more, then
// ERR_CUDA_OOM.
struct MemoryStats {
  int64_t allocated;    // bytes in live blocks (rounded sizes)
  int64_t reserved;     // bytes obtained from cudaMalloc (live + cached)
  int64_t peak;         // highest `allocated` so far
  int64_t live_blocks;
  int64_t cuda_mallocs;  // cudaMalloc calls so far
};
void* allocate(size_t bytes);
void release(void* ptr, size_t bytes);
MemoryStats memory_stats();
void empty_cache();

// ---- copies -------------------------------------------------------------------------------
// Host -> device: returns once `src` may be reused. Device -> host: returns when done.
void copy_to_device(void* dst, const void* src, size_t bytes);
void copy_to_host(void* dst, const void* src, size_t bytes);
void copy_on_device(void* dst, const void* src, size_t bytes);

// The asynchronous copy back behind `await t.data()`: begin (on the JS thread) queues a copy
// into pinned staging memory on the stream; wait (on a worker thread) blocks until it is done
// and moves the bytes into `dst`; end frees the staging memory. The caller keeps `dst` alive.
struct PendingCopy;
PendingCopy* copy_to_host_begin(const void* src, size_t bytes);
void copy_to_host_wait(PendingCopy* copy, void* dst);  // may throw; end must still be called
void copy_to_host_end(PendingCopy* copy);

// ---- kernels (contracts as in native/cpu) --------------------------------------------------
void unary(cpu::UnaryOp op, const TensorDesc& out, const TensorDesc& in, cpu::OpParams p);
void binary(cpu::BinaryOp op, const TensorDesc& out, const TensorDesc& a, const TensorDesc& b, cpu::OpParams p);
// out = t op scalar (or scalar op t), the scalar converted to t's dtype as the CPU binding does.
void binary_scalar(cpu::BinaryOp op, const TensorDesc& out, const TensorDesc& t, double scalar, bool scalar_first,
                   cpu::OpParams p);
void where(const TensorDesc& out, const TensorDesc& cond, const TensorDesc& a, const TensorDesc& b);
void fill(const TensorDesc& out, double value);
void fill_affine(const TensorDesc& out, double start, double step);

void reduce(cpu::ReduceOp op, const TensorDesc& out, const TensorDesc& in, const bool* reduce_mask, double correction,
            const TensorDesc* indices);
void softmax_forward(const TensorDesc& out, const TensorDesc& in, int dim, bool log);
void softmax_backward(const TensorDesc& grad_in, const TensorDesc& grad_out, const TensorDesc& out, int dim, bool log);

void gather(const TensorDesc& out, const TensorDesc& in, int dim, const TensorDesc& index);
void scatter_add(const TensorDesc& out, int dim, const TensorDesc& index, const TensorDesc& src);
void index_select(const TensorDesc& out, const TensorDesc& in, int dim, const TensorDesc& index);
void index_add(const TensorDesc& out, int dim, const TensorDesc& index, const TensorDesc& src);

// The Philox4x32-10 stream of native/cpu/random: element i of a draw takes lane i % 4 of the
// block at counter `first + i / 4` under key `seed`, so a seed gives the same numbers on both
// devices. The caller reserves the counters (cpu::reserve_random).
void random_uniform(const TensorDesc& out, double lo, double hi, uint64_t seed, uint64_t first);
void random_normal(const TensorDesc& out, double mean, double std, uint64_t seed, uint64_t first);
void random_int(const TensorDesc& out, int64_t lo, int64_t hi, uint64_t seed, uint64_t first);
void random_bernoulli(const TensorDesc& out, double p, uint64_t seed, uint64_t first);

// SGEMM on device pointers, row-major, the cpu::sgemm_ex contract (alpha/beta, transposes,
// leading dimensions, fused bias + activation epilogue).
void sgemm_ex(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
              const float* B, int64_t ldb, float beta, float* C, int64_t ldc, const cpu::GemmEpilogue& epilogue);
// How the SGEMM driver decides: the SMs it sizes grids for, and the SGEMMs (sgemm_ex, matmul,
// linear) that took the split-K path so far (the tests' evidence that it ran).
struct SgemmStats {
  int64_t split_k_calls;
  int sm_count;
};
SgemmStats sgemm_stats();
void matmul(const TensorDesc& out, const TensorDesc& a, const TensorDesc& b);
void linear(const TensorDesc& out, const TensorDesc& x, const TensorDesc& weight, const TensorDesc* bias,
            cpu::GemmActivation act);

}  // namespace dendrite::cuda
