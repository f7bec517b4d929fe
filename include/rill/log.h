// Log: a set of topics, each split into partitions, stored in one directory
// (or in memory). It is the object producers write to and consumers read
// from; it owns the files and the background threads.
//
//   absl::StatusOr<std::unique_ptr<rill::Log>> log = rill::Log::Open("/var/lib/app/events");
//   if (!log.ok()) return log.status();
//   (*log)->CreateTopic("orders", {.partitions = 4});
//
// Thread-safety: every method may be called from any thread at once.
// Producers and consumers may outlive the Log object: once it is closed their
// calls fail with kFailedPrecondition.
#ifndef RILL_LOG_H_
#define RILL_LOG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rill/export.h"
#include "rill/group.h"
#include "rill/options.h"
#include "rill/recovery.h"
#include "rill/retention.h"
#include "rill/types.h"

namespace rill {

namespace core {
class LogState;
class LogFactory;
}  // namespace core

// PartitionDescription: the state of one partition.
struct PartitionDescription {
  int32_t partition = 0;
  // The first offset still in the log, and the offset the next record gets.
  int64_t start_offset = 0;
  int64_t end_offset = 0;
  int32_t segments = 0;
  // Bytes of record batches in the partition's segments.
  uint64_t bytes = 0;
  // What retention, disk limits and compaction removed from the partition
  // since the log was opened.
  RemovalCounts removed = {};
};

struct TopicDescription {
  std::string name = {};
  TopicConfig config = {};
  std::vector<PartitionDescription> partitions = {};
  // The partitions' removals, summed.
  RemovalCounts removed = {};
  // Bytes the topic's files take on the device (what quota.bytes limits),
  // as last counted.
  uint64_t disk_bytes = 0;
};

struct ListTopicsOptions {
  // Also list internal topics: names starting with "__", such as
  // __consumer_offsets (where consumer groups commit their offsets).
  bool include_internal = false;
};

class RILL_EXPORT Log {
 public:
  // Open(dir, options): opens the log in directory `dir`, creating it if
  // missing (unless options.create_if_missing is false: then kNotFound).
  // Partitions not closed cleanly are recovered: torn or corrupt tails are
  // cut off and reported (recovery_report()). Errors: kFailedPrecondition
  // when another process -- or another Log in this one -- has the directory
  // open (the message names its pid), or when the directory holds a log of a
  // newer format; kInvalidArgument when `dir` is not a directory; the
  // file system's errors otherwise.
  static absl::StatusOr<std::unique_ptr<Log>> Open(std::string_view dir,
                                                   const LogOptions& options = {});

  // OpenInMemory(options): a log with no files. Everything is lost when it
  // is closed. For tests and caches. Opening and closing one starts and
  // joins no thread (see LogOptions::background_threads): a test suite may
  // open one per test. With background_threads = 0 it also queues nothing
  // on the process's timer thread (then batches wait for Flush(), and
  // RunMaintenance() runs maintenance).
  static absl::StatusOr<std::unique_ptr<Log>> OpenInMemory(const LogOptions& options = {});

  // Closes the log (see Close()).
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Close(): flushes every producer's pending batches, syncs every
  // partition, records that the log was closed cleanly (except for a
  // partition whose sync failed: see Sync), stops the background
  // threads and releases every file and mapping not still viewed by a
  // consumer's last poll. Later calls on the log, its producers and
  // consumers fail with kFailedPrecondition. Returns the first error met
  // (for a partition whose sync failed earlier, kFailedPrecondition naming
  // that failure); the log is closed anyway.
  absl::Status Close();

  // CreateTopic(name, config): creates a topic. Names follow Kafka's rule:
  // 1 to 249 characters of [A-Za-z0-9._-], not "." or "..". Errors:
  // kInvalidArgument (name or config), kAlreadyExists.
  absl::Status CreateTopic(std::string_view name, const TopicConfig& config = {});

  // DeleteTopic(name): deletes a topic and its data, and the offsets
  // consumer groups committed for it. Its producers' and consumers' later
  // calls on it fail with kNotFound. kNotFound if missing; kInvalidArgument
  // for __consumer_offsets, which rill manages.
  absl::Status DeleteTopic(std::string_view name);

  // ListTopics(options): the names of the topics, sorted; internal topics
  // (names starting with "__") only if options.include_internal.
  std::vector<std::string> ListTopics(const ListTopicsOptions& options = {}) const;

  // DescribeTopic(name): its config and partitions. kNotFound if missing.
  absl::StatusOr<TopicDescription> DescribeTopic(std::string_view name) const;

