// Consumer groups as the API sees them: committed offsets, and what
// Log::DescribeGroup reports of a group.
//
//   absl::StatusOr<rill::GroupDescription> g = log->DescribeGroup("billing");
//   for (const rill::GroupPartition& p : g->partitions) Report(p.partition, p.lag);
//
// A group lives inside the process that has the log open: its members are
// the Consumers created there with ConsumerOptions::group. Its committed
// offsets are kept in the log (the internal topic __consumer_offsets) and
// outlive the process.
//
// Thread-safety: plain values.
#ifndef RILL_GROUP_H_
#define RILL_GROUP_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "rill/options.h"
#include "rill/types.h"

namespace rill {

// The internal topic that keeps committed offsets, as Kafka names it.
inline constexpr char kConsumerOffsetsTopic[] = "__consumer_offsets";

// OffsetAndMetadata: a committed position: the offset of the next record to
// read, and a string the committer attached (Kafka's OffsetAndMetadata).
struct OffsetAndMetadata {
  int64_t offset = 0;
  std::string metadata = {};
  // When it was committed, in ms since the Unix epoch. Set by the log; what
  // a caller puts here is ignored.
  int64_t commit_timestamp = -1;

  friend bool operator==(const OffsetAndMetadata&, const OffsetAndMetadata&) = default;
};

using OffsetMap = std::map<TopicPartition, OffsetAndMetadata>;

// CommitCallback: reports how a Consumer::CommitAsync ended, with the
// offsets it committed (or tried to). Runs on the consumer's thread, inside
// a later Poll, Commit, CommitAsync or Close.
using CommitCallback = std::function<void(const absl::Status&, const OffsetMap&)>;

enum class GroupState {
  kEmpty,        // No members (only committed offsets).
  kStable,       // Every member reads exactly the partitions targeted to it.
  kRebalancing,  // Some partitions are being handed over.
};

// GroupStateName(state): "Empty", "Stable" or "Rebalancing".
RILL_EXPORT const char* GroupStateName(GroupState state);
// AssignorName(assignor): Kafka's name of the strategy: "range",
// "roundrobin" or "cooperative-sticky".
RILL_EXPORT const char* AssignorName(Assignor assignor);

struct GroupMemberDescription {
  // "<client_id>-<n>".
  std::string member_id = {};
  std::string client_id = {};
  // Its subscription, sorted.
  std::vector<std::string> topics = {};
  // The partitions it reads now, and those the assignor gave it (they differ
  // while partitions are handed over).
  std::vector<TopicPartition> assignment = {};
  std::vector<TopicPartition> target = {};
};

// GroupPartition: one partition a group reads or has committed an offset for.
struct GroupPartition {
  TopicPartition partition = {};
  // The committed offset, or kNoOffset (-1) if none.
  int64_t committed_offset = kNoOffset;
  std::string metadata = {};
  // The partition's end offset, or kNoOffset if the partition is gone.
  int64_t end_offset = kNoOffset;
  // end_offset - committed_offset (0 if the committed offset is past the
  // end), or -1 when either is unknown.
  int64_t lag = -1;
  // The member that reads it now, or "".
  std::string member_id = {};
};

struct GroupDescription {
  std::string group = {};
  GroupState state = GroupState::kEmpty;
  // Counts the group's rebalances since it last had no members.
  int64_t generation = 0;
  // The assignor of its members; meaningless when kEmpty.
  Assignor assignor = Assignor::kRange;
  std::vector<GroupMemberDescription> members = {};  // By member id.
  std::vector<GroupPartition> partitions = {};       // By topic, then partition.
};

// OffsetResetSpec: where Log::ResetGroupOffsets moves a group's committed
// offsets (kafka-consumer-groups --reset-offsets --to-...).
struct OffsetResetSpec {
  enum class To {
    kEarliest,   // The partition's start offset.
    kLatest,     // Its end offset.
    kTimestamp,  // The first offset whose record's timestamp >= value (ms).
    kOffset,     // `value`, moved into [start, end] if outside.
  };
  To to = To::kEarliest;
  int64_t value = 0;
  // Every partition of these topics. Empty: the topics the group has
  // committed offsets for.
  std::vector<std::string> topics = {};
};

}  // namespace rill

#endif  // RILL_GROUP_H_
