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
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "rill/clock.h"
#include "rill/log_sink.h"
#include "rill/recovery.h"
#include "rill/retention.h"
#include "storage/file_system.h"
#include "storage/segment.h"
#include "util/cpu.h"
#include "util/mutex.h"
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

  // position(): where `batches` start in `segment`'s bytes (0 when empty).
  uint64_t position() const {
    return segment == nullptr ? 0 : static_cast<uint64_t>(batches.data() - segment->data());
  }
};

// ReadHint: what a reader learnt from its last Read, to make the next one
// skip the index: in the segment whose Segment::id() is `segment_id`, the
// batch at byte `position` is the first whose last offset is at or past
// `offset` (or `position` is the segment's end). Only a Read of that very
// offset uses it. The default hint names no segment.
struct ReadHint {
  uint64_t segment_id = 0;
  uint64_t position = 0;
  int64_t offset = -1;
};

// SegmentInfo: one segment of a partition, as ListSegments() found it.
struct SegmentInfo {
  int64_t base_offset = 0;
  // One past the last offset of its last batch (base_offset when empty).
  int64_t next_offset = 0;
  // Greatest batch maxTimestamp; -1 when empty.
  int64_t max_timestamp = -1;
  // The active segment only: when it received its first batch (see
  // Segment::first_append_ms); -1 otherwise.
  int64_t first_append_ms = -1;
  // Bytes of batches, and bytes its three files take on the device.
  uint64_t bytes = 0;
  uint64_t file_bytes = 0;
  bool active = false;
  std::shared_ptr<const Segment> segment;
};

// Why segments were removed, for removal_stats().
enum class RemovalReason {
  kRetention,  // retention.ms or retention.bytes.
  kDiskLimit,  // A topic's quota or the log's disk budget (drop-oldest).
};

// What DeleteOldestSegments removed.
struct DeletedSegments {
  int64_t segments = 0;
  int64_t records = 0;
  uint64_t bytes = 0;       // Bytes of batches.
  uint64_t file_bytes = 0;  // Bytes the files took on the device.
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

  // Append(batch, now_ms, published): appends one RecordBatch v2 (as
  // BatchBuilder makes it), giving it the next offsets. The caller's bytes
  // are copied; they are not modified. Returns the offsets given. Errors,
  // with nothing appended: kInvalidArgument (not one well-formed batch, or
  // larger than max_batch_bytes), kDataLoss (CRC mismatch, if checked),
  // kResourceExhausted (device full), kFailedPrecondition (closed, or a sync
  // failed: see Sync).
  //
  // `now_ms`: the log's clock (NowMillis) as the caller has just read it, to
  // save reading it again; -1 to read it here. It serves segment_ms and the
  // populator's pace, which a reading made while another append held the
  // lock only blurs by that wait. A log-append-time partition always reads
  // the clock here, under its append lock, so that its batches' times never
  // go back.
  //
  // `published` runs once the batch is visible to readers, before the append
  // goes on to fault in pages ahead (Populator::kWriter), so that a reader
  // woken there does not wait for that.
  absl::StatusOr<AppendResult> Append(
      std::span<const char> batch, int64_t now_ms = -1,
      absl::FunctionRef<void()> published = [] {});

  // start_offset(): the first offset still in the log.
  int64_t start_offset() const;
  // end_offset(): the offset the next record will get.
  int64_t end_offset() const { return end_offset_.load(std::memory_order_acquire); }
  // end_offset_word(): the address of end_offset's value, for waiting.
  const std::atomic<int64_t>& end_offset_atomic() const { return end_offset_; }

  // Read(offset, max_bytes): batches from the one holding `offset`, about
  // max_bytes of them but at least one, none past end_offset() as the call
  // found it. Empty at the end of the log. A `hint` for `offset` (see
  // ReadHint) spares the index lookup and the walk from its entry -- what a
  // reader at the tail pays on every Read; a stale one is ignored.
  // kOutOfRange if `offset` is before start_offset() or after
  // end_offset(). The batches stop before a damaged one; kDataLoss (file and
  // position named) if the batch holding `offset` is damaged.
  absl::StatusOr<ReadResult> Read(int64_t offset, size_t max_bytes,
                                  const ReadHint& hint = {}) const;