  // SetTopicConfig(name, key, value): changes one setting of a live topic
  // by its Kafka name, durably. It applies from the next append on (segment
  // sizes: from the next segment on). The partition count cannot change
  // here. Errors: kNotFound, kInvalidArgument (nothing changed).
  absl::Status SetTopicConfig(std::string_view name, std::string_view key,
                              std::string_view value);

  // CreatePartitions(name, total): grows a live topic to `total` partitions,
  // as Kafka's CreatePartitions does, durably. The new partitions start
  // empty; keys are placed over the new count from now on (so a key may land
  // elsewhere than before, as in Kafka); subscribed consumers pick the new
  // partitions up, and consumer groups rebalance. Errors, with nothing
  // changed: kNotFound, kInvalidArgument (`total` is not above the count now,
  // or above 100000).
  absl::Status CreatePartitions(std::string_view name, int32_t total);

  // StartOffset / EndOffset: the first offset still in a partition, and the
  // offset its next record will get. kNotFound for an unknown topic,
  // kOutOfRange for a partition that does not exist.
  absl::StatusOr<int64_t> StartOffset(const TopicPartition& tp) const;
  absl::StatusOr<int64_t> EndOffset(const TopicPartition& tp) const;

  // OffsetForTime(tp, timestamp_ms): the first offset in the partition whose
  // record's timestamp is >= timestamp_ms, or the end offset if none is.
  absl::StatusOr<int64_t> OffsetForTime(const TopicPartition& tp, int64_t timestamp_ms) const;

  // Consumer groups (see ConsumerOptions::group and rill/group.h). Their
  // members exist only in this process; their committed offsets are kept in
  // the log.
  //
  // ListGroups(): the groups that have members or committed offsets, sorted.
  std::vector<std::string> ListGroups() const;

  // DescribeGroup(group): its state, members and, per partition, committed
  // offset, end offset and lag. kNotFound for a group with neither members
  // nor committed offsets.
  absl::StatusOr<GroupDescription> DescribeGroup(std::string_view group) const;

  // ResetGroupOffsets(group, spec): commits, for every partition of
  // spec.topics (or of the topics the group has committed offsets for), the
  // offset `spec` names, and returns them. Only while the group has no
  // members. Errors, with nothing committed: kFailedPrecondition (the group
  // has members, or the log is closed), kNotFound (a topic does not exist,
  // or no topics named and none committed), kInvalidArgument (bad group
  // name).
  absl::StatusOr<OffsetMap> ResetGroupOffsets(std::string_view group, const OffsetResetSpec& spec);

  // DeleteGroup(group): deletes a group's committed offsets (with
  // tombstones in __consumer_offsets). Only while it has no members.
  // kFailedPrecondition (members), kNotFound (nothing committed).
  absl::Status DeleteGroup(std::string_view group);

  // Sync(): makes everything appended so far durable (survive a power loss).
  // Syncs every partition even if one fails, and returns the first error.
  // A partition whose sync failed takes no more appends or syncs
  // (kFailedPrecondition) until the log is reopened, since a retried sync
  // could succeed without writing anything.
  absl::Status Sync();

  // RunMaintenance(): runs now, on the calling thread, the background tasks
  // that are due (with background_threads = 0 nothing else runs them), then
  // a whole maintenance pass: rolling segments that reached segment.ms,
  // retention, quotas and the disk budget, compaction, and a new measure of
  // the files. Deterministic for a given clock. Returns what it did; the
  // pass goes on past errors, which it lists.
  MaintenanceReport RunMaintenance();
  // RunMaintenance(topic): the same, with retention, the quota and
  // compaction of `topic` alone (the log's disk budget is kept as always).
  // kNotFound if there is no such topic.
  absl::StatusOr<MaintenanceReport> RunMaintenance(std::string_view topic);

  // DiskBytes(): the bytes the log's files take on the device, as counted
  // (measured at open and at each maintenance pass, followed in between).
  uint64_t DiskBytes() const;

  // recovery_report(): what Open found and repaired. Empty after a clean
  // close.
  const RecoveryReport& recovery_report() const;

  // The directory of the log, or "" for an in-memory log.
  const std::string& dir() const;

  // Internal: the state producers and consumers share with the log.
  const std::shared_ptr<core::LogState>& state() const { return state_; }

 private:
  friend class core::LogFactory;  // Opens logs over other file systems.
  explicit Log(std::shared_ptr<core::LogState> state);
  std::shared_ptr<core::LogState> state_;
};

}  // namespace rill

#endif  // RILL_LOG_H_
