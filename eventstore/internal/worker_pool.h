// A fixed set of threads that run the iterations of a parallel loop. Used to sign a commit
// group and to verify the log on every core.
//
// Thread-safety: ParallelFor may be called from one thread at a time.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace vaxledger::eventstore::internal {

class WorkerPool {
 public:
  // `threads` in total, counting the caller of ParallelFor; 0 = one per hardware thread.
  explicit WorkerPool(size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  size_t threads() const { return helpers_.size() + 1; }

  // Calls fn(i) for every i in [0, n), spread over the pool and the calling thread, and returns
  // when all calls have returned. `fn` must not throw.
  void ParallelFor(size_t n, const std::function<void(size_t)>& fn);

 private:
  void HelperLoop();
  void RunShare();

  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  const std::function<void(size_t)>* fn_ = nullptr;
  size_t n_ = 0;
  size_t next_ = 0;      // next index to hand out
  size_t finished_ = 0;  // indices finished
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::vector<std::thread> helpers_;
};

}  // namespace vaxledger::eventstore::internal