  // OffsetForTimestamp(ts): the first offset whose record's timestamp is >=
  // ts, or end_offset() if there is none.
  absl::StatusOr<int64_t> OffsetForTimestamp(int64_t ts) const;

  // WarmTail(): for a reader about to wait at the end of the log: maps the
  // pages the next appends will fill, where no writer maps them ahead
  // (Segment::WarmReaderPages). A no-op unless segments are written through
  // their files.
  void WarmTail() const;

  // Sync(): returns once every batch appended before the call is durable
  // (survives a loss of power). Concurrent callers share syncs.
  // kFailedPrecondition once closed (Close made everything durable).
  // A failed sync returns the file system's error and stops the log: from
  // then on Append, Sync and Roll fail with kFailedPrecondition, naming the
  // first failure, and are not retried -- Linux may have marked the pages it
  // could not write as clean, and a retry would succeed without writing
  // them. Reads go on. Close() then releases the files without syncing or
  // recording a recovery point, and the next Open checks the data past the
  // recovery point and writes it again before syncing it (the failure left
  // a segment::kSyncFailedFile for it).
  absl::Status Sync();

  // failed(): whether a sync failed (see Sync).
  bool failed() const;

  // Reconfigure(options): adopts options.segment (for segments created from
  // now on), segment_ms, max_batch_bytes and log_append_time for the appends
  // that follow, as a topic's settings change while it is open. The other
  // fields of `options` are ignored.
  void Reconfigure(const PartitionLogOptions& options);

  // Roll(): seals the active segment and starts a new one, if the active one
  // holds anything.
  absl::Status Roll();

  // Close(): syncs everything, trims the active segment, records a clean
  // recovery point and releases the files. After a failed sync it only
  // releases them, and returns that failure. Later calls (Append, Read,
  // OffsetForTimestamp, Sync, Roll, Close) fail with kFailedPrecondition.
  // Readers' ReadResults stay valid.
  absl::Status Close();

  const std::string& dir() const { return dir_; }
  FileSystem& fs() const { return fs_; }
  const PartitionLogOptions& options() const { return options_; }
  int segment_count() const;
  // size_bytes(): bytes of batches in all segments.
  uint64_t size_bytes() const;

  // --- Retention and compaction (partition_log_maintenance.cc) ---
  //
  // Segments leave a partition only from the front (retention, quotas) or
  // by being replaced with a cleaned copy of the same offsets (compaction);
  // the active segment is never removed. Maintenance calls are serialised
  // with each other; appends and reads go on meanwhile.

  // ListSegments(): every segment, oldest first; the last is the active one.
  // Opens segments not opened yet (a few pages each). kFailedPrecondition
  // once closed.
  absl::StatusOr<std::vector<SegmentInfo>> ListSegments() const;

  // OldestSealedSegment(): the first segment, or nullopt when that is the
  // active one. kFailedPrecondition once closed.
  absl::StatusOr<std::optional<SegmentInfo>> OldestSealedSegment() const;

  // RollIf(should_roll): seals the active segment and starts a new one if it
  // holds batches and should_roll(its info) says so, under the append lock.
  // Returns whether it rolled.
  absl::StatusOr<bool> RollIf(const std::function<bool(const SegmentInfo&)>& should_roll);

  // DeleteOldestSegments(count, reason): deletes up to `count` segments from
  // the front, never the active one; start_offset() moves past them. Their
  // files are released at once, each segment's removal made durable before
  // the next one's, so a crash never leaves a hole (at worst the last
  // segment deleted comes back, still at the front). Readers holding a
  // ReadResult keep their view; later reads of those offsets get
  // kOutOfRange. Counted in removal_stats() under `reason`.
  absl::StatusOr<DeletedSegments> DeleteOldestSegments(int64_t count, RemovalReason reason);

