// The sticky assignor: balanced, moving as few partitions as it can.
//
// 1. Keep: each member, in id order, keeps the partitions it has that
//    still exist, of topics it still subscribes to, not kept already by
//    another member.
// 2. Place: the partitions nobody kept, those with the fewest eligible
//    members first, each go to the eligible member with the fewest
//    partitions (ties: lowest id).
// 3. Balance: while some member has at least two more partitions than an
//    eligible member for one of them, the partition moves (from the most
//    loaded member, its most recently placed partition first, to the least
//    loaded eligible member). Each move lowers the sum of squared counts,
//    so this ends; it moves a kept partition only when no placed one will do.
#include <algorithm>
#include <set>

#include "group/assignor.h"

namespace rill::group {
namespace {

struct Slot {
  const AssignorMember* member;
  std::vector<TopicPartition> partitions;  // Kept ones first, then placed ones.
};

bool Eligible(const Slot& s, const TopicPartition& tp) {
  const std::vector<std::string>& topics = s.member->topics;
  return std::find(topics.begin(), topics.end(), tp.topic) != topics.end();
}

// LeastLoaded(slots, tp, limit): the eligible slot for `tp` with the fewest
// partitions, fewer than `limit` (ties: the first, i.e. lowest id), or -1.
int LeastLoaded(const std::vector<Slot>& slots, const TopicPartition& tp, size_t limit) {
  int best = -1;
  for (size_t i = 0; i < slots.size(); ++i) {
    if (!Eligible(slots[i], tp) || slots[i].partitions.size() >= limit) continue;
    if (best < 0 ||
        slots[i].partitions.size() < slots[static_cast<size_t>(best)].partitions.size()) {
      best = static_cast<int>(i);
    }
  }
  return best;
}

// MoveOne(slots): makes one balancing move; false if none is possible.
bool MoveOne(std::vector<Slot>& slots) {
  std::vector<size_t> order(slots.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return slots[a].partitions.size() > slots[b].partitions.size();
  });
  for (size_t from : order) {
    std::vector<TopicPartition>& mine = slots[from].partitions;
    if (mine.size() < 2) break;  // Nobody has two fewer than this.
    for (size_t k = mine.size(); k-- > 0;) {
      const int to = LeastLoaded(slots, mine[k], mine.size() - 1);
      if (to < 0 || static_cast<size_t>(to) == from) continue;
      slots[static_cast<size_t>(to)].partitions.push_back(mine[k]);
      mine.erase(mine.begin() + static_cast<std::ptrdiff_t>(k));
      return true;
    }
  }
  return false;
}

}  // namespace

Assignment AssignSticky(const std::vector<AssignorMember>& members, const PartitionCounts& counts) {
  std::vector<Slot> slots;
  for (const AssignorMember& m : members) slots.push_back(Slot{&m, {}});
  std::sort(slots.begin(), slots.end(),
            [](const Slot& a, const Slot& b) { return a.member->id < b.member->id; });

  // Every partition of a topic some member subscribes to.
  std::set<TopicPartition> all;
  for (const auto& [topic, count] : counts) {
    const TopicPartition first{topic, 0};
    if (std::none_of(slots.begin(), slots.end(),
                     [&](const Slot& s) { return Eligible(s, first); })) {
      continue;
    }
    for (int32_t p = 0; p < count; ++p) all.insert({topic, p});
  }

  // 1. Keep.
  std::set<TopicPartition> kept;
  for (Slot& s : slots) {
    std::vector<TopicPartition> current = s.member->current;
    std::sort(current.begin(), current.end());
    for (const TopicPartition& tp : current) {
      if (all.count(tp) > 0 && Eligible(s, tp) && kept.insert(tp).second) {
        s.partitions.push_back(tp);
      }
    }
  }

  // 2. Place, fewest choices first.
  std::vector<std::pair<size_t, TopicPartition>> unplaced;
  for (const TopicPartition& tp : all) {
    if (kept.count(tp) > 0) continue;
    const auto choices = static_cast<size_t>(
        std::count_if(slots.begin(), slots.end(), [&](const Slot& s) { return Eligible(s, tp); }));
    unplaced.emplace_back(choices, tp);
  }
  std::stable_sort(unplaced.begin(), unplaced.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [choices, tp] : unplaced) {
    const int to = LeastLoaded(slots, tp, SIZE_MAX);
    slots[static_cast<size_t>(to)].partitions.push_back(tp);
  }

  // 3. Balance.
  while (MoveOne(slots)) {
  }

  Assignment out;
  for (Slot& s : slots) {
    std::sort(s.partitions.begin(), s.partitions.end());
    out[s.member->id] = std::move(s.partitions);
  }
  return out;
}

}  // namespace rill::group
