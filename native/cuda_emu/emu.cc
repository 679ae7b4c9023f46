// The CUDA emulator's runtime: device memory, streams and events, errors, and the execution of a
// launch (see cuda_runtime.h beside this file for the model, docs/architecture.md for what it
// checks and what it cannot).
//
// Execution: launch_raw runs the grid one block at a time on the calling thread (launches are
// serialised by a mutex). A block's CUDA threads are fibers: each has its own stack (allocated
// once, reused, with a guard page below it) and runs until it reaches a barrier or returns. When
// every fiber has stopped, the scheduler releases what can go on: a warp operation (shuffle,
// ballot, __syncwarp) once every live lane of its mask has reached one, __syncthreads once every
// live thread of the block has. Anything else is a deadlock on a GPU too, and is reported as a
// launch failure naming where each thread stopped.
//
// Environment: DENDRITE_CUDA_EMU_ORDER=reverse runs threads and blocks in reverse order (a result
// that changes with it is a race); DENDRITE_CUDA_EMU_FILL=<byte> is the garbage byte (default
// 0xff: NaN for floats, -1 for integers); DENDRITE_CUDA_EMU_SMS (default 4) the multiprocessor
// count; DENDRITE_CUDA_EMU_MEMORY_MB (default 4096) the device memory; DENDRITE_CUDA_EMU_DEVICES=0
// pretends there is no device; DENDRITE_CUDA_EMU_STACK_KB the fiber stack size.
#include "cuda_runtime.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define DENDRITE_EMU_ASAN 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

// The hand-written switch on x86-64; ucontext (slower: a signal-mask syscall per switch)
// elsewhere, or with -DDENDRITE_EMU_UCONTEXT.
#if defined(__x86_64__) && !defined(DENDRITE_EMU_UCONTEXT)
#define DENDRITE_EMU_ASM_SWITCH 1
#else
#include <ucontext.h>
#endif

uint3 threadIdx = {0, 0, 0};
uint3 blockIdx = {0, 0, 0};
dim3 blockDim = dim3(1, 1, 1);
dim3 gridDim = dim3(1, 1, 1);

