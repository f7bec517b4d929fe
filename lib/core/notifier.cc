#include "core/notifier.h"

#include <algorithm>

#include "util/futex.h"

namespace rill::core {

uint32_t Waiter::Prepare() {
  sleeping_.store(true, std::memory_order_seq_cst);
  const uint32_t word = word_.load(std::memory_order_seq_cst);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return word;
}

void Waiter::Wait(uint32_t word, absl::Duration timeout) {
  if (timeout <= absl::ZeroDuration()) return;
  if (timeout == absl::InfiniteDuration()) {
    FutexWait(&word_, word, nullptr);
    return;
  }
  const timespec ts = absl::ToTimespec(timeout);
  FutexWait(&word_, word, &ts);
}

void Waiter::Wake() {
  word_.fetch_add(1, std::memory_order_seq_cst);
  FutexWakeAll(&word_);
}

void Notifier::Register(Waiter* waiter) {
  MutexLock lock(&mu_);
  waiters_.push_back(waiter);
}

void Notifier::Unregister(Waiter* waiter) {
  MutexLock lock(&mu_);
  waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), waiter), waiters_.end());
}

void Notifier::WakeSleepers() {
  MutexLock lock(&mu_);
  for (Waiter* w : waiters_) {
    if (w->sleeping()) w->Wake();
  }
}

}  // namespace rill::core
