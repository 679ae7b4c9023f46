#include "cpu_features.h"
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include "error.h"

namespace dendrite {
namespace {

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  // __builtin_cpu_supports checks both CPUID and that the OS saves the wider registers (XGETBV).
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512bw = __builtin_cpu_supports("avx512bw");
  f.avx512dq = __builtin_cpu_supports("avx512dq");
  f.avx512vl = __builtin_cpu_supports("avx512vl");
#elif defined(__aarch64__)
  f.neon = true;  // Advanced SIMD is mandatory on AArch64.
#endif
  return f;
}

bool compiled(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return true;
#if defined(__x86_64__)
    case Isa::Avx2: return true;
    case Isa::Avx512: return true;
#else
    case Isa::Avx2: return false;
    case Isa::Avx512: return false;
#endif
#if defined(__aarch64__)
    case Isa::Neon: return true;
#else
    case Isa::Neon: return false;
#endif
  }
  return false;
}

Isa best_isa() {
  const CpuFeatures& f = cpu_features();
  if (compiled(Isa::Avx512) && f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl && f.fma) return Isa::Avx512;
  if (compiled(Isa::Avx2) && f.avx2 && f.fma) return Isa::Avx2;
  if (compiled(Isa::Neon) && f.neon) return Isa::Neon;
  return Isa::Scalar;
}

Isa initial_isa() {
  Isa best = best_isa();
  const char* env = std::getenv("DENDRITE_CPU");
  if (!env || !*env) return best;
  for (int i = 0; i < kNumIsa; ++i) {
    Isa isa = static_cast<Isa>(i);
    // A forced path the CPU cannot run falls back to the best one it can: a wrong env var must
    // never turn into an illegal-instruction crash.
    if (std::strcmp(env, isa_name(isa)) == 0) return isa_supported(isa) ? isa : best;
  }
  return best;
}

std::atomic<int>& active() {
  static std::atomic<int> a{static_cast<int>(initial_isa())};
  return a;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static CpuFeatures f = detect();
  return f;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Neon: return "neon";
  }
  return "unknown";
}

bool isa_supported(Isa isa) {
  if (!compiled(isa)) return false;
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Avx2: return f.avx2 && f.fma;
    case Isa::Avx512: return f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl && f.fma;
    case Isa::Neon: return f.neon;
  }
  return false;
}

Isa active_isa() { return static_cast<Isa>(active().load(std::memory_order_relaxed)); }

void set_active_isa(Isa isa) {
  if (!isa_supported(isa)) fail(ErrorCode::Argument, "setCpuPath", "a path this CPU supports", isa_name(isa));
  active().store(static_cast<int>(isa));
}

}  // namespace dendrite