  // NewCleanedSegment(base, max_bytes): an empty segment written beside the
  // log under the names "<base>.log.cleaned" etc., for ReplaceSegments,
  // that may grow to max_bytes (or segment.bytes if larger). Grows without
  // prefaulting; its growth is counted in options().segment.usage.
  absl::StatusOr<std::shared_ptr<Segment>> NewCleanedSegment(int64_t base,
                                                             uint64_t max_bytes) const;

  // DiscardCleanedSegment(base): removes the files of a cleaned segment
  // that will not be used.
  void DiscardCleanedSegment(int64_t base) const;

  // ReplaceSegments(replaced, cleaned, records_removed): swaps the sealed
  // segments whose bases are `replaced` (consecutive, oldest first) for
  // `cleaned`, a sealed, synced segment from NewCleanedSegment(replaced[0])
  // holding the same offset range. The swap is atomic across a crash (see
  // docs/FORMAT.md, "Compaction"): the replaced segments, or the cleaned
  // one, never a mix. kAborted, with nothing changed and the cleaned files
  // removed, if the segments are no longer all there (retention deleted some
  // meanwhile). Errors before the commit point leave the log unchanged;
  // after it, the log stays readable and the swap is finished at the next
  // open.
  absl::Status ReplaceSegments(const std::vector<int64_t>& replaced,
                               std::shared_ptr<Segment> cleaned, int64_t records_removed);

  // removal_stats(): what retention, disk limits and compaction removed
  // since the partition was opened.
  RemovalCounts removal_stats() const;

 private:
  struct Slot {
    int64_t base_offset;
    std::shared_ptr<Segment> segment;  // Null until first used.
  };

  PartitionLog(FileSystem& fs, std::string dir, const PartitionLogOptions& options);
  absl::Status Recover(RecoveryReport* report);
  // SegmentFrom(offset, after, clamp): the segment holding `offset` (the
  // last one whose base is at or below it), opening it if needed -- or the
  // one after it, if that is `after`. Null past the last segment.
  // kOutOfRange when `offset` lies before the first segment, unless `clamp`
  // (then the first segment); kFailedPrecondition once closed.
  absl::StatusOr<std::shared_ptr<Segment>> SegmentFrom(int64_t offset, const Segment* after,
                                                       bool clamp) const;
  absl::StatusOr<std::shared_ptr<Segment>> LoadSlot(size_t index) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(segments_mu_);
  // SegmentInfoOf(segment): its SegmentInfo (first_append_ms from the
  // active segment only: call with append_mu_ held for it).
  static SegmentInfo SegmentInfoOf(std::shared_ptr<Segment> segment, bool active);
  // UpTo(batches, end): the leading batches that end before offset `end`.
  static std::span<const char> UpTo(std::span<const char> batches, int64_t end);
  // FailIfNot(sync_status): a sync's status, passed on; if it failed, the
  // log fails (see Sync).
  absl::Status FailIfNot(absl::Status sync_status);
  // SyncOnce(): the group-commit leader's work: makes durable what was
  // appended before it began, then advances durable_offset_.
  absl::Status SyncOnce();
  // GatherCallers(): before a leader syncs, waits (yielding) until as many
  // callers arrived since the last sync began as were inside Sync() at its
  // busiest moment, for at most half the last sync's duration (and 0.5 ms).
  void GatherCallers();
  // RaiseDurableOffset(end): durable_offset_ = max(durable_offset_, end).
  void RaiseDurableOffset(int64_t end);
  // AcquireSyncLead(): waits until no one leads (syncs), then leads.
  // ReleaseSyncLead(): stops leading and wakes the sleepers.
  void AcquireSyncLead();
  void ReleaseSyncLead();
  // SleepWhileEpoch(epoch): sleeps until sync_epoch_ moves past `epoch`
  // (or spuriously).
  void SleepWhileEpoch(uint32_t epoch);
  absl::Status RollLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(append_mu_);
  void Log(LogSeverity severity, const std::string& message) const;