namespace dendrite_emu {
namespace {

// ---- settings ------------------------------------------------------------------------------------
long env_long(const char* name, long fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  long r = std::strtol(v, &end, 0);
  return end && *end == '\0' ? r : fallback;
}

struct Settings {
  bool reverse = false;
  unsigned char fill = 0xff;
  int sms = 4;
  int devices = 1;
  size_t memory = size_t{4096} << 20;
  size_t stack = 0;
  Settings() {
    const char* order = std::getenv("DENDRITE_CUDA_EMU_ORDER");
    reverse = order && std::strcmp(order, "reverse") == 0;
    fill = static_cast<unsigned char>(env_long("DENDRITE_CUDA_EMU_FILL", 0xff));
    sms = static_cast<int>(env_long("DENDRITE_CUDA_EMU_SMS", 4));
    if (sms < 1) sms = 1;
    devices = env_long("DENDRITE_CUDA_EMU_DEVICES", 1) > 0 ? 1 : 0;
    memory = static_cast<size_t>(env_long("DENDRITE_CUDA_EMU_MEMORY_MB", 4096)) << 20;
#ifdef DENDRITE_EMU_ASAN
    long kb = env_long("DENDRITE_CUDA_EMU_STACK_KB", 512);
#else
    long kb = env_long("DENDRITE_CUDA_EMU_STACK_KB", 64);
#endif
    if (kb < 16) kb = 16;
    stack = static_cast<size_t>(kb) << 10;
  }
};
const Settings& settings() {
  static const Settings s;
  return s;
}

// ---- errors ------------------------------------------------------------------------------------
std::atomic<int> g_last_error{cudaSuccess};

cudaError_t record(cudaError_t e) {
  if (e != cudaSuccess) g_last_error.store(e);
  return e;
}

void report(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void report(const char* fmt, ...) {
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "dendrite CUDA emulator: %s\n", buf);
  std::fflush(stderr);
}

// ---- memory ------------------------------------------------------------------------------------
enum class Kind : unsigned char { Device, Pinned };
struct Allocation {
  size_t bytes;
  Kind kind;
};
struct Memory {
  std::mutex mutex;
  std::map<uintptr_t, Allocation> blocks;
  size_t device_bytes = 0;
};
Memory& memory() {
  static Memory* m = new Memory;  // never destroyed: finalizers may free memory at exit
  return *m;
}

// The allocation holding [p, p + bytes) (bytes == 0: holding p or ending at it), or nullptr.
const std::pair<const uintptr_t, Allocation>* find_locked(const void* p, size_t bytes) {
  Memory& m = memory();
  uintptr_t a = reinterpret_cast<uintptr_t>(p);
  auto it = m.blocks.upper_bound(a);
  if (it == m.blocks.begin()) return nullptr;
  --it;
  uintptr_t end = it->first + it->second.bytes;
  if (a > end || (bytes > 0 && (a == end || bytes > end - a))) return nullptr;
  return &*it;
}

bool is_device_range(const void* p, size_t bytes) {
  std::lock_guard<std::mutex> lock(memory().mutex);
  auto* b = find_locked(p, bytes);
  return b && b->second.kind == Kind::Device;
}
bool touches_device(const void* p, size_t bytes) {
  std::lock_guard<std::mutex> lock(memory().mutex);
  Memory& m = memory();
  uintptr_t a = reinterpret_cast<uintptr_t>(p);
  auto it = m.blocks.upper_bound(a + (bytes ? bytes - 1 : 0));
  if (it == m.blocks.begin()) return false;
  --it;
  return it->second.kind == Kind::Device && it->first + it->second.bytes > a;
}

void fill_garbage(void* p, size_t bytes) {
  if (p && bytes) std::memset(p, settings().fill, bytes);
}

cudaError_t host_alloc(void** ptr, size_t bytes, Kind kind) {
  if (!ptr) return record(cudaErrorInvalidValue);
  *ptr = nullptr;
  Memory& m = memory();
  {
    std::lock_guard<std::mutex> lock(m.mutex);
    if (kind == Kind::Device && (bytes > settings().memory || m.device_bytes + bytes > settings().memory))
      return record(cudaErrorMemoryAllocation);
  }
  void* p = nullptr;
  if (posix_memalign(&p, 256, bytes ? bytes : 1) != 0 || !p) return record(cudaErrorMemoryAllocation);
  fill_garbage(p, bytes);
  std::lock_guard<std::mutex> lock(m.mutex);
  m.blocks[reinterpret_cast<uintptr_t>(p)] = Allocation{bytes, kind};
  if (kind == Kind::Device) m.device_bytes += bytes;
  *ptr = p;
  return cudaSuccess;
}

cudaError_t host_free(void* p, Kind kind) {
  if (!p) return cudaSuccess;
  Memory& m = memory();
  {
    std::lock_guard<std::mutex> lock(m.mutex);
    auto it = m.blocks.find(reinterpret_cast<uintptr_t>(p));
    if (it == m.blocks.end() || it->second.kind != kind) {
      report("%s(%p): not a pointer %s returned", kind == Kind::Device ? "cudaFree" : "cudaFreeHost", p,
             kind == Kind::Device ? "cudaMalloc" : "cudaMallocHost");
      return record(kind == Kind::Device ? cudaErrorInvalidDevicePointer : cudaErrorInvalidValue);
    }
    if (kind == Kind::Device) m.device_bytes -= it->second.bytes;
#ifdef DENDRITE_EMU_ASAN
    ASAN_UNPOISON_MEMORY_REGION(p, it->second.bytes);
#endif
    m.blocks.erase(it);
  }
  std::free(p);
  return cudaSuccess;
}

// Where each side of a copy must be, by its kind.
cudaError_t check_copy(const char* what, void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (bytes == 0) return cudaSuccess;
  if (!dst || !src) {
    report("%s: null pointer (dst %p, src %p, %zu bytes)", what, dst, src, bytes);
    return record(cudaErrorInvalidValue);
  }
  bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (kind == cudaMemcpyDefault) {
    dst_dev = touches_device(dst, bytes);
    src_dev = touches_device(src, bytes);
  } else if (kind == cudaMemcpyHostToHost) {
    dst_dev = src_dev = false;
  } else if (kind != cudaMemcpyHostToDevice && kind != cudaMemcpyDeviceToHost && kind != cudaMemcpyDeviceToDevice) {
    return record(cudaErrorInvalidMemcpyDirection);
  }
  if (dst_dev ? !is_device_range(dst, bytes) : touches_device(dst, bytes)) {
    report("%s: destination %p (%zu bytes) is %s", what, dst, bytes,
           dst_dev ? "not inside one device allocation" : "device memory, but the copy's kind says host");
    return record(cudaErrorInvalidValue);
  }
  if (src_dev ? !is_device_range(src, bytes) : touches_device(src, bytes)) {
    report("%s: source %p (%zu bytes) is %s", what, src, bytes,
           src_dev ? "not inside one device allocation" : "device memory, but the copy's kind says host");
    return record(cudaErrorInvalidValue);
  }
  return cudaSuccess;
}

// ---- streams and events: everything runs at once, so these are tokens -------------------------------
struct Token {
  int magic;
};
constexpr int kStreamMagic = 0x5354524d, kEventMagic = 0x45564e54;

bool valid_stream(cudaStream_t s) {
  if (!s || s == cudaStreamLegacy || s == cudaStreamPerThread) return true;
  return reinterpret_cast<Token*>(s)->magic == kStreamMagic;
}

// ---- fibers ------------------------------------------------------------------------------------
#if defined(DENDRITE_EMU_ASM_SWITCH)
extern "C" void dendrite_emu_switch(void** save_sp, void* next_sp);
extern "C" void dendrite_emu_fiber_start();
// Saves the callee-saved registers, the SSE control/status and the x87 control word on the
// current stack, stores the stack pointer in *save_sp, and restores the same from next_sp.
asm(R"(
  .text
  .p2align 4
  .globl dendrite_emu_switch
  .hidden dendrite_emu_switch
  .type dendrite_emu_switch, @function
dendrite_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size dendrite_emu_switch, .-dendrite_emu_switch

  .p2align 4
  .globl dendrite_emu_fiber_start
  .hidden dendrite_emu_fiber_start
  .type dendrite_emu_fiber_start, @function
dendrite_emu_fiber_start:
  movq %r12, %rdi
  callq *%r13
  ud2
  .size dendrite_emu_fiber_start, .-dendrite_emu_fiber_start
)");
#endif

struct Fiber {
  char* base = nullptr;  // mapping start (guard page)
  char* lo = nullptr;    // usable stack [lo, lo + size)
  size_t size = 0;
#if defined(DENDRITE_EMU_ASM_SWITCH)
  void* sp = nullptr;
#else
  ucontext_t ctx;
#endif
  void* fake = nullptr;  // ASan fake stack
  bool dirty = false;    // abandoned mid-kernel
};

size_t page_size() {
  static const size_t p = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return p;
}

// ---- the running launch -----------------------------------------------------------------------
enum State : unsigned char { Ready, AtBlock, AtWarp, Done };
enum WarpOp : unsigned char { OpSync, OpShuffle, OpBallot };

struct EmuThread {
  uint3 tid;
  State state;
  WarpOp op;
  unsigned mask;
  int mode, arg, width, pred;
  unsigned long long bits, result;
  const char* file;
  int line;
};

struct Exec {
  std::vector<Fiber> fibers;
  std::vector<EmuThread> threads;
  int nthreads = 0;
  int current = -1;
  int live = 0;
#if defined(DENDRITE_EMU_ASM_SWITCH)
  void* sched_sp = nullptr;
#else
  ucontext_t sched_ctx;
#endif
  void* sched_fake = nullptr;
  const void* main_bottom = nullptr;
  size_t main_size = 0;
  void (*body)(void*) = nullptr;
  void* closure = nullptr;
  const Site* site = nullptr;
  char* dyn_smem = nullptr;
  size_t dyn_bytes = 0;
  unsigned long long block_epoch = 1;
  bool in_kernel = false;
  bool failed = false;
  sigjmp_buf fault_jmp;
  std::set<std::string> warned;
};
Exec g;
std::mutex g_launch_mutex;

// DENDRITE_CUDA_EMU_STATS=1: launches, blocks, threads and fiber switches, printed at exit.
struct Stats {
  unsigned long long launches = 0, blocks = 0, threads = 0, switches = 0;
  std::chrono::steady_clock::duration busy{};
  bool on = env_long("DENDRITE_CUDA_EMU_STATS", 0) != 0;
  ~Stats() {
    if (on)
      std::fprintf(stderr, "dendrite CUDA emulator: %llu launches, %llu blocks, %llu threads, %llu fiber switches, %.3f s in kernels\n",
                   launches, blocks, threads, switches, std::chrono::duration<double>(busy).count());
  }
};
Stats g_stats;
// The largest cudaFuncAttributeMaxDynamicSharedMemorySize set so far (the emulator does not tell
// kernels apart there).
std::atomic<int> g_smem_optin{0};

void asan_start(void** fake, const void* bottom, size_t size) {
#ifdef DENDRITE_EMU_ASAN
  __sanitizer_start_switch_fiber(fake, bottom, size);
#else
  (void)fake, (void)bottom, (void)size;
#endif
}
void asan_finish(void* fake, const void** bottom, size_t* size) {
#ifdef DENDRITE_EMU_ASAN
  __sanitizer_finish_switch_fiber(fake, bottom, size);
#else
  (void)fake, (void)bottom, (void)size;
#endif
}

void fiber_main(void*);

void ensure_fibers(int n) {
  const size_t page = page_size();
  const size_t size = (settings().stack + page - 1) / page * page;
  while (static_cast<int>(g.fibers.size()) < n) {
    Fiber f;
    void* m = mmap(nullptr, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (m == MAP_FAILED) {
      report("cannot map a %zu-byte fiber stack", size + page);
      std::abort();
    }
    mprotect(m, page, PROT_NONE);  // guard page: an overflow faults instead of corrupting
    f.base = static_cast<char*>(m);
    f.lo = f.base + page;
    f.size = size;
    g.fibers.push_back(f);
  }
}

void init_fiber(Fiber& f) {
#ifdef DENDRITE_EMU_ASAN
  // A finished fiber leaves fiber_main's frame (redzones) poisoned at the top of its stack; one
  // abandoned mid-kernel leaves any frame poisoned.
  if (f.dirty) ASAN_UNPOISON_MEMORY_REGION(f.lo, f.size);
  else ASAN_UNPOISON_MEMORY_REGION(f.lo + f.size - 4096, 4096);
#endif
  f.dirty = false;
  f.fake = nullptr;
#if defined(DENDRITE_EMU_ASM_SWITCH)
  uintptr_t top = (reinterpret_cast<uintptr_t>(f.lo) + f.size) & ~uintptr_t{15};
  auto* sp = reinterpret_cast<uint64_t*>(top - 80);
  uint32_t mxcsr;
  uint16_t fcw;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(fcw));
  sp[0] = mxcsr | (static_cast<uint64_t>(fcw) << 32);
  sp[1] = 0;                                                   // r15
  sp[2] = 0;                                                   // r14
  sp[3] = reinterpret_cast<uint64_t>(&fiber_main);             // r13: the function
  sp[4] = 0;                                                   // r12: its argument
  sp[5] = 0;                                                   // rbx
  sp[6] = 0;                                                   // rbp
  sp[7] = reinterpret_cast<uint64_t>(&dendrite_emu_fiber_start);  // return address
  f.sp = sp;
#else
  getcontext(&f.ctx);
  f.ctx.uc_stack.ss_sp = f.lo;
  f.ctx.uc_stack.ss_size = f.size;
  f.ctx.uc_link = nullptr;
  makecontext(&f.ctx, reinterpret_cast<void (*)()>(&fiber_main), 1, nullptr);
#endif
}

// Scheduler -> fiber i, back when it stops.
void resume(int i) {
  Fiber& f = g.fibers[i];
  g.current = i;
  threadIdx = g.threads[i].tid;
  ++g_stats.switches;
  asan_start(&g.sched_fake, f.lo, f.size);
#if defined(DENDRITE_EMU_ASM_SWITCH)
  dendrite_emu_switch(&g.sched_sp, f.sp);
#else
  swapcontext(&g.sched_ctx, &f.ctx);
#endif
  asan_finish(g.sched_fake, nullptr, nullptr);
}

// Fiber -> scheduler.
void yield_fiber() {
  Fiber& f = g.fibers[g.current];
  asan_start(&f.fake, g.main_bottom, g.main_size);
#if defined(DENDRITE_EMU_ASM_SWITCH)
  dendrite_emu_switch(&f.sp, g.sched_sp);
#else
  swapcontext(&f.ctx, &g.sched_ctx);
#endif
  asan_finish(f.fake, &g.main_bottom, &g.main_size);
}

void fiber_main(void*) {
  asan_finish(nullptr, &g.main_bottom, &g.main_size);
  g.body(g.closure);
  EmuThread& t = g.threads[g.current];
  t.state = Done;
  --g.live;
  Fiber& f = g.fibers[g.current];
  asan_start(nullptr, g.main_bottom, g.main_size);  // this fiber's work is over
#if defined(DENDRITE_EMU_ASM_SWITCH)
  void* discard;
  dendrite_emu_switch(&discard, g.sched_sp);
#else
  swapcontext(&f.ctx, &g.sched_ctx);
#endif
  (void)f;
  std::abort();  // never resumed
}

EmuThread& me(const char* what) {
  if (!g.in_kernel || g.current < 0) {
    report("%s called outside a kernel", what);
    std::abort();
  }
  return g.threads[g.current];
}

int lane_of(int i) { return i & 31; }

std::string where(const EmuThread& t) {
  return std::string(t.file ? t.file : "?") + ":" + std::to_string(t.line);
}

std::string describe_block() {
  char buf[160];
  std::snprintf(buf, sizeof buf, "kernel %s (launched at %s:%d), block (%u, %u, %u)", g.site->kernel, g.site->file,
                g.site->line, blockIdx.x, blockIdx.y, blockIdx.z);
  return buf;
}

void warn_once(const std::string& key, const std::string& msg) {
  if (g.warned.insert(key).second) report("warning: %s", msg.c_str());
}

void launch_error(cudaError_t e, const std::string& msg) {
  if (!g.failed) report("%s: %s", cudaGetErrorName(e), msg.c_str());
  g.failed = true;
  record(e);
}

// Releases every group of lanes of warp `w` whose warp operation can complete; true if any did.
bool release_warp(int w) {
  const int first = w * 32, last = std::min(first + 32, g.nthreads);
  unsigned waiting = 0, live = 0;
  for (int i = first; i < last; ++i) {
    if (g.threads[i].state != Done) live |= 1u << lane_of(i);
    if (g.threads[i].state == AtWarp) waiting |= 1u << lane_of(i);
  }
  if (!waiting) return false;
  unsigned release = 0;
  for (int i = first; i < last; ++i) {
    const EmuThread& t = g.threads[i];
    if (t.state != AtWarp) continue;
    unsigned need = t.mask & live;
    if ((need & waiting) == need) release |= 1u << lane_of(i);
  }
  if (!release) return false;
  // Lanes released together must run the same operation with the same mask.
  for (int i = first; i < last; ++i) {
    const EmuThread& t = g.threads[i];
    if (!(release >> lane_of(i) & 1)) continue;
    for (int j = first; j < last; ++j) {
      const EmuThread& u = g.threads[j];
      if (!(release >> lane_of(j) & 1) || !(t.mask >> lane_of(j) & 1)) continue;
      if (u.op != t.op || (u.mask & live) != (t.mask & live)) {
        launch_error(cudaErrorLaunchFailure,
                     describe_block() + ": divergent warp operations: thread " + std::to_string(i) + " at " + where(t) +
                         ", thread " + std::to_string(j) + " at " + where(u) + " (different operations or masks)");
        return false;
      }
    }
  }
  for (int i = first; i < last; ++i) {
    EmuThread& t = g.threads[i];
    if (!(release >> lane_of(i) & 1)) continue;
    const int lane = lane_of(i);
    if (t.op == OpShuffle) {
      const int width = t.width;
      const int seg = lane & ~(width - 1);
      int src = lane;
      bool own = false;
      switch (t.mode) {
        case 0: src = seg + (t.arg & (width - 1)); break;
        case 1: src = lane - t.arg; own = src < seg; break;
        case 2: src = lane + t.arg; own = src >= seg + width; break;
        default: src = lane ^ t.arg; own = src >= seg + width || src < seg; break;
      }
      if (own) {
        t.result = t.bits;
      } else if (src >= 0 && src < 32 && first + src < last && (release >> src & 1) && (t.mask >> src & 1)) {
        t.result = g.threads[first + src].bits;
      } else {
        // The source lane is not taking part: undefined on a GPU; garbage here.
        unsigned long long junk;
        std::memset(&junk, settings().fill, sizeof junk);
        t.result = junk;
        warn_once(std::string("shfl-src:") + where(t),
                  describe_block() + ": thread " + std::to_string(i) + " at " + where(t) +
                      " shuffles from lane " + std::to_string(src) + ", which does not take part (undefined on a GPU)");
      }
    } else if (t.op == OpBallot) {
      unsigned bits = 0;
      for (int j = first; j < last; ++j)
        if ((release >> lane_of(j) & 1) && (t.mask >> lane_of(j) & 1) && g.threads[j].pred) bits |= 1u << lane_of(j);
      t.result = bits;
    }
  }
  for (int i = first; i < last; ++i)
    if (release >> lane_of(i) & 1) g.threads[i].state = Ready;
  return true;
}

bool release_block() {
  const EmuThread* first = nullptr;
  int count = 0, all = 1, any = 0, exited = 0;
  for (int i = 0; i < g.nthreads; ++i) {
    const EmuThread& t = g.threads[i];
    if (t.state == Done) {
      ++exited;
      continue;
    }
    if (t.state != AtBlock) return false;
    if (!first) first = &t;
    if (t.file != first->file || t.line != first->line) {
      launch_error(cudaErrorLaunchFailure, describe_block() + ": threads wait at different __syncthreads: thread " +
                                               std::to_string(first - g.threads.data()) + " at " + where(*first) +
                                               ", thread " + std::to_string(i) + " at " + where(t));
      return false;
    }
    count += t.pred != 0;
    all &= t.pred != 0;
    any |= t.pred != 0;
  }
  if (!first) return false;
  if (exited)
    warn_once(std::string("exited:") + where(*first),
              describe_block() + ": " + std::to_string(exited) + " thread(s) had exited when the others reached " +
                  "__syncthreads at " + where(*first) + " (undefined behaviour on a GPU)");
  for (int i = 0; i < g.nthreads; ++i) {
    EmuThread& t = g.threads[i];
    if (t.state != AtBlock) continue;
    t.result = t.mode == 1 ? count : t.mode == 2 ? all : t.mode == 3 ? any : 0;
    t.state = Ready;
  }
  return true;
}

void report_deadlock() {
  std::map<std::string, std::vector<int>> groups;
  for (int i = 0; i < g.nthreads; ++i) {
    const EmuThread& t = g.threads[i];
    if (t.state == Done) groups["exited"].push_back(i);
    else if (t.state == AtBlock) groups["__syncthreads at " + where(t)].push_back(i);
    else groups[std::string(t.op == OpShuffle ? "a shuffle" : t.op == OpBallot ? "a ballot/vote" : "__syncwarp") +
                " at " + where(t)].push_back(i);
  }
  std::string msg = describe_block() + ": barrier deadlock:";
  for (auto& [what, ids] : groups) {
    msg += " [threads " + std::to_string(ids.front());
    if (ids.size() > 1) msg += ".." + std::to_string(ids.back()) + " (" + std::to_string(ids.size()) + ")";
    msg += ": " + what + "]";
  }
  launch_error(cudaErrorLaunchFailure, msg);
}

// Runs one block; false if it failed (the launch stops there).
bool run_block() {
  const int n = g.nthreads;
  const dim3 b = blockDim;
  ++g.block_epoch;
  if (g.dyn_smem) fill_garbage(g.dyn_smem, g.dyn_bytes);
  for (int i = 0; i < n; ++i) {
    EmuThread& t = g.threads[i];
    t.tid = uint3{static_cast<unsigned>(i) % b.x, static_cast<unsigned>(i) / b.x % b.y, static_cast<unsigned>(i) / (b.x * b.y)};
    t.state = Ready;
    t.file = nullptr;
    t.line = 0;
    init_fiber(g.fibers[i]);
  }
  g.live = n;
  const bool reverse = settings().reverse;
  for (;;) {
    for (int k = 0; k < n; ++k) {
      const int i = reverse ? n - 1 - k : k;
      if (g.threads[i].state == Ready) resume(i);
      if (g.failed) return false;
    }
    g.current = -1;
    if (g.live == 0) return true;
    bool released = false;
    for (int w = 0; w * 32 < n; ++w) released |= release_warp(w);
    if (g.failed) return false;
    if (!released) released = release_block();
    if (g.failed) return false;
    if (!released) {
      report_deadlock();
      return false;
    }
  }
}

// ---- faults inside kernels ----------------------------------------------------------------------------
#ifndef DENDRITE_EMU_ASAN
struct sigaction g_old_segv, g_old_bus;
bool g_handlers = false;

void on_fault(int sig, siginfo_t* info, void* uctx) {
  if (g.in_kernel && g.current >= 0) {
    const Fiber& f = g.fibers[g.current];
    const char* addr = static_cast<const char*>(info->si_addr);
    bool overflow = addr >= f.base && addr < f.lo;
    const EmuThread& t = g.threads[g.current];
    char buf[512];
    std::snprintf(buf, sizeof buf, "%s: %s at address %p in %s, thread (%u, %u, %u)%s",
                  overflow ? "cudaErrorLaunchOutOfResources" : "cudaErrorIllegalAddress", sig == SIGSEGV ? "SIGSEGV" : "SIGBUS",
                  info->si_addr, describe_block().c_str(), t.tid.x, t.tid.y, t.tid.z,
                  overflow ? " (stack overflow of the emulated thread: raise DENDRITE_CUDA_EMU_STACK_KB)" : "");
    report("%s", buf);
    g.failed = true;
    record(overflow ? cudaErrorLaunchOutOfResources : cudaErrorIllegalAddress);
    g.fibers[g.current].dirty = true;
    siglongjmp(g.fault_jmp, 1);
  }
  // Not ours: hand it to whoever had it (V8's WebAssembly trap handler, or the default).
  const struct sigaction& old = sig == SIGSEGV ? g_old_segv : g_old_bus;
  if (old.sa_flags & SA_SIGINFO) {
    if (old.sa_sigaction) old.sa_sigaction(sig, info, uctx);
    return;
  }
  if (old.sa_handler == SIG_IGN) return;
  if (old.sa_handler == SIG_DFL) {
    signal(sig, SIG_DFL);  // the faulting instruction runs again and ends the process
    return;
  }
  old.sa_handler(sig);
}

void install_handlers() {
  if (g_handlers) return;
  g_handlers = true;
  stack_t ss;
  if (sigaltstack(nullptr, &ss) == 0 && (ss.ss_flags & SS_DISABLE)) {
    static char* alt = static_cast<char*>(std::malloc(1 << 16));
    ss.ss_sp = alt;
    ss.ss_size = 1 << 16;
    ss.ss_flags = 0;
    sigaltstack(&ss, nullptr);
  }
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &g_old_segv);
  sigaction(SIGBUS, &sa, &g_old_bus);
}
#endif

}  // namespace

