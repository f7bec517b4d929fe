// PartitionLog::Checkpointer: advances a partition's recovery point as its
// sealed segments become durable, and as segments leave the log. Shared with
// background tasks, which may finish after the PartitionLog is gone.
//
// The recovery point (segment, 0) promises that every segment before
// `segment` is synced. Segments are added to `syncing` when sealed and
// leave it when synced, deleted, or replaced by a synced cleaned copy; the
// point is then the first segment still in `syncing`, or the active one.
//
// It also holds the log's failure: once a sync of its data fails, the point
// never moves again (see Fail).
//
// Thread-safety: every method takes `mu`.
#ifndef RILL_LIB_STORAGE_CHECKPOINTER_H_
#define RILL_LIB_STORAGE_CHECKPOINTER_H_

#include <atomic>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "rill/log_sink.h"
#include "storage/partition_log.h"
#include "storage/recovery_point.h"
#include "storage/sync_failures.h"
#include "util/mutex.h"

namespace rill {

struct PartitionLog::Checkpointer {
  Checkpointer(FileSystem& f, std::string d, LogSink s)
      : fs(f), dir(std::move(d)), sink(std::move(s)) {}

  // OnSynced(base): the sealed segment `base` is durable.
  void OnSynced(int64_t base) {
    MutexLock lock(&mu);
    syncing.erase(base);
    if (!closed) (void)AdvanceLocked(-1);
  }

  // Drop(base): the segment `base` was deleted. It no longer holds the
  // recovery point back; the point on disk moves at the next advance (a
  // point naming a deleted segment only makes recovery check more).
  void Drop(int64_t base) {
    MutexLock lock(&mu);
    syncing.erase(base);
  }

  // Forget(bases, must_pass): the segments `bases` left the log (or were
  // replaced by a synced copy). Returns once the recovery point on disk lies
  // past segment `must_pass` (-1: no such demand), or the error that
  // prevented it.
  absl::Status Forget(const std::vector<int64_t>& bases, int64_t must_pass) {
    MutexLock lock(&mu);
    for (int64_t base : bases) syncing.erase(base);
    if (closed) return absl::FailedPreconditionError(absl::StrCat(dir, " is closed"));
    return AdvanceLocked(must_pass);
  }

  // Fail(status): a sync of the log's data failed with `status`. Linux
  // marks the pages it could not write as clean, and reports the error once:
  // a later sync of the same bytes can succeed without writing them. So the
  // log stops where it is -- the recovery point never moves again, and
  // PartitionLog refuses appends and syncs (Failure()) until reopened, as
  // Kafka takes a log directory offline. Keeps the first failure.
  void Fail(const absl::Status& status) {
    MutexLock lock(&mu);
    FailLocked(status);
  }

  // FailInBackground(status): Fail, from a task that may run after Close().
  // Then Close() had synced the segment itself, successfully (a segment
  // keeps its first sync failure, so it would have met this one), and the
  // directory may be on its way out: only say so.
  void FailInBackground(const absl::Status& status) {
    MutexLock lock(&mu);
    if (closed) {
      sink(LogSeverity::kWarning,
           absl::StrCat("a sync of ", dir, " failed after it was closed: ", status.message()));
      return;
    }
    FailLocked(status);
  }

  void FailLocked(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (failed.load(std::memory_order_relaxed)) return;
    failure = status;
    failed.store(true, std::memory_order_release);
    NoteSyncFailure(fs, dir, status, sink);  // For the next open.
    sink(LogSeverity::kError, absl::StrCat("a sync of ", dir, " failed: ", status.message(),
                                           "; it takes no more writes until reopened"));
  }

  // Failure(): the error every append and sync returns once Fail was called.
  absl::Status Failure() {
    MutexLock lock(&mu);
    return absl::FailedPreconditionError(absl::StrCat(
        "a sync of ", dir, " failed (", failure.message(),
        "): records appended since the last good sync may not survive a power loss, and the "
        "log takes no more writes; reopen it to recover"));
  }

  absl::Status AdvanceLocked(int64_t must_pass) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (failed.load(std::memory_order_relaxed)) {
      return absl::FailedPreconditionError(
          absl::StrCat("a sync of ", dir, " failed: its recovery point stays where it was"));
    }
    const int64_t point = syncing.empty() ? active_base : *syncing.begin();
    if (point <= written_base && written_base > must_pass) return absl::OkStatus();
    if (point <= must_pass) {
      return absl::FailedPreconditionError(
          absl::StrCat("segment ", point, " of ", dir, " is not synced yet"));
    }
    if (absl::Status s = WriteRecoveryPoint(fs, dir, {point, 0}); !s.ok()) {
      sink(LogSeverity::kWarning,
           absl::StrCat("cannot record recovery point in ", dir, ": ", s.message()));
      return s;
    }
    written_base = point;
    return absl::OkStatus();
  }

  FileSystem& fs;
  const std::string dir;
  const LogSink sink;
  Mutex mu;
  bool closed ABSL_GUARDED_BY(mu) = false;
  std::set<int64_t> syncing ABSL_GUARDED_BY(mu);
  int64_t active_base ABSL_GUARDED_BY(mu) = 0;
  int64_t written_base ABSL_GUARDED_BY(mu) = -1;
  // Set once, by Fail; read without the lock on every append.
  std::atomic<bool> failed{false};
  absl::Status failure ABSL_GUARDED_BY(mu);
};

}  // namespace rill

#endif  // RILL_LIB_STORAGE_CHECKPOINTER_H_
