// Notifier and Waiter: how a consumer sleeps at the end of its partitions
// and is woken by the next append, with no polling and no syscall on the
// append path while nobody sleeps.
//
// Each consumer owns a Waiter (a futex word) registered with the Notifier of
// every partition it reads. To sleep it announces itself (Sleep()), checks
// once more that nothing arrived, then waits on its word. An append calls
// Notify(), which costs one atomic load when no registered consumer sleeps,
// and otherwise bumps and wakes the sleepers' words.
//
// Thread-safety: Notify, Register and Unregister from any thread; a
// Waiter's Prepare/Wait/Finish from its owner's thread; Wake from any.
#ifndef RILL_LIB_CORE_NOTIFIER_H_
#define RILL_LIB_CORE_NOTIFIER_H_

#include <atomic>
#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "util/mutex.h"
#include "absl/time/time.h"

namespace rill::core {

class Waiter {
 public:
  // Prepare(): announces that the owner is about to sleep; returns the word
  // to pass to Wait(). After it, check the condition once more.
  uint32_t Prepare();
  // Wait(word, timeout): sleeps until woken or `timeout` passes, unless a
  // wake came after Prepare() returned `word`.
  void Wait(uint32_t word, absl::Duration timeout);
  // Finish(): the owner is awake again.
  void Finish() { sleeping_.store(false, std::memory_order_relaxed); }
  // Wake(): wakes the owner if it sleeps (or makes its next Wait return).
  void Wake();
  bool sleeping() const { return sleeping_.load(std::memory_order_seq_cst); }

 private:
  std::atomic<uint32_t> word_{0};
  std::atomic<bool> sleeping_{false};
};

class Notifier {
 public:
  void Register(Waiter* waiter);
  void Unregister(Waiter* waiter);
  // AddSleeper / RemoveSleeper: bracket a registered waiter's sleep.
  void AddSleeper() { sleepers_.fetch_add(1, std::memory_order_seq_cst); }
  void RemoveSleeper() { sleepers_.fetch_sub(1, std::memory_order_relaxed); }
  // Notify(): after an append is published, wakes the registered waiters
  // that sleep.
  void Notify() {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_relaxed) > 0) WakeSleepers();
  }

 private:
  void WakeSleepers();

  std::atomic<int32_t> sleepers_{0};
  Mutex mu_;
  std::vector<Waiter*> waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rill::core

#endif  // RILL_LIB_CORE_NOTIFIER_H_