bool check_device_range(const char* what, const void* p, size_t bytes) {
  if (bytes == 0 || is_device_range(p, bytes)) return true;
  report("%s: %p (%zu bytes) is not inside one device allocation", what, p, bytes);
  record(cudaErrorInvalidValue);
  return false;
}

// ---- the launch ------------------------------------------------------------------------------------
bool check_kernel_pointer(const Site& site, int index, const void* p) {
  if (!p) return true;
  {
    std::lock_guard<std::mutex> lock(memory().mutex);
    if (find_locked(p, 0)) return true;  // device or pinned (mapped) host memory
  }
  report("cudaErrorIllegalAddress: kernel %s (launched at %s:%d): argument %d is %p, which is not device memory",
         site.kernel, site.file, site.line, index, p);
  record(cudaErrorIllegalAddress);
  return false;
}

void launch_raw(const Site& site, const LaunchConfig& cfg, void (*body)(void*), void* closure) {
  std::lock_guard<std::mutex> lock(g_launch_mutex);
  if (!body) return;
  const dim3 gr = cfg.grid, bl = cfg.block;
  const unsigned long long threads = static_cast<unsigned long long>(bl.x) * bl.y * bl.z;
  auto bad_config = [&](const char* why) {
    report("cudaErrorInvalidConfiguration: kernel %s (launched at %s:%d) with grid (%u, %u, %u), block (%u, %u, %u), "
           "%zu bytes of dynamic shared memory: %s",
           site.kernel, site.file, site.line, gr.x, gr.y, gr.z, bl.x, bl.y, bl.z, cfg.smem, why);
    record(cudaErrorInvalidConfiguration);
  };
  if (gr.x == 0 || gr.y == 0 || gr.z == 0) return bad_config("an empty grid");
  if (gr.x > 2147483647u || gr.y > 65535u || gr.z > 65535u) return bad_config("grid dimensions above (2^31 - 1, 65535, 65535)");
  if (threads == 0) return bad_config("an empty block");
  if (bl.x > 1024 || bl.y > 1024 || bl.z > 64 || threads > 1024) return bad_config("more than 1024 threads, or block dims above (1024, 1024, 64)");
  if (cfg.smem > 48u * 1024 && cfg.smem > static_cast<size_t>(g_smem_optin.load()))
    return bad_config("more than 48 KiB of dynamic shared memory without cudaFuncSetAttribute");
  if (!valid_stream(cfg.stream)) {
    report("kernel %s (launched at %s:%d): invalid stream", site.kernel, site.file, site.line);
    record(cudaErrorInvalidResourceHandle);
    return;
  }
#ifndef DENDRITE_EMU_ASAN
  install_handlers();
#endif
  const int n = static_cast<int>(threads);
  ensure_fibers(n);
  if (static_cast<int>(g.threads.size()) < n) g.threads.resize(n);
  g.nthreads = n;
  g.body = body;
  g.closure = closure;
  g.site = &site;
  g.failed = false;
  g.dyn_bytes = cfg.smem;
  // Exactly the launch's bytes (so ASan sees an overrun of dynamic shared memory).
  g.dyn_smem = cfg.smem ? static_cast<char*>(std::aligned_alloc(16, (cfg.smem + 15) / 16 * 16)) : nullptr;
  blockDim = bl;
  gridDim = gr;
  const bool reverse = settings().reverse;
  const unsigned long long blocks = static_cast<unsigned long long>(gr.x) * gr.y * gr.z;
  g.in_kernel = true;
  const auto started = std::chrono::steady_clock::now();
  ++g_stats.launches;
  g_stats.blocks += blocks;
  g_stats.threads += blocks * threads;
  if (sigsetjmp(g.fault_jmp, 1) == 0) {
    for (unsigned long long k = 0; k < blocks && !g.failed; ++k) {
      const unsigned long long b = reverse ? blocks - 1 - k : k;
      blockIdx = uint3{static_cast<unsigned>(b % gr.x), static_cast<unsigned>(b / gr.x % gr.y),
                       static_cast<unsigned>(b / (static_cast<unsigned long long>(gr.x) * gr.y))};
      if (!run_block()) break;
    }
  }
  if (g.failed)
    for (int i = 0; i < n; ++i)
      if (g.threads[i].state != Done) g.fibers[i].dirty = true;
  g.in_kernel = false;
  g.current = -1;
  g_stats.busy += std::chrono::steady_clock::now() - started;
  std::free(g.dyn_smem);
  g.dyn_smem = nullptr;
  g.dyn_bytes = 0;
}

