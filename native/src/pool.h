// The addon's own threads. BLAS runs single-threaded inside each of them, so that the process
// never has more busy threads than the policy allows: OpenBLAS's own workers spin after a call and
// took the second core from V8 and from our loops (measured on 2 cores). The calling (JavaScript) thread
// always takes the first share of the work; workers sleep on a condition variable between calls
// (spinning for the next kernel measured no faster here, and would take a core from V8).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace pool {

class Pool {
 public:
  ~Pool() { resize(1); }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int threads) {
    std::lock_guard<std::mutex> owner(running_);
    threads = threads < 1 ? 1 : threads;
    if (threads == size()) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      generation_++;
    }
    wake_.notify_all();
    for (std::thread& worker : workers_) worker.join();
    workers_.clear();
    stopping_ = false;
    // Each worker starts from the generation current now, so that a job published before the
    // thread first runs is still taken.
    const uint64_t start = generation_;
    for (int index = 1; index < threads; index++) workers_.emplace_back([this, start] { work(start); });
  }

  // Runs part(0) … part(parts − 1) and returns when all are done. Threads take parts as they come
  // free, the calling one too, so a worker that wakes late (tens of microseconds in a VM) or loses
  // its core to V8 for a while costs only its share of what is left. Another JavaScript thread
  // (a worker_thread with its own TF.js) that finds the pool busy runs its parts itself.
  void run(int parts, const std::function<void(int)>& part) {
    std::unique_lock<std::mutex> owner(running_, std::try_to_lock);
    if (parts <= 1 || workers_.empty() || !owner.owns_lock()) {
      for (int index = 0; index < parts; index++) part(index);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &part;
      parts_ = parts;
      next_.store(0, std::memory_order_relaxed);
      remaining_.store(parts, std::memory_order_relaxed);
      generation_++;
    }
    wake_.notify_all();
    drain(part, parts);
    while (remaining_.load(std::memory_order_acquire) > 0) std::this_thread::yield();
    // Retire the job once no worker holds it, so that a worker waking only now skips it.
    for (;;) {
      std::unique_lock<std::mutex> lock(mutex_);
      if (active_.load(std::memory_order_acquire) == 0) {
        job_ = nullptr;
        parts_ = 0;
        return;
      }
      lock.unlock();
      std::this_thread::yield();
    }
  }

 private:
  void drain(const std::function<void(int)>& part, int parts) {
    for (;;) {
      const int index = next_.fetch_add(1, std::memory_order_relaxed);
      if (index >= parts) return;
      part(index);
      remaining_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  void work(uint64_t seen) {
    for (;;) {
      const std::function<void(int)>* job;
      int parts;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_ != seen || stopping_; });
        if (stopping_) return;
        seen = generation_;
        if (!job_) continue;
        job = job_;
        parts = parts_;
        // Taken under the lock: the job cannot be retired while this worker may still run a part of it.
        active_.fetch_add(1, std::memory_order_acq_rel);
      }
      drain(*job, parts);
      active_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  std::vector<std::thread> workers_;
  std::mutex running_;
  std::mutex mutex_;
  std::condition_variable wake_;
  const std::function<void(int)>* job_ = nullptr;
  int parts_ = 0;
  uint64_t generation_ = 0;
  std::atomic<int> next_{0};
  std::atomic<int> remaining_{0};
  std::atomic<int> active_{0};
  bool stopping_ = false;
};

inline Pool& shared() {
  static Pool instance;
  return instance;
}

// Splits [0, count) into contiguous ranges of at least `grain` (at most `perThread` per thread) and
// runs body(begin, end) on each, in parallel; small counts run on the calling thread alone.
template <typename Body>
void parallelFor(int64_t count, int64_t grain, const Body& body, int perThread = 4) {
  Pool& threads = shared();
  int64_t parts = grain > 0 ? count / grain : count;
  const int64_t most = static_cast<int64_t>(threads.size()) * perThread;
  parts = parts > most ? most : parts;
  if (threads.size() <= 1 || parts <= 1) {
    if (count > 0) body(int64_t{0}, count);
    return;
  }
  const std::function<void(int)> part = [&](int index) {
    const int64_t begin = count * index / parts, end = count * (index + 1) / parts;
    if (begin < end) body(begin, end);
  };
  threads.run(static_cast<int>(parts), part);
}

}  // namespace pool
