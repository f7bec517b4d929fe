#include "cli/signals.h"

#include <pthread.h>

#include <cerrno>
#include <ctime>

namespace rill::cli {

StopSignals::StopSignals() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals_, &old_mask_);
  thread_ = std::thread([this] { Watch(); });
}

StopSignals::~StopSignals() {
  done_.store(true, std::memory_order_release);
  thread_.join();
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

void StopSignals::OnStop(std::function<void()> callback) {
  MutexLock lock(&mu_);
  callback_ = std::move(callback);
  if (stopped() && callback_) callback_();
}

void StopSignals::Watch() {
  // Wakes up now and then to notice that the owner is done: no signal is
  // needed to stop the thread.
  const timespec timeout = {0, 50 * 1000 * 1000};
  while (!done_.load(std::memory_order_acquire)) {
    const int signal = sigtimedwait(&signals_, nullptr, &timeout);
    if (signal < 0) continue;  // EAGAIN (timeout) or EINTR.
    stopped_.store(true, std::memory_order_release);
    MutexLock lock(&mu_);
    if (callback_) callback_();
  }
}

}  // namespace rill::cli