// ---- kernel-side primitives -----------------------------------------------------------------------
namespace {
unsigned long long warp_op(const char* what, const char* file, int line, WarpOp op, unsigned mask) {
  EmuThread& t = me(what);
  t.state = AtWarp;
  t.op = op;
  t.mask = mask;
  t.file = file;
  t.line = line;
  yield_fiber();
  return t.result;
}
int block_op(const char* file, int line, int mode, int pred) {
  EmuThread& t = me("__syncthreads");
  t.state = AtBlock;
  t.mode = mode;
  t.pred = pred;
  t.file = file;
  t.line = line;
  yield_fiber();
  return static_cast<int>(t.result);
}
}  // namespace

void syncthreads(const char* file, int line) { block_op(file, line, 0, 0); }
int syncthreads_count(const char* file, int line, int pred) { return block_op(file, line, 1, pred); }
int syncthreads_and(const char* file, int line, int pred) { return block_op(file, line, 2, pred); }
int syncthreads_or(const char* file, int line, int pred) { return block_op(file, line, 3, pred); }

void syncwarp(const char* file, int line, unsigned mask) { warp_op("__syncwarp", file, line, OpSync, mask); }

unsigned long long warp_shuffle(const char* file, int line, unsigned mask, unsigned long long bits, int mode, int arg,
                                int width) {
  EmuThread& t = me("a warp shuffle");
  if (width < 1 || width > 32 || (width & (width - 1))) {
    launch_error(cudaErrorLaunchFailure, describe_block() + ": shuffle width " + std::to_string(width) +
                                             " at " + file + ":" + std::to_string(line) + " is not a power of 2 up to 32");
    width = 32;
  }
  t.bits = bits;
  t.mode = mode;
  t.arg = arg;
  t.width = width;
  return warp_op("a warp shuffle", file, line, OpShuffle, mask);
}

