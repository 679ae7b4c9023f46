// CPU feature detection, done once at load time (ggml-style). The chosen Isa selects each
// kernel family's function table; DENDRITE_CPU=scalar|avx2|avx512|neon forces a path.
#pragma once

namespace dendrite {

enum class Isa : int { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 3 };
constexpr int kNumIsa = 4;

struct CpuFeatures {
  bool avx2 = false, fma = false, avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false, neon = false;
};

const CpuFeatures& cpu_features();
const char* isa_name(Isa isa);
bool isa_supported(Isa isa);  // compiled into this build and supported by this CPU
Isa active_isa();
// Switches the active path (tests compare every path against scalar in one process).
// Throws if the path is not supported here.
void set_active_isa(Isa isa);

}  // namespace dendrite
