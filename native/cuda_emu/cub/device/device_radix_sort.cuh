// The CUDA emulator's cub::DeviceRadixSort (the part dendrite uses): the same contract as CUB's
// (a stable ascending sort by the key bits [begin_bit, end_bit), the size query with a null
// d_temp_storage first), done on the host. The arrays must be device memory of the right sizes,
// as on a GPU; anything else is cudaErrorInvalidValue with a message.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <type_traits>
#include <vector>

namespace dendrite_emu {
// Whether [p, p + bytes) lies in one device allocation (reported on stderr if not).
bool check_device_range(const char* what, const void* p, size_t bytes);
}  // namespace dendrite_emu

namespace cub {

struct DeviceRadixSort {
  // The key as the unsigned integer whose order CUB's radix sort follows.
  template <class KeyT>
  static unsigned long long radix_bits(KeyT k) {
    static_assert(sizeof(KeyT) <= 8, "keys up to 64 bits");
    unsigned long long u = 0;
    std::memcpy(&u, &k, sizeof(KeyT));
    const unsigned long long sign = 1ull << (sizeof(KeyT) * 8 - 1);
    if constexpr (std::is_floating_point_v<KeyT>) {
      const unsigned long long all = sizeof(KeyT) == 8 ? ~0ull : (1ull << (sizeof(KeyT) * 8)) - 1;
      u = (u & sign) ? (~u & all) : (u | sign);
    } else if constexpr (std::is_signed_v<KeyT>) {
      u ^= sign;
    }
    return u;
  }

  template <bool kDescending, class KeyT, class ValueT, class NumItemsT>
  static cudaError_t sort(void* d_temp_storage, size_t& temp_storage_bytes, const KeyT* d_keys_in, KeyT* d_keys_out,
                          const ValueT* d_values_in, ValueT* d_values_out, NumItemsT num_items, int begin_bit, int end_bit) {
    const size_t n = num_items > 0 ? static_cast<size_t>(num_items) : 0;
    if (!d_temp_storage) {
      temp_storage_bytes = n * (sizeof(KeyT) + sizeof(ValueT)) + 256;
      return cudaSuccess;
    }
    if (begin_bit < 0 || end_bit > static_cast<int>(sizeof(KeyT) * 8) || begin_bit > end_bit) return cudaErrorInvalidValue;
    if (!dendrite_emu::check_device_range("cub::DeviceRadixSort temp storage", d_temp_storage, temp_storage_bytes) ||
        !dendrite_emu::check_device_range("cub::DeviceRadixSort keys in", d_keys_in, n * sizeof(KeyT)) ||
        !dendrite_emu::check_device_range("cub::DeviceRadixSort keys out", d_keys_out, n * sizeof(KeyT)) ||
        (d_values_in && !dendrite_emu::check_device_range("cub::DeviceRadixSort values in", d_values_in, n * sizeof(ValueT))) ||
        (d_values_out && !dendrite_emu::check_device_range("cub::DeviceRadixSort values out", d_values_out, n * sizeof(ValueT))))
      return cudaErrorInvalidValue;
    const int width = end_bit - begin_bit;
    const unsigned long long mask = width >= 64 ? ~0ull : (1ull << width) - 1;
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    std::vector<unsigned long long> bits(n);
    for (size_t i = 0; i < n; ++i) bits[i] = (radix_bits(d_keys_in[i]) >> begin_bit) & mask;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return kDescending ? bits[a] > bits[b] : bits[a] < bits[b];
    });
    std::vector<KeyT> keys(n);
    std::vector<ValueT> values(d_values_in ? n : 0);
    for (size_t i = 0; i < n; ++i) {
      keys[i] = d_keys_in[order[i]];
      if (d_values_in) values[i] = d_values_in[order[i]];
    }
    std::copy(keys.begin(), keys.end(), d_keys_out);
    if (d_values_in && d_values_out) std::copy(values.begin(), values.end(), d_values_out);
    return cudaSuccess;
  }

  template <class KeyT, class ValueT, class NumItemsT>
  static cudaError_t SortPairs(void* d_temp_storage, size_t& temp_storage_bytes, const KeyT* d_keys_in, KeyT* d_keys_out,
                               const ValueT* d_values_in, ValueT* d_values_out, NumItemsT num_items, int begin_bit = 0,
                               int end_bit = sizeof(KeyT) * 8, cudaStream_t = 0) {
    return sort<false>(d_temp_storage, temp_storage_bytes, d_keys_in, d_keys_out, d_values_in, d_values_out, num_items,
                       begin_bit, end_bit);
  }
  template <class KeyT, class ValueT, class NumItemsT>
  static cudaError_t SortPairsDescending(void* d_temp_storage, size_t& temp_storage_bytes, const KeyT* d_keys_in,
                                         KeyT* d_keys_out, const ValueT* d_values_in, ValueT* d_values_out,
                                         NumItemsT num_items, int begin_bit = 0, int end_bit = sizeof(KeyT) * 8,
                                         cudaStream_t = 0) {
    return sort<true>(d_temp_storage, temp_storage_bytes, d_keys_in, d_keys_out, d_values_in, d_values_out, num_items,
                      begin_bit, end_bit);
  }
  template <class KeyT, class NumItemsT>
  static cudaError_t SortKeys(void* d_temp_storage, size_t& temp_storage_bytes, const KeyT* d_keys_in, KeyT* d_keys_out,
                              NumItemsT num_items, int begin_bit = 0, int end_bit = sizeof(KeyT) * 8, cudaStream_t = 0) {
    return sort<false>(d_temp_storage, temp_storage_bytes, d_keys_in, d_keys_out, static_cast<const char*>(nullptr),
                       static_cast<char*>(nullptr), num_items, begin_bit, end_bit);
  }
  template <class KeyT, class NumItemsT>
  static cudaError_t SortKeysDescending(void* d_temp_storage, size_t& temp_storage_bytes, const KeyT* d_keys_in,
                                        KeyT* d_keys_out, NumItemsT num_items, int begin_bit = 0,
                                        int end_bit = sizeof(KeyT) * 8, cudaStream_t = 0) {
    return sort<true>(d_temp_storage, temp_storage_bytes, d_keys_in, d_keys_out, static_cast<const char*>(nullptr),
                      static_cast<char*>(nullptr), num_items, begin_bit, end_bit);
  }
};

}  // namespace cub