unsigned warp_ballot(const char* file, int line, unsigned mask, int pred) {
  EmuThread& t = me("a warp vote");
  t.pred = pred;
  return static_cast<unsigned>(warp_op("a warp vote", file, line, OpBallot, mask));
}

unsigned active_mask() {
  me("__activemask");
  const int first = g.current & ~31, last = std::min(first + 32, g.nthreads);
  unsigned m = 0;
  for (int i = first; i < last; ++i)
    if (g.threads[i].state != Done) m |= 1u << lane_of(i);
  return m;
}

void* dynamic_shared() {
  me("extern __shared__");
  return g.dyn_smem;
}

void shared_touch(void* p, size_t bytes, unsigned long long* epoch) {
  if (*epoch == g.block_epoch) return;
  *epoch = g.block_epoch;
  fill_garbage(p, bytes);
}

void trap(const char* file, int line, const char* what) {
  if (!g.in_kernel) {
    report("%s at %s:%d outside a kernel", what, file, line);
    std::abort();
  }
  const EmuThread& t = me(what);
  report("cudaErrorLaunchFailure: %s at %s:%d in %s, thread (%u, %u, %u)", what, file, line, describe_block().c_str(),
         t.tid.x, t.tid.y, t.tid.z);
  g.failed = true;
  record(cudaErrorLaunchFailure);
  g.fibers[g.current].dirty = true;
  siglongjmp(g.fault_jmp, 1);
}

