// SendTracker: counts the outcomes of a producer's SendAsync callbacks and
// keeps the first error, so that a command can tell, after Flush, whether
// every record was appended.
//
// Thread-safety: Callback() runs on any thread; the rest may be called from
// any thread too.
#ifndef RILL_LIB_CLI_SEND_TRACKER_H_
#define RILL_LIB_CLI_SEND_TRACKER_H_

#include <atomic>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "util/mutex.h"
#include "rill/producer.h"

namespace rill::cli {

class SendTracker {
 public:
  // Callback(): a SendCallback that records its outcome here. The tracker
  // must outlive the producer's Flush.
  SendCallback Callback() {
    return [this](const absl::StatusOr<RecordPosition>& result) {
      if (result.ok()) {
        acked_.fetch_add(1, std::memory_order_relaxed);
      } else {
        Failed(result.status());
      }
    };
  }

  // Failed(status): counts one record as failed.
  void Failed(const absl::Status& status) {
    failed_.fetch_add(1, std::memory_order_relaxed);
    MutexLock lock(&mu_);
    if (first_error_.ok()) first_error_ = status;
  }

  int64_t acked() const { return acked_.load(std::memory_order_relaxed); }
  int64_t failed() const { return failed_.load(std::memory_order_relaxed); }
  absl::Status first_error() const {
    MutexLock lock(&mu_);
    return first_error_;
  }

 private:
  std::atomic<int64_t> acked_{0};
  std::atomic<int64_t> failed_{0};
  mutable Mutex mu_;
  absl::Status first_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rill::cli

#endif  // RILL_LIB_CLI_SEND_TRACKER_H_
