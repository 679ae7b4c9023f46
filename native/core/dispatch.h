// The dispatch table: one function table per (kernel family, Isa), filled once at load time.
// A family defines `struct FooTable`, a scalar filler, and optional per-ISA overlays compiled in
// their own translation units with their own flags; this helper builds the tables and returns
// the active one. Only overlays whose Isa the CPU supports are ever called, so AVX-512 code is
// never executed on a machine without it.
#pragma once
#include "cpu_features.h"

namespace dendrite {

template <class Table>
using TableFiller = void (*)(Table&);

template <class Table>
struct IsaTables {
  Table tables[kNumIsa];
  IsaTables(TableFiller<Table> scalar, TableFiller<Table> avx2, TableFiller<Table> avx512, TableFiller<Table> neon) {
    TableFiller<Table> overlays[kNumIsa] = {nullptr, avx2, avx512, neon};
    for (int i = 0; i < kNumIsa; ++i) {
      scalar(tables[i]);
      if (overlays[i] && isa_supported(static_cast<Isa>(i))) overlays[i](tables[i]);
    }
  }
  const Table& active() const { return tables[static_cast<int>(active_isa())]; }
};

}  // namespace dendrite

// Per-ISA filler declarations resolve to nullptr on architectures that do not compile them.
#if defined(__x86_64__)
#define DENDRITE_X86_FILLER(fn) fn
#define DENDRITE_NEON_FILLER(fn) nullptr
#elif defined(__aarch64__)
#define DENDRITE_X86_FILLER(fn) nullptr
#define DENDRITE_NEON_FILLER(fn) fn
#else
#define DENDRITE_X86_FILLER(fn) nullptr
#define DENDRITE_NEON_FILLER(fn) nullptr
#endif
