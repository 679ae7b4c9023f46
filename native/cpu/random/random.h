// The one documented random generator: Philox4x32-10 (Salmon et al., "Parallel random numbers:
// as easy as 1, 2, 3", SC'11), keyed by the seed, counter advanced by every draw. Counter-based,
// so a draw of n numbers is split over threads (and, later, CUDA blocks) and gives the same
// numbers however it is split. dt.manualSeed(s) sets key = s and counter = 0.
#pragma once
#include <cstdint>
#include "../../core/tensor.h"

namespace dendrite::cpu {

void manual_seed(uint64_t seed);
uint64_t initial_seed();
// Generator state (seed, counter) for save/restore.
void get_rng_state(uint64_t* seed, uint64_t* counter);
void set_rng_state(uint64_t seed, uint64_t counter);
// Reserves `blocks` counters of the generator for a draw made elsewhere (the CUDA kernels) and
// returns the first; *seed receives the key. The next CPU draw continues after them.
uint64_t reserve_random(uint64_t blocks, uint64_t* seed);

// out must be contiguous. uniform in [lo, hi); normal(mean, std) by Box-Muller; integers in
// [lo, hi) (Lemire's unbiased bounded method); bernoulli(p) writes 1 with probability p.
void random_uniform(const TensorDesc& out, double lo, double hi);
void random_normal(const TensorDesc& out, double mean, double std);
void random_int(const TensorDesc& out, int64_t lo, int64_t hi);
void random_bernoulli(const TensorDesc& out, double p);
// A uniform permutation of 0..n-1 (Fisher-Yates driven by the same generator), as int64.
void random_permutation(const TensorDesc& out);

}  // namespace dendrite::cpu
