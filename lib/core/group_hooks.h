// The seam between core/ and group/: what a Consumer in a group and the
// Log's group admin calls need, declared here as interfaces, implemented in
// lib/group/ (which core/ never includes). LogState owns the GroupService;
// each Consumer with ConsumerOptions::group owns a GroupMember.
//
// Thread-safety: GroupService may be called from any thread. A GroupMember
// is called by its consumer's thread only (as the Consumer is), except
// NeedsSync(), which its consumer's waits check.
#ifndef RILL_LIB_CORE_GROUP_HOOKS_H_
#define RILL_LIB_CORE_GROUP_HOOKS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rill/group.h"
#include "rill/options.h"
#include "rill/types.h"

namespace rill::core {

class LogState;
class Partition;
class Topic;
class Waiter;

// A partition a member has just acquired, and where to start reading it.
struct AcquiredPartition {
  std::shared_ptr<Topic> topic;
  Partition* partition = nullptr;
  // The group's committed offset, or kNoOffset (then auto_offset_reset).
  int64_t position = kNoOffset;
};

// MemberHost: the consumer a GroupMember drives (Consumer::Impl).
class MemberHost {
 public:
  virtual ~MemberHost() = default;
  // Positions(): every partition the consumer reads, with its position
  // (kNoOffset when it has none).
  virtual std::vector<std::pair<TopicPartition, int64_t>> Positions() const = 0;
  // Drop(partitions): stop reading these.
  virtual void Drop(const std::vector<TopicPartition>& partitions) = 0;
  // Take(partitions): start reading these.
  virtual void Take(std::vector<AcquiredPartition> partitions) = 0;
};

// GroupMember: one consumer's membership of its group.
class GroupMember {
 public:
  virtual ~GroupMember() = default;
  // Subscribe(topics): joins the group, or changes the subscription (sorted,
  // without duplicates, valid names).
  virtual absl::Status Subscribe(const std::vector<std::string>& topics) = 0;
  // Unsubscribe(host): revokes what the host reads and leaves the group.
  virtual void Unsubscribe(MemberHost& host) = 0;
  // PollStarted() / PollEnded(): bracket a Poll (max_poll_interval runs
  // between them).
  virtual void PollStarted() = 0;
  virtual void PollEnded() = 0;
  // Sync(host): at the start of each round of a Poll: revokes, acquires,
  // auto-commits.
  virtual absl::Status Sync(MemberHost& host) = 0;
  // NeedsSync(): whether a Poll waiting for records should stop and Sync.
  virtual bool NeedsSync() const = 0;
  // InCallback(): whether a rebalance callback is running.
  virtual bool InCallback() const = 0;
  // Commit(host, offsets): commits `offsets`, or the host's positions when
  // null.
  virtual absl::Status Commit(MemberHost& host, const OffsetMap* offsets) = 0;
  virtual absl::Status CommitAsync(MemberHost& host, const OffsetMap* offsets,
                                   CommitCallback callback) = 0;
  virtual absl::StatusOr<OffsetAndMetadata> Committed(const TopicPartition& tp) const = 0;
  virtual std::string member_id() const = 0;
  // Close(host): revokes, leaves, waits for async commits.
  virtual void Close(MemberHost& host) = 0;
};

// GroupService: the log's group coordinator.
class GroupService {
 public:
  virtual ~GroupService() = default;
  // Load(): reads the committed offsets back from the log (at open).
  virtual absl::Status Load() = 0;
  // NewMember(options, waiter): a member for a consumer with options.group
  // set, woken through `waiter` when a rebalance needs it.
  virtual std::unique_ptr<GroupMember> NewMember(const ConsumerOptions& options,
                                                 Waiter* waiter) = 0;
  // OnTopicDeleted(topic): forgets the offsets committed for `topic`.
  // Called with no lock of the LogState held.
  virtual void OnTopicDeleted(std::string_view topic) = 0;

  virtual std::vector<std::string> ListGroups() = 0;
  virtual absl::StatusOr<GroupDescription> DescribeGroup(std::string_view group) = 0;
  virtual absl::StatusOr<OffsetMap> ResetOffsets(std::string_view group,
                                                 const OffsetResetSpec& spec) = 0;
  virtual absl::Status DeleteGroup(std::string_view group) = 0;
};

// NewGroupService(state): the coordinator of `state`'s groups, which it
// must not outlive. Defined in lib/group/.
std::shared_ptr<GroupService> NewGroupService(LogState* state);

}  // namespace rill::core

#endif  // RILL_LIB_CORE_GROUP_HOOKS_H_
