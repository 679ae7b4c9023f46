#include "thread_pool.h"
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>
#if defined(__linux__)
#include <sched.h>
#endif

namespace dendrite {
namespace {

thread_local bool t_in_worker = false;

int count_physical_cores() {
  int logical = static_cast<int>(std::thread::hardware_concurrency());
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    // Count distinct cores among the CPUs we may run on: SMT siblings share a core.
    std::set<std::string> cores;
    int allowed = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (!CPU_ISSET(cpu, &set)) continue;
      ++allowed;
      std::ifstream f("/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/thread_siblings_list");
      std::string siblings;
      if (f && std::getline(f, siblings)) cores.insert(siblings);
      else cores.insert("cpu" + std::to_string(cpu));
    }
    if (!cores.empty()) return static_cast<int>(cores.size());
    if (allowed > 0) return allowed;
  }
#endif
  return std::max(1, logical);
}

class ThreadPool {
 public:
  ThreadPool() {
    int n = physical_cores_ = count_physical_cores();
    if (const char* env = std::getenv("DENDRITE_NUM_THREADS")) {
      int v = std::atoi(env);
      if (v > 0) n = v;
    }
    resize(n);
  }
  ~ThreadPool() { stop_workers(); }

  int size() const { return size_; }
  int physical() const { return physical_cores_; }

  void resize(int n) {
    n = std::max(1, std::min(n, 1024));
    std::lock_guard<std::mutex> run_lock(run_mutex_);
    stop_workers();
    size_ = n;
    stop_ = false;
    for (int i = 0; i < n - 1; ++i) workers_.emplace_back([this] { worker_loop(); });
  }

  void run(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
    int64_t total = end - begin;
    if (total <= 0) return;
    grain = std::max<int64_t>(1, grain);
    int64_t max_chunks = std::min<int64_t>(size_, (total + grain - 1) / grain);
    if (max_chunks <= 1 || t_in_worker) {
      fn(begin, end);
      return;
    }
    std::lock_guard<std::mutex> run_lock(run_mutex_);  // one parallel region at a time
    int64_t chunk = (total + max_chunks - 1) / max_chunks;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &fn;
      job_begin_ = begin;
      job_end_ = end;
      job_chunk_ = chunk;
      job_chunks_ = (total + chunk - 1) / chunk;
      next_chunk_.store(0);
      pending_ = job_chunks_;
      error_ = nullptr;
      ++generation_;
    }
    cv_work_.notify_all();
    t_in_worker = true;
    work_on_chunks();
    t_in_worker = false;
    std::unique_lock<std::mutex> lock(mutex_);
    cv_done_.wait(lock, [this] { return pending_ == 0; });
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void work_on_chunks() {
    for (;;) {
      int64_t c = next_chunk_.fetch_add(1);
      if (c >= job_chunks_) return;
      int64_t lo = job_begin_ + c * job_chunk_;
      int64_t hi = std::min(job_end_, lo + job_chunk_);
      try {
        (*job_)(lo, hi);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) cv_done_.notify_all();
    }
  }

  void worker_loop() {
    t_in_worker = true;
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_work_.wait(lock, [&] { return stop_ || (generation_ != seen && job_ != nullptr); });
        if (stop_) return;
        seen = generation_;
      }
      work_on_chunks();
    }
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_work_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  int size_ = 1;
  int physical_cores_ = 1;
  std::vector<std::thread> workers_;
  std::mutex run_mutex_;
  std::mutex mutex_;
  std::condition_variable cv_work_, cv_done_;
  bool stop_ = false;
  uint64_t generation_ = 0;
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t job_begin_ = 0, job_end_ = 0, job_chunk_ = 1, job_chunks_ = 0;
  std::atomic<int64_t> next_chunk_{0};
  int64_t pending_ = 0;
  std::exception_ptr error_;
};

ThreadPool& pool() {
  static ThreadPool p;
  return p;
}

}  // namespace

int num_threads() { return pool().size(); }
void set_num_threads(int n) { pool().resize(n); }
int physical_cores() { return pool().physical(); }

void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  pool().run(begin, end, grain, fn);
}

}  // namespace dendrite
