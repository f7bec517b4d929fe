// PartitionLog: the log of one partition: an ordered list of segments, the
// last of which is active (appended to). It assigns offsets, serves reads by
// offset and by time as views into the mapped segments, rolls segments by
// size and age, syncs with group commit, and recovers after a crash.
//
// Thread-safety: all methods may be called from any thread. Appends are
// serialised by an internal lock (one partition's batches never
// interleave); reads take no lock on their common path and proceed while
// appends go on; Sync callers share syncs (group commit).
#ifndef RILL_LIB_STORAGE_PARTITION_LOG_H_
#define RILL_LIB_STORAGE_PARTITION_LOG_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "rill/clock.h"
#include "rill/log_sink.h"
#include "rill/recovery.h"
#include "storage/file_system.h"
#include "storage/segment.h"
#include "util/task_runner.h"

namespace rill {

struct PartitionLogOptions {
  SegmentOptions segment;
  // Roll the active segment once its first batch is this old, in ms
  // (segment.ms); 0 never.
  int64_t segment_ms = 7ll * 24 * 3600 * 1000;
  // Largest batch accepted, in bytes (max.message.bytes).
  uint32_t max_batch_bytes = 1048588;
  // Stamp each batch with the log's clock (message.timestamp.type =
  // LogAppendTime) instead of keeping the producer's timestamps.
  bool log_append_time = false;
  // Check the CRC of every appended batch. Batches from rill's own producer
  // are built in this process and need no check; batches from the network do.
  bool check_crc_on_append = false;
  // Offset of the first record of a new, empty log.
  int64_t initial_offset = 0;

  Clock* clock = Clock::Real();
  // Runs prefaulting and the syncing of sealed segments. Null: prefaulting
  // is off and sealed segments are synced only by Sync() and Close().
  TaskRunner* background = nullptr;
  LogSink log_sink;  // Empty: StderrLogSink().
};

struct AppendResult {
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  // The time stamped on the batch, or -1 when the producer's times were kept.
  int64_t log_append_time = -1;
};

// ReadResult: whole batches, the first of which holds the offset asked for
// (or follows it, if that offset is gone), viewed in place. `segment` keeps
// the mapping alive: the view is valid as long as the ReadResult is.
struct ReadResult {
  std::shared_ptr<const Segment> segment;
  std::span<const char> batches;
};

class PartitionLog {
 public:
  // Open(fs, dir, options, &report): opens the partition in `dir`, creating
  // it when missing. Segments below the recovery point are opened lazily, on
  // first read; those after it are checked batch by batch and a torn or
  // corrupt tail is cut off, adding to `report` (may be null).
  static absl::StatusOr<std::unique_ptr<PartitionLog>> Open(FileSystem& fs, const std::string& dir,
                                                           const PartitionLogOptions& options,
                                                           RecoveryReport* report);
  // Closes (see Close) if not closed yet.
  ~PartitionLog();

  // Append(batch): appends one RecordBatch v2 (as BatchBuilder makes it),
  // giving it the next offsets. The caller's bytes are copied; they are not
  // modified. Returns the offsets given. Errors, with nothing appended:
  // kInvalidArgument (not one well-formed batch, or larger than
  // max_batch_bytes), kDataLoss (CRC mismatch, if checked),
  // kResourceExhausted (device full), kFailedPrecondition (closed).
  absl::StatusOr<AppendResult> Append(std::span<const char> batch);

  // start_offset(): the first offset still in the log.
  int64_t start_offset() const;
  // end_offset(): the offset the next record will get.
  int64_t end_offset() const { return end_offset_.load(std::memory_order_acquire); }
  // end_offset_word(): the address of end_offset's value, for waiting.
  const std::atomic<int64_t>& end_offset_atomic() const { return end_offset_; }

  // Read(offset, max_bytes): batches from the one holding `offset`, about
  // max_bytes of them but at least one. Empty at the end of the log.
  // kOutOfRange if `offset` is before start_offset() or after
  // end_offset(); kDataLoss if a batch is damaged (file and position named).
  absl::StatusOr<ReadResult> Read(int64_t offset, size_t max_bytes) const;

  // OffsetForTimestamp(ts): the first offset whose record's timestamp is >=
  // ts, or end_offset() if there is none.
  absl::StatusOr<int64_t> OffsetForTimestamp(int64_t ts) const;

  // Sync(): returns once every batch appended before the call is durable
  // (survives a loss of power). Concurrent callers share syncs.
  absl::Status Sync();

  // Roll(): seals the active segment and starts a new one, if the active one
  // holds anything.
  absl::Status Roll();

  // Close(): syncs everything, trims the active segment, records a clean
  // recovery point and releases the files. Later calls fail with
  // kFailedPrecondition. Readers' ReadResults stay valid.
  absl::Status Close();

  const std::string& dir() const { return dir_; }
  int segment_count() const;
  // size_bytes(): bytes of batches in all segments.
  uint64_t size_bytes() const;

 private:
  struct Slot {
    int64_t base_offset;
    std::shared_ptr<Segment> segment;  // Null until first used.
  };

  PartitionLog(FileSystem& fs, std::string dir, const PartitionLogOptions& options);
  absl::Status Recover(RecoveryReport* report);
  absl::StatusOr<std::shared_ptr<Segment>> SegmentAt(size_t index) const;
  absl::Status RollLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(append_mu_);
  void Log(LogSeverity severity, const std::string& message) const;

  FileSystem& fs_;
  const std::string dir_;
  const PartitionLogOptions options_;

  mutable absl::Mutex append_mu_ ABSL_ACQUIRED_BEFORE(segments_mu_);
  std::shared_ptr<Segment> active_ ABSL_GUARDED_BY(append_mu_);
  bool closed_ ABSL_GUARDED_BY(append_mu_) = false;
  std::atomic<int64_t> end_offset_{0};

  mutable absl::Mutex segments_mu_;
  // Lazily filled in by readers, hence mutable.
  mutable std::vector<Slot> segments_ ABSL_GUARDED_BY(segments_mu_);

  // Group commit: one caller syncs at a time, for everyone who came before.
  absl::Mutex sync_mu_ ABSL_ACQUIRED_AFTER(append_mu_);
  bool sync_running_ ABSL_GUARDED_BY(sync_mu_) = false;
  int64_t synced_offset_ ABSL_GUARDED_BY(sync_mu_) = 0;
  absl::CondVar sync_done_;  // Signalled when a sync ends.
  // Sealed segments not yet synced, and whether the directory holds entries
  // not yet synced.
  std::vector<std::shared_ptr<Segment>> unsynced_sealed_ ABSL_GUARDED_BY(append_mu_);
  bool dir_unsynced_ ABSL_GUARDED_BY(append_mu_) = false;

  // Shared with background tasks, which may outlive this object.
  struct Checkpointer;
  std::shared_ptr<Checkpointer> checkpointer_;
};

}  // namespace rill

#endif  // RILL_LIB_STORAGE_PARTITION_LOG_H_
