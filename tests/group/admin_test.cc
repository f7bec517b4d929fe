// The admin view of groups on Log: ListGroups, DescribeGroup (members,
// state, generation, and an exact lag per partition), ResetGroupOffsets to
// earliest, latest, a time and an offset, and DeleteGroup -- the last two
// only while the group has no members -- all surviving a reopen.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "group/group_util.h"

namespace rill {
namespace {

using testing::LogKind;
using testing::TestLog;
using testing::TP;

// Lags(d): the lag of each partition described, in order.
std::vector<int64_t> Lags(const GroupDescription& d) {
  std::vector<int64_t> lags;
  for (const GroupPartition& p : d.partitions) lags.push_back(p.lag);
  return lags;
}

TEST_CASE("DescribeGroup reports members, state and an exact lag", "[group][admin]") {
  TestLog log(LogKind::kInMemory);
  REQUIRE_OK(log->CreateTopic("t", {.partitions = 3}));
  testing::Produce(*log, "t", 0, 10);
  testing::Produce(*log, "t", 1, 7);
  CHECK(log->ListGroups().empty());
  CHECK_CODE(log->DescribeGroup("g"), kNotFound);

  Consumer c(*log, {.group = "g",
                    .client_id = "billing",
                    .enable_auto_commit = false,
                    .auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(c.Subscribe({"t"}));
  absl::StatusOr<GroupDescription> d = log->DescribeGroup("g");
  REQUIRE_OK(d);
  CHECK(d->state == GroupState::kRebalancing);  // Targeted, not yet acquired.
  CHECK(d->assignor == Assignor::kRange);
  REQUIRE(d->members.size() == 1);
  CHECK(d->members[0].member_id == "billing-1");
  CHECK(d->members[0].client_id == "billing");
  CHECK(d->members[0].topics == std::vector<std::string>{"t"});
  CHECK(d->members[0].assignment.empty());
  CHECK(d->members[0].target == TP("t", {0, 1, 2}));

  testing::PollUntilStable(*log, "g", {&c});
  REQUIRE_OK(c.Commit({{{"t", 0}, {.offset = 4, .metadata = "m"}}, {{"t", 1}, {.offset = 7}}}));
  d = log->DescribeGroup("g");
  REQUIRE_OK(d);
  CHECK(d->state == GroupState::kStable);
  CHECK(d->generation == 1);
  REQUIRE(d->partitions.size() == 3);
  CHECK(d->partitions[0].partition == TopicPartition{"t", 0});
  CHECK(d->partitions[0].committed_offset == 4);
  CHECK(d->partitions[0].metadata == "m");
  CHECK(d->partitions[0].end_offset == 10);
  CHECK(d->partitions[0].member_id == "billing-1");
  CHECK(d->partitions[2].committed_offset == kNoOffset);
  CHECK(Lags(*d) == std::vector<int64_t>{6, 0, -1});

  // Lag follows appends and commits exactly.
  testing::Produce(*log, "t", 1, 3);
  testing::Produce(*log, "t", 2, 2);
  REQUIRE_OK(c.Commit({{{"t", 2}, {.offset = 1}}}));
  CHECK(Lags(*log->DescribeGroup("g")) == std::vector<int64_t>{6, 3, 1});
  CHECK(log->ListGroups() == std::vector<std::string>{"g"});

  REQUIRE_OK(c.Close());
  d = log->DescribeGroup("g");
  REQUIRE_OK(d);
  CHECK(d->state == GroupState::kEmpty);
  CHECK(d->members.empty());
  CHECK(d->partitions[1].member_id.empty());
  CHECK(Lags(*d) == std::vector<int64_t>{6, 3, 1});
}

TEST_CASE("ResetGroupOffsets moves an empty group's offsets", "[group][admin]") {
  TestLog log(LogKind::kOnDisk);
  REQUIRE_OK(log->CreateTopic("t", {.partitions = 2}));
  Producer producer(*log);
  for (int i = 0; i < 10; ++i) {
    REQUIRE_OK(producer.Send("t", {.value = "v", .timestamp = 1000 + i * 100, .partition = 0}));
    REQUIRE_OK(producer.Send("t", {.value = "v", .timestamp = 1000 + i * 100, .partition = 1}));
  }
  CHECK_CODE(log->ResetGroupOffsets("g", {}), kNotFound);  // Nothing committed, no topic named.
  CHECK_CODE(log->ResetGroupOffsets("g", {.topics = {"missing"}}), kNotFound);
  CHECK_CODE(log->ResetGroupOffsets("", {.topics = {"t"}}), kInvalidArgument);

  absl::StatusOr<OffsetMap> reset =
      log->ResetGroupOffsets("g", {.to = OffsetResetSpec::To::kLatest, .topics = {"t"}});
  REQUIRE_OK(reset);
  REQUIRE(reset->size() == 2);
  CHECK(reset->at({"t", 0}).offset == 10);
  CHECK(reset->at({"t", 1}).offset == 10);
  // The group's topics are the default from now on.
  reset = log->ResetGroupOffsets("g", {.to = OffsetResetSpec::To::kTimestamp, .value = 1450});
  REQUIRE_OK(reset);
  CHECK(reset->at({"t", 0}).offset == 5);
  reset = log->ResetGroupOffsets("g", {.to = OffsetResetSpec::To::kOffset, .value = 99});
  REQUIRE_OK(reset);
  CHECK(reset->at({"t", 1}).offset == 10);  // Moved into [start, end].
  reset = log->ResetGroupOffsets("g", {.to = OffsetResetSpec::To::kOffset, .value = 3});
  REQUIRE_OK(reset);
  reset = log->ResetGroupOffsets("g", {.to = OffsetResetSpec::To::kEarliest, .topics = {"t"}});
  REQUIRE_OK(reset);
  CHECK(reset->at({"t", 0}).offset == 0);
  REQUIRE_OK(log->ResetGroupOffsets("g", {.to = OffsetResetSpec::To::kOffset, .value = 3}));

  {
    Consumer c(*log, {.group = "g", .enable_auto_commit = false});
    REQUIRE_OK(c.Subscribe({"t"}));
    CHECK_CODE(log->ResetGroupOffsets("g", {}), kFailedPrecondition);
    CHECK_CODE(log->DeleteGroup("g"), kFailedPrecondition);
    const std::vector<testing::Received> got = testing::PollUntil(c, 14);
    REQUIRE(got.size() == 14);
    for (const testing::Received& r : got) CHECK(r.offset >= 3);
  }
  log.Reopen();
  absl::StatusOr<GroupDescription> d = log->DescribeGroup("g");
  REQUIRE_OK(d);
  CHECK(d->partitions[0].committed_offset == 3);
  CHECK(d->partitions[0].lag == 7);
}

TEST_CASE("DeleteGroup deletes the committed offsets, durably", "[group][admin]") {
  TestLog log(LogKind::kOnDisk);
  REQUIRE_OK(log->CreateTopic("t"));
  REQUIRE_OK(log->ResetGroupOffsets("g1", {.topics = {"t"}}));
  REQUIRE_OK(log->ResetGroupOffsets("g2", {.topics = {"t"}}));
  CHECK(log->ListGroups() == std::vector<std::string>{"g1", "g2"});
  REQUIRE_OK(log->DeleteGroup("g1"));
  CHECK_CODE(log->DeleteGroup("g1"), kNotFound);
  CHECK(log->ListGroups() == std::vector<std::string>{"g2"});
  log.Reopen();
  CHECK(log->ListGroups() == std::vector<std::string>{"g2"});
  CHECK_CODE(log->DescribeGroup("g1"), kNotFound);
}

TEST_CASE("admin calls on a closed log fail", "[group][admin]") {
  TestLog log(LogKind::kInMemory);
  REQUIRE_OK(log->CreateTopic("t"));
  REQUIRE_OK(log->ResetGroupOffsets("g", {.topics = {"t"}}));
  REQUIRE_OK(log->Close());
  CHECK_CODE(log->DescribeGroup("g"), kFailedPrecondition);
  CHECK_CODE(log->ResetGroupOffsets("g", {}), kFailedPrecondition);
  CHECK_CODE(log->DeleteGroup("g"), kFailedPrecondition);
}

}  // namespace
}  // namespace rill
