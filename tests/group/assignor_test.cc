// The assignors against hand-computed tables: Kafka's range assignor with
// uneven counts, round-robin with members subscribed to different topics
// (the example of Kafka's documentation), and the sticky assignor moving
// only what it must when members join and leave. Then properties over
// random groups: every partition goes to exactly one subscriber, and the
// sticky assignor stays balanced.
#include "group/assignor.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace rill::group {
namespace {

using Partitions = std::vector<TopicPartition>;

// P(topic, {p...}): partitions of one topic.
Partitions P(const std::string& topic, std::initializer_list<int32_t> ids) {
  Partitions out;
  for (int32_t id : ids) out.push_back({topic, id});
  return out;
}

Partitions Concat(Partitions a, const Partitions& b) {
  a.insert(a.end(), b.begin(), b.end());
  std::sort(a.begin(), a.end());
  return a;
}

// Moved(before, after): how many partitions changed member.
int Moved(const Assignment& before, const Assignment& after) {
  std::map<TopicPartition, std::string> owner;
  for (const auto& [id, partitions] : before) {
    for (const TopicPartition& tp : partitions) owner[tp] = id;
  }
  int moved = 0;
  for (const auto& [id, partitions] : after) {
    for (const TopicPartition& tp : partitions) {
      auto it = owner.find(tp);
      if (it != owner.end() && it->second != id) ++moved;
    }
  }
  return moved;
}

// Members(assignment, subscriptions): members whose current partitions are
// the assignment's.
std::vector<AssignorMember> WithCurrent(const Assignment& current,
                                        const std::vector<std::string>& topics) {
  std::vector<AssignorMember> members;
  for (const auto& [id, partitions] : current) members.push_back({id, topics, partitions});
  return members;
}

TEST_CASE("range: 3 members, 2 topics of 7 partitions, as Kafka's RangeAssignor", "[assignor]") {
  // Per topic 7 / 3 = 2 each, and 7 % 3 = 1 extra to the first member: the
  // first member gets 3 of each topic -- Kafka's well-known imbalance.
  const std::vector<AssignorMember> members = {
      {"c", {"t0", "t1"}, {}}, {"a", {"t0", "t1"}, {}}, {"b", {"t1", "t0"}, {}}};
  const Assignment a = AssignRange(members, {{"t0", 7}, {"t1", 7}});
  CHECK(a.at("a") == Concat(P("t0", {0, 1, 2}), P("t1", {0, 1, 2})));
  CHECK(a.at("b") == Concat(P("t0", {3, 4}), P("t1", {3, 4})));
  CHECK(a.at("c") == Concat(P("t0", {5, 6}), P("t1", {5, 6})));
}

TEST_CASE("range: uneven counts and subscriptions", "[assignor]") {
  // t0 (5 partitions) is read by a and b; t1 (2) by a, b and c; t2 (4) by c.
  const std::vector<AssignorMember> members = {
      {"a", {"t0", "t1"}, {}}, {"b", {"t0", "t1"}, {}}, {"c", {"t1", "t2", "t9"}, {}}};
  const Assignment a = AssignRange(members, {{"t0", 5}, {"t1", 2}, {"t2", 4}});
  // t0: 5 / 2 = 2, one extra: a 0-2, b 3-4. t1: 2 / 3 = 0, two extra: a 0,
  // b 1, c none. t2: c all. t9 does not exist: ignored.
  CHECK(a.at("a") == Concat(P("t0", {0, 1, 2}), P("t1", {0})));
  CHECK(a.at("b") == Concat(P("t0", {3, 4}), P("t1", {1})));
  CHECK(a.at("c") == P("t2", {0, 1, 2, 3}));
}

TEST_CASE("range: more members than partitions leaves some with none", "[assignor]") {
  const std::vector<AssignorMember> members = {
      {"a", {"t"}, {}}, {"b", {"t"}, {}}, {"c", {"t"}, {}}, {"d", {"t"}, {}}};
  const Assignment a = AssignRange(members, {{"t", 2}});
  CHECK(a.at("a") == P("t", {0}));
  CHECK(a.at("b") == P("t", {1}));
  CHECK(a.at("c").empty());
  CHECK(a.at("d").empty());
}

TEST_CASE("round-robin: the example of Kafka's RoundRobinAssignor documentation", "[assignor]") {
  // C0 reads t0; C1 t0 and t1; C2 t0, t1 and t2. t0 has 1 partition, t1 2,
  // t2 3. Kafka documents: C0 [t0p0], C1 [t1p0], C2 [t1p1, t2p0, t2p1, t2p2].
  const std::vector<AssignorMember> members = {
      {"C2", {"t0", "t1", "t2"}, {}}, {"C0", {"t0"}, {}}, {"C1", {"t0", "t1"}, {}}};
  const Assignment a = AssignRoundRobin(members, {{"t0", 1}, {"t1", 2}, {"t2", 3}});
  CHECK(a.at("C0") == P("t0", {0}));
  CHECK(a.at("C1") == P("t1", {0}));
  CHECK(a.at("C2") == Concat(P("t1", {1}), P("t2", {0, 1, 2})));
}

TEST_CASE("round-robin: same subscriptions deal topic-partitions in order", "[assignor]") {
  const std::vector<AssignorMember> members = {
      {"b", {"t0", "t1"}, {}}, {"a", {"t0", "t1"}, {}}, {"c", {"t0", "t1"}, {}}};
  const Assignment a = AssignRoundRobin(members, {{"t0", 3}, {"t1", 4}});
  // t0p0 a, t0p1 b, t0p2 c, t1p0 a, t1p1 b, t1p2 c, t1p3 a.
  CHECK(a.at("a") == Concat(P("t0", {0}), P("t1", {0, 3})));
  CHECK(a.at("b") == Concat(P("t0", {1}), P("t1", {1})));
  CHECK(a.at("c") == Concat(P("t0", {2}), P("t1", {2})));
}

TEST_CASE("sticky: a fresh group is dealt out evenly", "[assignor]") {
  const std::vector<AssignorMember> members = {
      {"a", {"t"}, {}}, {"b", {"t"}, {}}, {"c", {"t"}, {}}};
  const Assignment a = AssignSticky(members, {{"t", 12}});
  CHECK(a.at("a") == P("t", {0, 3, 6, 9}));
  CHECK(a.at("b") == P("t", {1, 4, 7, 10}));
  CHECK(a.at("c") == P("t", {2, 5, 8, 11}));
}

TEST_CASE("sticky: a member joining takes the fewest partitions possible", "[assignor]") {
  const Assignment before = {{"a", P("t", {0, 3, 6, 9})},
                             {"b", P("t", {1, 4, 7, 10})},
                             {"c", P("t", {2, 5, 8, 11})},
                             {"d", {}}};
  const Assignment after = AssignSticky(WithCurrent(before, {"t"}), {{"t", 12}});
  // 12 over 4 is 3 each: each old member gives up exactly one.
  CHECK(Moved(before, after) == 3);
  CHECK(after.at("a") == P("t", {0, 3, 6}));
  CHECK(after.at("b") == P("t", {1, 4, 7}));
  CHECK(after.at("c") == P("t", {2, 5, 8}));
  CHECK(after.at("d") == P("t", {9, 10, 11}));
}

TEST_CASE("sticky: a member leaving moves only its partitions", "[assignor]") {
  const Assignment before = {{"a", P("t", {0, 3, 6})},
                             {"b", P("t", {1, 4, 7})},
                             {"c", P("t", {2, 5, 8})},
                             {"d", P("t", {9, 10, 11})}};
  Assignment current = before;
  current.erase("b");
  const Assignment after = AssignSticky(WithCurrent(current, {"t"}), {{"t", 12}});
  CHECK(Moved(current, after) == 0);  // a, c and d keep everything.
  CHECK(after.at("a") == P("t", {0, 1, 3, 6}));
  CHECK(after.at("c") == P("t", {2, 4, 5, 8}));
  CHECK(after.at("d") == P("t", {7, 9, 10, 11}));
}

TEST_CASE("sticky: uneven counts move the minimum too", "[assignor]") {
  // 10 partitions, 3 members (4, 3, 3); a fourth joins: 10 over 4 is
  // 3, 3, 2, 2, so two partitions must move, and only two do.
  const Assignment before = {
      {"a", P("t", {0, 3, 6, 9})}, {"b", P("t", {1, 4, 7})}, {"c", P("t", {2, 5, 8})}, {"d", {}}};
  const Assignment after = AssignSticky(WithCurrent(before, {"t"}), {{"t", 10}});
  CHECK(Moved(before, after) == 2);
  CHECK(after.at("a") == P("t", {0, 3}));
  CHECK(after.at("b") == P("t", {1, 4, 7}));
  CHECK(after.at("c") == P("t", {2, 5, 8}));
  CHECK(after.at("d") == P("t", {6, 9}));
}

TEST_CASE("sticky: partitions follow subscriptions, balanced where they allow", "[assignor]") {
  // a reads t0 only: t1's partitions can go to b alone, so t0's go to a.
  std::vector<AssignorMember> members = {{"a", {"t0"}, {}}, {"b", {"t0", "t1"}, {}}};
  Assignment a = AssignSticky(members, {{"t0", 3}, {"t1", 3}});
  CHECK(a.at("a") == P("t0", {0, 1, 2}));
  CHECK(a.at("b") == P("t1", {0, 1, 2}));
  // Now a reads both and b only t0: t1 can go to a alone, so a gives t0 to
  // b -- three moves, the fewest that balance them.
  members = {{"a", {"t0", "t1"}, a.at("a")}, {"b", {"t0"}, a.at("b")}};
  const Assignment next = AssignSticky(members, {{"t0", 3}, {"t1", 3}});
  CHECK(next.at("a") == P("t1", {0, 1, 2}));
  CHECK(next.at("b") == P("t0", {0, 1, 2}));
}

TEST_CASE("sticky: a partition claimed twice, or no longer readable, is dealt again",
          "[assignor]") {
  const std::vector<AssignorMember> members = {
      {"a", {"t"}, P("t", {0, 1, 5})}, {"b", {"t"}, P("t", {1, 2})}, {"c", {"u"}, P("t", {3})}};
  const Assignment a = AssignSticky(members, {{"t", 4}, {"u", 1}});
  // t5 is gone; t1 stays with a (first by id); c no longer reads t.
  CHECK(a.at("a") == P("t", {0, 1}));
  CHECK(a.at("b") == P("t", {2, 3}));
  CHECK(a.at("c") == P("u", {0}));
}

TEST_CASE("every assignor gives each partition to exactly one subscriber", "[assignor]") {
  const Assignor assignor =
      GENERATE(Assignor::kRange, Assignor::kRoundRobin, Assignor::kCooperativeSticky);
  std::mt19937 rng(17 + static_cast<int>(assignor));
  for (int round = 0; round < 200; ++round) {
    PartitionCounts counts;
    const int topics = 1 + static_cast<int>(rng() % 4);
    for (int t = 0; t < topics; ++t) {
      counts["t" + std::to_string(t)] = 1 + static_cast<int32_t>(rng() % 12);
    }
    const bool same = rng() % 2 == 0;
    std::vector<AssignorMember> members;
    const int n = 1 + static_cast<int>(rng() % 7);
    std::vector<std::string> all;
    for (const auto& [topic, count] : counts) all.push_back(topic);
    Assignment previous;
    for (int m = 0; m < n; ++m) {
      AssignorMember member{"m" + std::to_string(rng() % 1000) + "-" + std::to_string(m), {}, {}};
      for (const std::string& topic : all) {
        if (same || rng() % 2 == 0) member.topics.push_back(topic);
      }
      members.push_back(member);
    }
    // Twice: the second time with the first result as what members have.
    for (int pass = 0; pass < 2; ++pass) {
      INFO("round " << round << " pass " << pass);
      const Assignment a = Assign(assignor, members, counts);
      REQUIRE(a.size() == members.size());
      std::map<TopicPartition, int> times;
      size_t most = 0, least = SIZE_MAX;
      for (const AssignorMember& m : members) {
        for (const TopicPartition& tp : a.at(m.id)) {
          ++times[tp];
          REQUIRE(std::find(m.topics.begin(), m.topics.end(), tp.topic) != m.topics.end());
        }
        most = std::max(most, a.at(m.id).size());
        least = std::min(least, a.at(m.id).size());
      }
      for (const auto& [topic, count] : counts) {
        const bool read = std::any_of(members.begin(), members.end(), [&](const AssignorMember& m) {
          return std::find(m.topics.begin(), m.topics.end(), topic) != m.topics.end();
        });
        for (int32_t p = 0; p < count; ++p) REQUIRE(times[{topic, p}] == (read ? 1 : 0));
      }
      if (assignor == Assignor::kCooperativeSticky && same) REQUIRE(most - least <= 1);
      if (assignor == Assignor::kCooperativeSticky && pass == 1) REQUIRE(Moved(previous, a) == 0);
      previous = a;
      for (AssignorMember& m : members) m.current = a.at(m.id);
    }
  }
}

}  // namespace
}  // namespace rill::group