  FileSystem& fs_;
  const std::string dir_;
  const PartitionLogOptions options_;

  // Serialises DeleteOldestSegments and ReplaceSegments.
  Mutex maintenance_mu_ ABSL_ACQUIRED_BEFORE(append_mu_);
  // A swap failed after its commit point: the files are in a state only the
  // next open sorts out, so segments are no longer deleted or replaced.
  bool swap_unfinished_ ABSL_GUARDED_BY(maintenance_mu_) = false;

  mutable Mutex append_mu_ ABSL_ACQUIRED_BEFORE(segments_mu_);
  // What Reconfigure() changes; options_ is as opened.
  struct Settings {
    SegmentOptions segment;  // For new segments.
    int64_t segment_ms = 0;
    uint32_t max_batch_bytes = 0;
    bool log_append_time = false;
  };
  Settings settings_ ABSL_GUARDED_BY(append_mu_);
  std::shared_ptr<Segment> active_ ABSL_GUARDED_BY(append_mu_);
  // Set under append_mu_ by Close(); atomic so that Sync() can read it
  // without the lock.
  std::atomic<bool> closed_{false};
  // Whether the recovery point on disk already says what Close() would
  // write -- the log was opened clean, or just recovered, and nothing was
  // appended since -- so that closing a log that was only read writes
  // nothing.
  bool recovery_point_current_ ABSL_GUARDED_BY(append_mu_) = false;
  // Written by the appender, polled by readers: a line of its own, apart
  // from the readers' segments_mu_ (a shared line cost each message a
  // cross-core round trip more).
  alignas(kCacheLine) std::atomic<int64_t> end_offset_{0};

  alignas(kCacheLine) mutable Mutex segments_mu_;
  // Lazily filled in by readers, hence mutable.
  mutable std::vector<Slot> segments_ ABSL_GUARDED_BY(segments_mu_);

  // Group commit: one caller at a time (the leader, who set sync_running_)
  // syncs everything appended before it began; the others sleep on
  // sync_epoch_, which moves after each sync, and return without taking a
  // lock once durable_offset_ covers them.
  std::atomic<bool> sync_running_{false};
  std::atomic<uint32_t> sync_epoch_{0};
  std::atomic<int32_t> sync_sleepers_{0};
  std::atomic<int64_t> durable_offset_{0};  // Every offset below it is durable.
  // Callers inside Sync() now, the most seen since the last sync began, and
  // how long the last sync took: a leader that saw several callers waits a
  // moment for them to append again, so one sync serves them all.
  std::atomic<int32_t> sync_callers_{0};
  std::atomic<int32_t> sync_callers_peak_{0};
  std::atomic<int64_t> last_sync_us_{0};
  // Calls that went on to wait for a sync, and how many had when the
  // current (or last) sync began; the latter read and written by leaders only.
  std::atomic<int64_t> sync_arrivals_{0};
  int64_t captured_arrivals_ = 0;
  // Sealed segments not yet synced, and whether the directory holds entries
  // not yet synced.
  std::vector<std::shared_ptr<Segment>> unsynced_sealed_ ABSL_GUARDED_BY(append_mu_);
  bool dir_unsynced_ ABSL_GUARDED_BY(append_mu_) = false;

  // Shared with background tasks, which may outlive this object.
  struct Checkpointer;
  std::shared_ptr<Checkpointer> checkpointer_;

  struct RemovalCounters {
    std::atomic<int64_t> segments{0};
    std::atomic<int64_t> records{0};
    std::atomic<uint64_t> bytes{0};
  };
  RemovalCounters expired_;
  RemovalCounters dropped_;
  RemovalCounters compacted_;
};

}  // namespace rill

#endif  // RILL_LIB_STORAGE_PARTITION_LOG_H_
