// One native thread pool for all CPU kernels, sized to the physical cores
// (DENDRITE_NUM_THREADS overrides; set_num_threads at run time).
#pragma once
#include <cstdint>
#include <functional>

namespace dendrite {

int num_threads();
void set_num_threads(int n);
int physical_cores();

// Splits [begin, end) into at most num_threads() chunks of at least `grain` items and runs
// fn(lo, hi) on each, the calling thread taking a share. Calls from inside a worker run inline,
// so kernels may nest without deadlock. The first exception thrown by a chunk is rethrown here.
void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace dendrite
