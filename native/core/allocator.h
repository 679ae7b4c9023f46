// 64-byte-aligned storage with byte accounting per device. Every tensor's bytes come from here.
#pragma once
#include <cstddef>
#include <cstdint>
#include "tensor.h"

namespace dendrite {

constexpr size_t kAlignment = 64;

struct MemoryStats {
  int64_t live_bytes;
  int64_t live_allocations;
  int64_t peak_bytes;
  int64_t total_allocations;
};

// Throws Error(OutOfMemory) when the system refuses; never returns null for bytes > 0.
// `overhead` bytes are allocated in front of the payload but not counted (bookkeeping headers),
// so the reported bytes are what tensors hold.
void* allocate(size_t bytes, Device device = Device::Cpu, size_t overhead = 0);
// `bytes` and `overhead` as given to allocate (blocks of 1 MiB and more are mapped pages).
void release(void* ptr, size_t bytes, Device device = Device::Cpu, size_t overhead = 0);
MemoryStats memory_stats(Device device);

}  // namespace dendrite
