// A reader-writer lock that prefers writers: while a writer waits, new readers wait too. The
// registry's views have many short readers (deciding commands, queries) and one writer (the
// follower applying events); std::shared_mutex on glibc prefers readers, which starves the
// follower under load, and every command waits for the follower.
//
// Meets the SharedMutex requirements, so std::shared_lock and std::unique_lock work with it.
// Thread-safe.
#pragma once

#include <pthread.h>

namespace vaxledger::projections::internal {

class RwLock {
 public:
  RwLock() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  ~RwLock() { pthread_rwlock_destroy(&lock_); }
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;

  void lock() { pthread_rwlock_wrlock(&lock_); }
  bool try_lock() { return pthread_rwlock_trywrlock(&lock_) == 0; }
  void unlock() { pthread_rwlock_unlock(&lock_); }
  void lock_shared() { pthread_rwlock_rdlock(&lock_); }
  bool try_lock_shared() { return pthread_rwlock_tryrdlock(&lock_) == 0; }
  void unlock_shared() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

}  // namespace vaxledger::projections::internal
