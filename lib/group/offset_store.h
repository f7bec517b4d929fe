// OffsetStore: the offsets every consumer group has committed, in memory
// and in the internal topic __consumer_offsets, where each commit is one
// record batch (a record per partition, Kafka's offset-commit key and
// value; see offset_format.h). At open the table is rebuilt by reading the
// topic: the last record of each key wins, a tombstone (null value)
// deletes.
//
// Thread-safety: none. The coordinator calls it under its lock;
// EnsureTopic() is static and takes no lock of the store.
#ifndef RILL_LIB_GROUP_OFFSET_STORE_H_
#define RILL_LIB_GROUP_OFFSET_STORE_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "format/batch_builder.h"
#include "rill/group.h"

namespace rill::core {
class LogState;
class Partition;
class Topic;
}  // namespace rill::core

namespace rill::group {

class OffsetStore {
 public:
  explicit OffsetStore(core::LogState* state) : state_(state) {}

  // EnsureTopic(state): creates __consumer_offsets if the log has none.
  // Takes the log's topic-admin lock: call it holding no coordinator lock.
  static absl::Status EnsureTopic(core::LogState* state);

  // Load(): rebuilds the table from __consumer_offsets. Records that are no
  // offset commits are skipped; a malformed one, or a damaged batch, is
  // reported to the log sink and skipped (its group then resumes from an
  // earlier commit: records are read again, never lost).
  absl::Status Load();

  // Where a write went, to sync it for kPowerLoss.
  struct Written {
    std::shared_ptr<core::Topic> topic;
    core::Partition* partition = nullptr;
  };

  // Write(group, offsets): appends the offsets (stamping their
  // commit_timestamp with the log's clock) and then updates the table.
  // Requires EnsureTopic() to have succeeded. Errors, with nothing changed:
  // kInvalidArgument (negative offset, metadata too long, bad group name),
  // the append's (kFailedPrecondition once the log is closed...).
  absl::StatusOr<Written> Write(std::string_view group, OffsetMap offsets);

  // Delete(group, partitions): appends tombstones for these partitions of
  // `group` and forgets them.
  absl::StatusOr<Written> Delete(std::string_view group,
                                 const std::vector<TopicPartition>& partitions);

  // Find(group): its committed offsets, or null if it has none.
  const OffsetMap* Find(std::string_view group) const;
  // Groups(): the groups with committed offsets, sorted.
  std::vector<std::string> Groups() const;
  // WithTopic(topic): each group with offsets for `topic`, and those
  // partitions.
  std::map<std::string, std::vector<TopicPartition>> WithTopic(std::string_view topic) const;

 private:
  // Entry: one record to append: a partition and its offset, or null for a
  // tombstone.
  using Entry = std::pair<TopicPartition, const OffsetAndMetadata*>;
  // Append(group, entries): appends the records, as few batches as the
  // topic's max.message.bytes allows (one, for any usual commit).
  absl::StatusOr<Written> Append(std::string_view group, const std::vector<Entry>& entries);
  void Apply(const std::string& group, const TopicPartition& tp, const OffsetAndMetadata* value);
  absl::Status LoadPartition(core::Partition& partition);

  core::LogState* const state_;
  std::map<std::string, OffsetMap, std::less<>> table_;
  BatchBuilder builder_;
};

}  // namespace rill::group

#endif  // RILL_LIB_GROUP_OFFSET_STORE_H_
