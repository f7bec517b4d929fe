// The range and round-robin assignors, as Kafka's, and the dispatch.
#include "group/assignor.h"

#include <algorithm>

namespace rill::group {
namespace {

bool Subscribes(const AssignorMember& m, const std::string& topic) {
  return std::find(m.topics.begin(), m.topics.end(), topic) != m.topics.end();
}

// SortedById(members): pointers to the members, ordered by id.
std::vector<const AssignorMember*> SortedById(const std::vector<AssignorMember>& members) {
  std::vector<const AssignorMember*> sorted;
  for (const AssignorMember& m : members) sorted.push_back(&m);
  std::sort(sorted.begin(), sorted.end(),
            [](const AssignorMember* a, const AssignorMember* b) { return a->id < b->id; });
  return sorted;
}

Assignment Empty(const std::vector<AssignorMember>& members) {
  Assignment out;
  for (const AssignorMember& m : members) out[m.id];
  return out;
}

void SortEach(Assignment* a) {
  for (auto& [id, partitions] : *a) std::sort(partitions.begin(), partitions.end());
}

}  // namespace

Assignment AssignRange(const std::vector<AssignorMember>& members, const PartitionCounts& counts) {
  Assignment out = Empty(members);
  const std::vector<const AssignorMember*> sorted = SortedById(members);
  for (const auto& [topic, count] : counts) {
    std::vector<const AssignorMember*> subscribers;
    for (const AssignorMember* m : sorted) {
      if (Subscribes(*m, topic)) subscribers.push_back(m);
    }
    if (subscribers.empty()) continue;
    const auto n = static_cast<int32_t>(subscribers.size());
    const int32_t per_member = count / n;
    const int32_t with_extra = count % n;
    for (int32_t i = 0; i < n; ++i) {
      const int32_t start = per_member * i + std::min(i, with_extra);
      const int32_t length = per_member + (i < with_extra ? 1 : 0);
      std::vector<TopicPartition>& mine = out[subscribers[static_cast<size_t>(i)]->id];
      for (int32_t p = start; p < start + length; ++p) mine.push_back({topic, p});
    }
  }
  SortEach(&out);
  return out;
}

Assignment AssignRoundRobin(const std::vector<AssignorMember>& members,
                            const PartitionCounts& counts) {
  Assignment out = Empty(members);
  const std::vector<const AssignorMember*> sorted = SortedById(members);
  size_t next = 0;  // The member the circle points at.
  for (const auto& [topic, count] : counts) {
    // Clang 14 cannot capture a structured binding in a lambda.
    const std::string& name = topic;
    if (std::none_of(sorted.begin(), sorted.end(),
                     [&name](const AssignorMember* m) { return Subscribes(*m, name); })) {
      continue;
    }
    for (int32_t p = 0; p < count; ++p) {
      while (!Subscribes(*sorted[next], topic)) next = (next + 1) % sorted.size();
      out[sorted[next]->id].push_back({topic, p});
      next = (next + 1) % sorted.size();
    }
  }
  SortEach(&out);
  return out;
}

Assignment Assign(Assignor assignor, const std::vector<AssignorMember>& members,
                  const PartitionCounts& counts) {
  if (members.empty()) return {};
  switch (assignor) {
    case Assignor::kRange:
      return AssignRange(members, counts);
    case Assignor::kRoundRobin:
      return AssignRoundRobin(members, counts);
    case Assignor::kCooperativeSticky:
      return AssignSticky(members, counts);
  }
  return AssignRange(members, counts);
}

}  // namespace rill::group
