#include "group/group_util.h"

#include <algorithm>

namespace rill::testing {

Partitions TP(const std::string& topic, std::initializer_list<int32_t> ids) {
  Partitions out;
  for (int32_t id : ids) out.push_back({topic, id});
  std::sort(out.begin(), out.end());
  return out;
}

GroupMember::GroupMember(Log& log, ConsumerOptions options, bool commit_on_revoke) {
  options.on_assigned = [this](const Partitions& partitions) {
    events_.push_back({true, partitions});
    for (const TopicPartition& tp : partitions) CHECK(owned_.insert(tp).second);
  };
  options.on_revoked = [this, commit_on_revoke](const Partitions& partitions) {
    events_.push_back({false, partitions});
    if (commit_on_revoke) revoke_commits_.push_back(consumer_->Commit());
    for (const TopicPartition& tp : partitions) CHECK(owned_.erase(tp) == 1);
  };
  consumer_ = std::make_unique<Consumer>(log, options);
}

void PollUntilStable(Log& log, const std::string& group, const std::vector<Consumer*>& members) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  for (;;) {
    for (Consumer* c : members) REQUIRE_OK(c->Poll(absl::ZeroDuration()));
    absl::StatusOr<GroupDescription> d = log.DescribeGroup(group);
    REQUIRE_OK(d);
    if (d->state == GroupState::kStable) return;
    if (absl::Now() > deadline) FAIL("group " << group << " did not become stable");
  }
}

void Produce(Log& log, const std::string& topic, int32_t partition, int n) {
  Producer producer(log);
  for (int i = 0; i < n; ++i) {
    REQUIRE_OK(producer.Send(topic, {.value = std::to_string(i), .partition = partition}));
  }
}

}  // namespace rill::testing