void misaligned_atomic(const void* p, size_t align) {
  if (g.in_kernel && g.current >= 0)
    launch_error(cudaErrorMisalignedAddress, describe_block() + ": an atomic on " + std::to_string(align) +
                                                 "-byte data at a misaligned address");
  else
    record(cudaErrorMisalignedAddress);
  (void)p;
}

long long clock_ticks() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

cudaError_t func_set_attribute(cudaFuncAttribute attr, int value) {
  if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
    if (value < 0 || value > 227 * 1024) return record(cudaErrorInvalidValue);
    if (value > g_smem_optin.load()) g_smem_optin.store(value);
  }
  return cudaSuccess;
}

void on_cache_acquire(void* p, size_t bytes, size_t block) {
  if (!p) return;
#ifdef DENDRITE_EMU_ASAN
  // Addressable up to the next 4-byte word: byte-sized atomics (index.cu) work on the aligned
  // word holding the byte, which is legal inside the block on a GPU.
  const size_t open = std::min(block, (bytes + 3) / 4 * 4);
  ASAN_UNPOISON_MEMORY_REGION(p, open);
  fill_garbage(p, open);
  if (block > open) ASAN_POISON_MEMORY_REGION(static_cast<char*>(p) + open, block - open);
#else
  fill_garbage(p, block > bytes ? block : bytes);
#endif
}

