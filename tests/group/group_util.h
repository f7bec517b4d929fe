// Helpers for the consumer-group tests: a group member that records its
// rebalance callbacks, and a driver that polls members until their group
// is stable.
#ifndef RILL_TESTS_GROUP_GROUP_UTIL_H_
#define RILL_TESTS_GROUP_GROUP_UTIL_H_

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/core_util.h"
#include "rill/rill.h"

namespace rill::testing {

using Partitions = std::vector<TopicPartition>;

// TP(topic, {p...}): partitions of one topic, sorted.
Partitions TP(const std::string& topic, std::initializer_list<int32_t> ids);

// GroupMember: a Consumer in a group whose callbacks record what they got.
// Optionally commits in on_revoked (exactly-once hand-over).
class GroupMember {
 public:
  struct Event {
    bool assigned;  // Else revoked.
    Partitions partitions;
  };

  GroupMember(Log& log, ConsumerOptions options, bool commit_on_revoke = false);
  // Destroys the consumer (running on_revoked) while the records it writes
  // are alive.
  ~GroupMember() { consumer_.reset(); }

  Consumer& consumer() { return *consumer_; }
  Consumer* operator->() { return consumer_.get(); }
  // owned(): what the callbacks say it reads now, sorted.
  Partitions owned() const { return {owned_.begin(), owned_.end()}; }
  const std::vector<Event>& events() const { return events_; }
  void ClearEvents() { events_.clear(); }
  // Statuses of the commits made in on_revoked.
  const std::vector<absl::Status>& revoke_commits() const { return revoke_commits_; }
  // Close(): closes the consumer (running on_revoked).
  void Close() { REQUIRE_OK(consumer_->Close()); }

 private:
  std::unique_ptr<Consumer> consumer_;
  std::set<TopicPartition> owned_;
  std::vector<Event> events_;
  std::vector<absl::Status> revoke_commits_;
};

// PollUntilStable(log, group, members): polls each member in turn, without
// waiting, until the group is stable (or 20 s pass: then fails).
void PollUntilStable(Log& log, const std::string& group, const std::vector<Consumer*>& members);

// Produce(log, topic, partition, n): n records "0", "1", ... there.
void Produce(Log& log, const std::string& topic, int32_t partition, int n);

}  // namespace rill::testing

#endif  // RILL_TESTS_GROUP_GROUP_UTIL_H_
