// CleaningJob: log compaction of one partition, as Kafka's log cleaner does
// it, in steps of bounded work so that it shares the log's background
// threads with the work that keeps appends fast.
//
// The cleanable section is every sealed segment up to the first whose newest
// record is younger than min.compaction.lag.ms (the active segment is never
// cleaned). Its dirty part is what was written since the last cleaning. When
// the dirty part is at least min.cleanable.dirty.ratio of the section, or a
// kept tombstone's delete horizon has passed, the job
//
//  1. maps each key of the dirty part to its last offset;
//  2. rewrites the section in groups of consecutive segments (each group at
//     most segment.bytes), keeping a record unless a later record of its key
//     is in the map, it has no key, or it is a tombstone whose horizon has
//     passed (BatchRewriter keeps batches valid and offsets unchanged);
//  3. swaps each group for its copy (PartitionLog::ReplaceSegments): readers
//     see the old segments or the new one, and so does a crash.
//
// What it remembers of a partition between jobs (CleanState) lives in
// memory: after an open, the first job treats the whole section as dirty.
//
// Not thread-safe: one job per partition at a time, on one thread at a time.
#ifndef RILL_LIB_RETENTION_CLEANER_H_
#define RILL_LIB_RETENTION_CLEANER_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "retention/batch_rewriter.h"
#include "rill/options.h"
#include "storage/partition_log.h"

namespace rill::retention {

// CleanState: what the cleaner knows of a partition between jobs.
struct CleanState {
  // Offsets below it were cleaned: the dirty part starts here. -1: unknown.
  int64_t clean_end = -1;
  // The earliest delete horizon of a kept tombstone: a cleaning is due then.
  int64_t next_horizon_ms = std::numeric_limits<int64_t>::max();
};

struct CleanResult {
  int64_t segments_rewritten = 0;  // Old segments replaced.
  int64_t records_removed = 0;
  uint64_t bytes_read = 0;     // Batch bytes read (mapping and copying).
  uint64_t bytes_removed = 0;  // Batch bytes the log shrank by.
};

class CleaningJob {
 public:
  // CleaningJob(log, config, now_ms, state): a job for `log` under the
  // topic's compaction settings, at time now_ms. `state` must outlive it.
  CleaningJob(PartitionLog* log, const TopicConfig& config, int64_t now_ms, CleanState* state);
  ~CleaningJob();

  // Step(budget): does about `budget` bytes of reading and writing. Returns
  // true once the job is over (nothing to do, or done). A group whose
  // segments changed meanwhile (retention deleted one) ends the job early;
  // the next one starts afresh. On error the job is over and the log is as
  // it was, but for groups already swapped.
  absl::StatusOr<bool> Step(uint64_t budget);

  const CleanResult& result() const { return result_; }

 private:
  struct Group {
    size_t first = 0;
    size_t end = 0;  // One past the last segment.
    uint64_t bytes = 0;
  };
  // Transparent hashing, to look keys up by string_view.
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using OffsetMap = std::unordered_map<std::string, int64_t, KeyHash, std::equal_to<>>;

  absl::StatusOr<bool> Plan();
  absl::StatusOr<uint64_t> MapSome(uint64_t budget);
  absl::StatusOr<uint64_t> WriteSome(uint64_t budget);
  // FinishGroup(): swaps the current group for its copy. Returns false when
  // the job must end (the segments changed).
  absl::StatusOr<bool> FinishGroup();
  bool Keep(const RecordView& record) const;
  void Abandon();

  enum class Phase { kPlan, kMap, kWrite, kDone };

  PartitionLog* const log_;
  const TopicConfig config_;
  const int64_t now_ms_;
  CleanState* const state_;

  Phase phase_ = Phase::kPlan;
  std::vector<SegmentInfo> segments_;  // The cleanable section.
  int64_t section_end_ = 0;            // Base offset of the first segment after it.
  size_t dirty_from_ = 0;
  std::vector<Group> groups_;
  OffsetMap map_;
  BatchRewriter rewriter_;
  BatchReader reader_;

  // Where the current phase is: a segment of segments_, a byte in it.
  size_t segment_ = 0;
  uint64_t position_ = 0;
  size_t group_ = 0;
  std::shared_ptr<Segment> copy_;  // The current group's copy.
  int64_t group_removed_ = 0;
  bool group_changed_ = false;
  int64_t next_horizon_ms_ = std::numeric_limits<int64_t>::max();

  CleanResult result_;
};

}  // namespace rill::retention

#endif  // RILL_LIB_RETENTION_CLEANER_H_