void on_cache_release(void* p, size_t block) {
#ifdef DENDRITE_EMU_ASAN
  if (p) ASAN_POISON_MEMORY_REGION(p, block);
#else
  (void)p, (void)block;
#endif
}

}  // namespace dendrite_emu

using dendrite_emu::record;

// ---- the runtime API -----------------------------------------------------------------------------
namespace {
constexpr const char* kDeviceName = "dendrite CUDA emulator (CPU)";

cudaError_t check_device(int device) {
  if (dendrite_emu::settings().devices == 0) return record(cudaErrorNoDevice);
  if (device != 0) return record(cudaErrorInvalidDevice);
  return cudaSuccess;
}
}  // namespace

cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return record(cudaErrorInvalidValue);
  *count = dendrite_emu::settings().devices;
  return *count ? cudaSuccess : record(cudaErrorNoDevice);
}

cudaError_t cudaGetDevice(int* device) {
  if (!device) return record(cudaErrorInvalidValue);
  *device = 0;
  return check_device(0);
}

cudaError_t cudaSetDevice(int device) { return check_device(device); }

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (!prop) return record(cudaErrorInvalidValue);
  if (cudaError_t e = check_device(device)) return e;
  std::memset(prop, 0, sizeof *prop);
  std::snprintf(prop->name, sizeof prop->name, "%s", kDeviceName);
  prop->totalGlobalMem = dendrite_emu::settings().memory;
  prop->sharedMemPerBlock = 48 * 1024;
  prop->regsPerBlock = 65536;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = 1024;
  prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 2147483647;
  prop->maxGridSize[1] = 65535;
  prop->maxGridSize[2] = 65535;
  prop->totalConstMem = 65536;
  prop->major = 9;
  prop->minor = 0;
  prop->multiProcessorCount = dendrite_emu::settings().sms;
  prop->maxThreadsPerMultiProcessor = 2048;
  prop->sharedMemPerMultiprocessor = 228 * 1024;
  prop->sharedMemPerBlockOptin = 227 * 1024;
  prop->l2CacheSize = 50 << 20;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (!value) return record(cudaErrorInvalidValue);
  if (cudaError_t e = check_device(device)) return e;
  cudaDeviceProp p;
  cudaGetDeviceProperties(&p, device);
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = p.maxThreadsPerBlock; break;
    case cudaDevAttrMaxBlockDimX: *value = p.maxThreadsDim[0]; break;
    case cudaDevAttrMaxBlockDimY: *value = p.maxThreadsDim[1]; break;
    case cudaDevAttrMaxBlockDimZ: *value = p.maxThreadsDim[2]; break;
    case cudaDevAttrMaxGridDimX: *value = p.maxGridSize[0]; break;
    case cudaDevAttrMaxGridDimY: *value = p.maxGridSize[1]; break;
    case cudaDevAttrMaxGridDimZ: *value = p.maxGridSize[2]; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = static_cast<int>(p.sharedMemPerBlock); break;
    case cudaDevAttrTotalConstantMemory: *value = static_cast<int>(p.totalConstMem); break;
    case cudaDevAttrWarpSize: *value = 32; break;
    case cudaDevAttrMaxRegistersPerBlock: *value = p.regsPerBlock; break;
    case cudaDevAttrClockRate: *value = 1000000; break;
    case cudaDevAttrMultiProcessorCount: *value = p.multiProcessorCount; break;
    case cudaDevAttrMemoryClockRate: *value = 1000000; break;
    case cudaDevAttrGlobalMemoryBusWidth: *value = 4096; break;
    case cudaDevAttrL2CacheSize: *value = p.l2CacheSize; break;
    case cudaDevAttrMaxThreadsPerMultiProcessor: *value = p.maxThreadsPerMultiProcessor; break;
    case cudaDevAttrComputeCapabilityMajor: *value = p.major; break;
    case cudaDevAttrComputeCapabilityMinor: *value = p.minor; break;
    case cudaDevAttrMaxSharedMemoryPerMultiprocessor: *value = static_cast<int>(p.sharedMemPerMultiprocessor); break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = static_cast<int>(p.sharedMemPerBlockOptin); break;
    default: return record(cudaErrorInvalidValue);
  }
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() { return check_device(0); }
cudaError_t cudaDeviceReset() { return check_device(0); }

cudaError_t cudaGetLastError() { return static_cast<cudaError_t>(dendrite_emu::g_last_error.exchange(cudaSuccess)); }
cudaError_t cudaPeekAtLastError() { return static_cast<cudaError_t>(dendrite_emu::g_last_error.load()); }

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
#define DENDRITE_EMU_NAME(x) case x: return #x;
    DENDRITE_EMU_NAME(cudaSuccess)
    DENDRITE_EMU_NAME(cudaErrorInvalidValue)
    DENDRITE_EMU_NAME(cudaErrorMemoryAllocation)
    DENDRITE_EMU_NAME(cudaErrorInitializationError)
    DENDRITE_EMU_NAME(cudaErrorInvalidConfiguration)
    DENDRITE_EMU_NAME(cudaErrorInvalidPitchValue)
    DENDRITE_EMU_NAME(cudaErrorInvalidSymbol)
    DENDRITE_EMU_NAME(cudaErrorInvalidDevicePointer)
    DENDRITE_EMU_NAME(cudaErrorInvalidMemcpyDirection)
    DENDRITE_EMU_NAME(cudaErrorInsufficientDriver)
    DENDRITE_EMU_NAME(cudaErrorInvalidDeviceFunction)
    DENDRITE_EMU_NAME(cudaErrorNoDevice)
    DENDRITE_EMU_NAME(cudaErrorInvalidDevice)
    DENDRITE_EMU_NAME(cudaErrorInvalidResourceHandle)
    DENDRITE_EMU_NAME(cudaErrorNotReady)
    DENDRITE_EMU_NAME(cudaErrorIllegalAddress)
    DENDRITE_EMU_NAME(cudaErrorLaunchOutOfResources)
    DENDRITE_EMU_NAME(cudaErrorLaunchTimeout)
    DENDRITE_EMU_NAME(cudaErrorAssert)
    DENDRITE_EMU_NAME(cudaErrorIllegalInstruction)
    DENDRITE_EMU_NAME(cudaErrorMisalignedAddress)
    DENDRITE_EMU_NAME(cudaErrorLaunchFailure)
    DENDRITE_EMU_NAME(cudaErrorNotSupported)
    DENDRITE_EMU_NAME(cudaErrorUnknown)
