// Assignors: how a group's partitions are shared among its members, as
// Kafka's RangeAssignor, RoundRobinAssignor and CooperativeStickyAssignor
// share them. Pure functions of the members (ids, subscriptions, and for
// the sticky one what each has now) and the topics' partition counts.
//
//   Assignment a = Assign(Assignor::kRange, members, {{"t", 7}});
//   a["c-1"] == {{"t", 0}, {"t", 1}, {"t", 2}}
//
// Thread-safety: pure functions.
#ifndef RILL_LIB_GROUP_ASSIGNOR_H_
#define RILL_LIB_GROUP_ASSIGNOR_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "rill/options.h"
#include "rill/types.h"

namespace rill::group {

// One member, as an assignor sees it.
struct AssignorMember {
  std::string id;
  // The topics it subscribes to. Topics missing from the partition counts
  // (not created yet) are ignored.
  std::vector<std::string> topics;
  // What it has now; only the sticky assignor looks.
  std::vector<TopicPartition> current;
};

// Partitions per topic.
using PartitionCounts = std::map<std::string, int32_t>;
// Member id -> its partitions, sorted. Every member has an entry.
using Assignment = std::map<std::string, std::vector<TopicPartition>>;

// Assign(assignor, members, counts): the assignment `assignor` makes. Each
// partition of a topic some member subscribes to goes to exactly one member
// subscribed to it. Members are ordered by id (string order, as Kafka).
Assignment Assign(Assignor assignor, const std::vector<AssignorMember>& members,
                  const PartitionCounts& counts);

// Kafka's RangeAssignor: per topic, its subscribers by id; with P
// partitions and M subscribers, the i-th gets the range of P / M partitions
// starting at i * (P / M) + min(i, P % M), plus one if i < P % M.
Assignment AssignRange(const std::vector<AssignorMember>& members, const PartitionCounts& counts);

// Kafka's RoundRobinAssignor: every partition of every subscribed topic, in
// (topic, partition) order, goes to the next member by id, in a circle,
// that subscribes to its topic.
Assignment AssignRoundRobin(const std::vector<AssignorMember>& members,
                            const PartitionCounts& counts);

// A sticky assignment (Kafka's CooperativeStickyAssignor's goals): each
// member keeps the partitions it has that it still may (its topic still
// subscribed, no other member keeping it); the rest go, fewest-choices
// first, to the eligible member with the fewest; then, while some member
// has at least two more than a member that could take one of its
// partitions, one moves. With equal subscriptions this ends with counts
// that differ by at most one, having moved the fewest partitions possible.
Assignment AssignSticky(const std::vector<AssignorMember>& members, const PartitionCounts& counts);

// IsEager(assignor): whether a rebalance revokes every partition (Kafka's
// eager protocol) rather than only those that move (cooperative).
inline bool IsEager(Assignor assignor) { return assignor != Assignor::kCooperativeSticky; }

}  // namespace rill::group

#endif  // RILL_LIB_GROUP_ASSIGNOR_H_
