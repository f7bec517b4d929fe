// StopSignals: lets a long-running command stop cleanly on Ctrl-C or a
// SIGTERM -- closing the log, so that the next open has nothing to recover --
// instead of dying in the middle of its work.
//
// While a StopSignals lives, SIGINT and SIGTERM are blocked in the thread
// that created it and in every thread started after it (create it before
// opening the log), and a helper thread waits for them: the first one sets
// stopped() and runs the callback given to OnStop, on that helper thread.
//
// Thread-safety: stopped() and OnStop() may be called from any thread.
#ifndef RILL_LIB_CLI_SIGNALS_H_
#define RILL_LIB_CLI_SIGNALS_H_

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "util/mutex.h"

namespace rill::cli {

class StopSignals {
 public:
  StopSignals();
  // Stops the helper thread and unblocks the signals in this thread.
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // OnStop(callback): runs `callback` when a signal arrives (at once if one
  // already has). It must be quick and thread-safe, e.g. Consumer::Wakeup.
  // A null callback removes it.
  void OnStop(std::function<void()> callback);
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }

 private:
  void Watch();

  sigset_t signals_;
  sigset_t old_mask_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> done_{false};
  Mutex mu_;
  std::function<void()> callback_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace rill::cli

#endif  // RILL_LIB_CLI_SIGNALS_H_