#undef DENDRITE_EMU_NAME
  }
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected (the emulator was told DENDRITE_CUDA_EMU_DEVICES=0)";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
    case cudaErrorMisalignedAddress: return "misaligned address";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    default: return "an error the CUDA emulator reports (see its message on stderr)";
  }
}

cudaError_t cudaDriverGetVersion(int* v) {
  if (!v) return record(cudaErrorInvalidValue);
  *v = CUDART_VERSION;
  return cudaSuccess;
}
cudaError_t cudaRuntimeGetVersion(int* v) { return cudaDriverGetVersion(v); }

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  if (cudaError_t e = check_device(0)) return e;
  return dendrite_emu::host_alloc(ptr, bytes, dendrite_emu::Kind::Device);
}
cudaError_t cudaFree(void* ptr) { return dendrite_emu::host_free(ptr, dendrite_emu::Kind::Device); }
cudaError_t cudaMallocHost(void** ptr, size_t bytes) { return dendrite_emu::host_alloc(ptr, bytes, dendrite_emu::Kind::Pinned); }
cudaError_t cudaHostAlloc(void** ptr, size_t bytes, unsigned int) { return cudaMallocHost(ptr, bytes); }
cudaError_t cudaFreeHost(void* ptr) { return dendrite_emu::host_free(ptr, dendrite_emu::Kind::Pinned); }

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  auto& m = dendrite_emu::memory();
  std::lock_guard<std::mutex> lock(m.mutex);
  size_t total = dendrite_emu::settings().memory;
  if (free_bytes) *free_bytes = total - m.device_bytes;
  if (total_bytes) *total_bytes = total;
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  return cudaMemcpyAsync(dst, src, bytes, kind, nullptr);
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream) {
  if (!dendrite_emu::valid_stream(stream)) return record(cudaErrorInvalidResourceHandle);
  if (cudaError_t e = dendrite_emu::check_copy("cudaMemcpy", dst, src, bytes, kind)) return e;
  if (bytes) std::memmove(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                              cudaMemcpyKind kind, cudaStream_t stream) {
  if (width > dpitch || width > spitch) return record(cudaErrorInvalidPitchValue);
  for (size_t r = 0; r < height; ++r)
    if (cudaError_t e = cudaMemcpyAsync(static_cast<char*>(dst) + r * dpitch, static_cast<const char*>(src) + r * spitch,
                                        width, kind, stream))
      return e;
  return cudaSuccess;
}

cudaError_t cudaMemset(void* dst, int value, size_t bytes) { return cudaMemsetAsync(dst, value, bytes, nullptr); }

cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t stream) {
  if (!dendrite_emu::valid_stream(stream)) return record(cudaErrorInvalidResourceHandle);
  if (bytes == 0) return cudaSuccess;
  if (!dendrite_emu::is_device_range(dst, bytes)) {
    dendrite_emu::report("cudaMemset: %p (%zu bytes) is not inside one device allocation", dst, bytes);
    return record(cudaErrorInvalidValue);
  }
  std::memset(dst, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, 0); }
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int) {
  if (!stream) return record(cudaErrorInvalidValue);
  if (cudaError_t e = check_device(0)) return e;
  *stream = reinterpret_cast<cudaStream_t>(new dendrite_emu::Token{dendrite_emu::kStreamMagic});
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  if (!stream || !dendrite_emu::valid_stream(stream)) return record(cudaErrorInvalidResourceHandle);
  if (stream != cudaStreamLegacy && stream != cudaStreamPerThread) {
    reinterpret_cast<dendrite_emu::Token*>(stream)->magic = 0;
    delete reinterpret_cast<dendrite_emu::Token*>(stream);
  }
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  return dendrite_emu::valid_stream(stream) ? cudaSuccess : record(cudaErrorInvalidResourceHandle);
}
cudaError_t cudaStreamQuery(cudaStream_t stream) { return cudaStreamSynchronize(stream); }
cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t, unsigned int) { return cudaStreamSynchronize(stream); }
cudaError_t cudaLaunchHostFunc(cudaStream_t stream, cudaHostFn_t fn, void* user_data) {
  if (!dendrite_emu::valid_stream(stream) || !fn) return record(cudaErrorInvalidValue);
  fn(user_data);
  return cudaSuccess;
}

namespace {
struct EmuEvent {
  int magic;
  long long at;
};
bool valid_event(cudaEvent_t e) { return e && reinterpret_cast<EmuEvent*>(e)->magic == dendrite_emu::kEventMagic; }
}  // namespace

cudaError_t cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, 0); }
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int) {
  if (!event) return record(cudaErrorInvalidValue);
  *event = reinterpret_cast<cudaEvent_t>(new EmuEvent{dendrite_emu::kEventMagic, 0});
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t event) {
  if (!valid_event(event)) return record(cudaErrorInvalidResourceHandle);
  reinterpret_cast<EmuEvent*>(event)->magic = 0;
  delete reinterpret_cast<EmuEvent*>(event);
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (!valid_event(event) || !dendrite_emu::valid_stream(stream)) return record(cudaErrorInvalidResourceHandle);
  reinterpret_cast<EmuEvent*>(event)->at = dendrite_emu::clock_ticks();
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  return valid_event(event) ? cudaSuccess : record(cudaErrorInvalidResourceHandle);
}
cudaError_t cudaEventQuery(cudaEvent_t event) { return cudaEventSynchronize(event); }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!ms || !valid_event(start) || !valid_event(end)) return record(cudaErrorInvalidResourceHandle);
  *ms = static_cast<float>(reinterpret_cast<EmuEvent*>(end)->at - reinterpret_cast<EmuEvent*>(start)->at) / 1e6f;
  return cudaSuccess;
}
