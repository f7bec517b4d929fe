// max_poll_interval: a member that stops polling is removed -- noticed by
// another member's polls, or by the log's timer when no member polls -- its
// partitions go to the others without its callbacks; at its next Poll it
// finds out (on_revoked, as Kafka's onPartitionsLost), its commits of what
// it had fail with kFailedPrecondition, and it joins again. No timing is
// asserted beyond generous deadlines.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "group/group_util.h"

namespace rill {
namespace {

using testing::GroupMember;
using testing::LogKind;
using testing::Partitions;
using testing::TestLog;
using testing::TP;

constexpr absl::Duration kDeadline = absl::Seconds(20);

TEST_CASE("a member that stops polling loses its partitions to one that polls",
          "[group][eviction]") {
  TestLog log(LogKind::kInMemory, {.background_threads = 0});  // Polls alone notice.
  REQUIRE_OK(log->CreateTopic("t", {.partitions = 4}));
  testing::Produce(*log, "t", 0, 5);
  const ConsumerOptions options{.group = "g",
                                .enable_auto_commit = false,
                                .max_poll_interval = absl::Milliseconds(100),
                                .auto_offset_reset = OffsetReset::kEarliest};
  GroupMember stalled(*log, options);
  GroupMember live(*log, options);
  REQUIRE_OK(stalled->Subscribe({"t"}));
  REQUIRE_OK(live->Subscribe({"t"}));
  testing::PollUntilStable(*log, "g", {&stalled.consumer(), &live.consumer()});
  const Partitions had = stalled.owned();
  REQUIRE(had == TP("t", {0, 1}));
  REQUIRE_OK(stalled->Commit());
  stalled.ClearEvents();

  // Only `live` polls now: after 100 ms `stalled` is removed, and `live`
  // gets everything.
  const absl::Time deadline = absl::Now() + kDeadline;
  while (live.owned().size() < 4 && absl::Now() < deadline) {
    REQUIRE_OK(live->Poll(absl::Milliseconds(10)));
  }
  REQUIRE(live.owned() == TP("t", {0, 1, 2, 3}));
  CHECK(stalled.events().empty());  // No callback ran for it meanwhile.
  absl::StatusOr<GroupDescription> d = log->DescribeGroup("g");
  REQUIRE_OK(d);
  REQUIRE(d->members.size() == 1);
  CHECK(d->members[0].member_id == live->member_id());

  // The zombie's commits fail with a clear error.
  const absl::Status commit = stalled->Commit({{{"t", 0}, {.offset = 1}}});
  CHECK_CODE(commit, kFailedPrecondition);
  CHECK(std::string(commit.message()).find("max_poll_interval") != std::string::npos);

  // Its next Poll tells it what it lost, then it joins again and the two
  // share the partitions once more.
  const std::string old_id = stalled->member_id();
  REQUIRE_OK(stalled->Poll(absl::ZeroDuration()));
  REQUIRE_FALSE(stalled.events().empty());
  CHECK_FALSE(stalled.events()[0].assigned);
  CHECK(stalled.events()[0].partitions == had);
  CHECK(stalled->member_id() != old_id);
  testing::PollUntilStable(*log, "g", {&stalled.consumer(), &live.consumer()});
  CHECK(stalled.owned().size() == 2);
  CHECK(live.owned().size() == 2);
  CHECK(log->DescribeGroup("g")->members.size() == 2);
}

TEST_CASE("the log's timer removes a member when nobody polls", "[group][eviction]") {
  TestLog log(LogKind::kInMemory);  // One background thread: the timer runs.
  REQUIRE_OK(log->CreateTopic("t", {.partitions = 2}));
  GroupMember m(*log, {.group = "g", .max_poll_interval = absl::Milliseconds(50)});
  REQUIRE_OK(m->Subscribe({"t"}));
  testing::PollUntilStable(*log, "g", {&m.consumer()});
  REQUIRE(m.owned().size() == 2);
  const absl::Time deadline = absl::Now() + kDeadline;
  while (log->DescribeGroup("g").ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  // The group had no offsets and now has no members: it is gone.
  CHECK_CODE(log->DescribeGroup("g"), kNotFound);
  m.ClearEvents();
  REQUIRE_OK(m->Poll(absl::ZeroDuration()));
  REQUIRE(m.events().size() == 2);
  CHECK_FALSE(m.events()[0].assigned);  // Lost...
  CHECK(m.events()[1].assigned);        // ... and taken again after rejoining.
  CHECK(m.owned().size() == 2);
}

TEST_CASE("a member waiting inside Poll is not removed", "[group][eviction]") {
  TestLog log(LogKind::kInMemory);
  REQUIRE_OK(log->CreateTopic("t"));
  // The interval leaves room for a loaded machine between the two Polls
  // below; the long Poll outlasts it fivefold.
  GroupMember m(*log, {.group = "g", .max_poll_interval = absl::Milliseconds(100)});
  REQUIRE_OK(m->Subscribe({"t"}));
  testing::PollUntilStable(*log, "g", {&m.consumer()});
  m.ClearEvents();
  // One long Poll: the member is polling all along.
  REQUIRE_OK(m->Poll(absl::Milliseconds(500)));
  CHECK(m.events().empty());
  absl::StatusOr<GroupDescription> d = log->DescribeGroup("g");
  REQUIRE_OK(d);
  CHECK(d->members.size() == 1);
  CHECK(d->members[0].member_id == m->member_id());
}

}  // namespace
}  // namespace rill
