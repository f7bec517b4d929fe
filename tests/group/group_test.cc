// Consumer groups through the public API: members share partitions, eager
// assignors revoke everything and cooperative sticky only what moves, the
// callbacks run in Poll in the right order, rebalances follow joins,
// leaves, subscription changes, topics created, deleted and grown, and a
// member resumes from its group's committed offsets.
#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "group/group_util.h"

namespace rill {
namespace {

using testing::GroupMember;
using testing::LogKind;
using testing::Partitions;
using testing::Received;
using testing::TestLog;
using testing::TP;

TEST_CASE("two range members split a topic; the first revokes everything", "[group]") {
  TestLog log(LogKind::kInMemory);
  REQUIRE_OK(log->CreateTopic("t", {.partitions = 4}));
  GroupMember a(*log, {.group = "g", .client_id = "a"});
  REQUIRE_OK(a->Subscribe({"t"}));
  CHECK(a->member_id() == "a-1");
  CHECK(a->Assignment().empty());  // Partitions come at the next Poll.
  testing::PollUntilStable(*log, "g", {&a.consumer()});
  CHECK(a.owned() == TP("t", {0, 1, 2, 3}));
  CHECK(a->Assignment() == TP("t", {0, 1, 2, 3}));
  a.ClearEvents();

  GroupMember b(*log, {.group = "g", .client_id = "b"});
  REQUIRE_OK(b->Subscribe({"t"}));
  testing::PollUntilStable(*log, "g", {&a.consumer(), &b.consumer()});
  // Range is eager: a hands everything back, then takes its new share.
  REQUIRE(a.events().size() == 2);
  CHECK_FALSE(a.events()[0].assigned);
  CHECK(a.events()[0].partitions == TP("t", {0, 1, 2, 3}));
  CHECK(a.events()[1].assigned);
  CHECK(a.events()[1].partitions == TP("t", {0, 1}));
  REQUIRE(b.events().size() == 1);
  CHECK(b.events()[0].partitions == TP("t", {2, 3}));
  CHECK(a->Assignment() == TP("t", {0, 1}));
  CHECK(b->Assignment() == TP("t", {2, 3}));

  absl::StatusOr<GroupDescription> d = log->DescribeGroup("g");
  REQUIRE_OK(d);
  CHECK(d->state == GroupState::kStable);
  CHECK(d->generation == 2);
  REQUIRE(d->members.size() == 2);
  CHECK(d->members[0].member_id == "a-1");
  CHECK(d->members[0].assignment == TP("t", {0, 1}));
  CHECK(d->members[1].member_id == "b-2");
  CHECK(d->members[1].target == TP("t", {2, 3}));

  // b leaves: on_revoked runs on the closing thread, and a gets it all.
  a.ClearEvents();
  b.Close();
  REQUIRE(b.events().size() == 2);
  CHECK_FALSE(b.events()[1].assigned);
  CHECK(b.events()[1].partitions == TP("t", {2, 3}));
  testing::PollUntilStable(*log, "g", {&a.consumer()});
  CHECK(a.owned() == TP("t", {0, 1, 2, 3}));
}

TEST_CASE("cooperative sticky revokes only the partitions that move", "[group]") {
  TestLog log(LogKind::kInMemory);
  REQUIRE_OK(log->CreateTopic("t", {.partitions = 6}));
  const ConsumerOptions options{.group = "g", .assignor = Assignor::kCooperativeSticky};
  GroupMember a(*log, options);
  GroupMember b(*log, options);
  REQUIRE_OK(a->Subscribe({"t"}));
  REQUIRE_OK(b->Subscribe({"t"}));
  testing::PollUntilStable(*log, "g", {&a.consumer(), &b.consumer()});
  CHECK(a.owned().size() == 3);
  CHECK(b.owned().size() == 3);
  const Partitions a_before = a.owned(), b_before = b.owned();
  a.ClearEvents();
  b.ClearEvents();

  GroupMember c(*log, options);
  REQUIRE_OK(c->Subscribe({"t"}));
  testing::PollUntilStable(*log, "g", {&a.consumer(), &b.consumer(), &c.consumer()});
  // Each old member gives up one partition and keeps two; nobody gets a
  // partition back it had revoked.
  for (GroupMember* m : {&a, &b}) {
    REQUIRE(m->events().size() == 1);
    CHECK_FALSE(m->events()[0].assigned);
    CHECK(m->events()[0].partitions.size() == 1);
    CHECK(m->owned().size() == 2);
  }
  for (const TopicPartition& tp : a.owned()) {
    CHECK(std::find(a_before.begin(), a_before.end(), tp) != a_before.end());
  }
  for (const TopicPartition& tp : b.owned()) {
    CHECK(std::find(b_before.begin(), b_before.end(), tp) != b_before.end());
  }
  REQUIRE(c.events().size() == 1);
  CHECK(c.owned().size() == 2);
}

TEST_CASE("a member resumes from the group's committed offsets", "[group]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  REQUIRE_OK(log->CreateTopic("t", {.partitions = 2}));
  testing::Produce(*log, "t", 0, 10);
  testing::Produce(*log, "t", 1, 4);
  const ConsumerOptions options{.group = "g",
                                .enable_auto_commit = false,
                                .auto_offset_reset = OffsetReset::kEarliest,
                                .max_poll_records = 3};
  {
    Consumer c(*log, options);
    REQUIRE_OK(c.Subscribe({"t"}));
    CHECK_CODE(c.Committed({"t", 0}), kNotFound);
    const std::vector<Received> got = testing::PollUntil(c, 3);
    REQUIRE(got.size() == 3);
    REQUIRE_OK(c.Commit());
    const int64_t p0 = *c.Position({"t", 0});
    const int64_t p1 = *c.Position({"t", 1});
    CHECK(p0 + p1 == 3);
    absl::StatusOr<OffsetAndMetadata> committed = c.Committed({"t", 0});
    REQUIRE_OK(committed);
    CHECK(committed->offset == p0);
    CHECK(committed->commit_timestamp > 0);
    // An explicit commit, with metadata, overrides.
    REQUIRE_OK(
        c.Commit({{{"t", 0}, {.offset = 7, .metadata = "seven"}}, {{"t", 1}, {.offset = 2}}}));
    CHECK(c.Committed({"t", 0})->metadata == "seven");
  }
  if (IsOnDisk(kind)) log.Reopen();
  Consumer c(*log, options);
  REQUIRE_OK(c.Subscribe({"t"}));
  const std::vector<Received> got = testing::PollUntil(c, 5);
  REQUIRE(got.size() == 5);
  std::vector<int64_t> p0, p1;
  for (const Received& r : got) (r.partition == 0 ? p0 : p1).push_back(r.offset);
  CHECK(p0 == std::vector<int64_t>{7, 8, 9});
  CHECK(p1 == std::vector<int64_t>{2, 3});
  CHECK(c.Committed({"t", 0})->metadata == "seven");
}

TEST_CASE("auto-commit commits on its interval and when the consumer closes", "[group]") {
  TestLog log(LogKind::kOnDisk);
  REQUIRE_OK(log->CreateTopic("t"));
  testing::Produce(*log, "t", 0, 6);
  {
    Consumer c(*log, {.group = "g",
                      .auto_commit_interval = absl::Milliseconds(1),
                      .auto_offset_reset = OffsetReset::kEarliest,
                      .max_poll_records = 4});
    REQUIRE_OK(c.Subscribe({"t"}));
    REQUIRE(testing::PollUntil(c, 4).size() == 4);
    absl::SleepFor(absl::Milliseconds(2));
    // This poll commits what the last one returned (at least once), then
    // returns the rest.
    REQUIRE(testing::PollUntil(c, 2).size() == 2);
    CHECK(c.Committed({"t", 0})->offset == 4);
  }  // Closing commits 6.
  log.Reopen();
  Consumer c(*log, {.group = "g", .auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(c.Subscribe({"t"}));
  CHECK(c.Committed({"t", 0})->offset == 6);
  testing::Produce(*log, "t", 0, 1);
  const std::vector<Received> got = testing::PollUntil(c, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].offset == 6);
}

TEST_CASE("auto_offset_reset applies only where nothing is committed", "[group]") {
  TestLog log(LogKind::kInMemory);
  REQUIRE_OK(log->CreateTopic("t", {.partitions = 2}));
  testing::Produce(*log, "t", 0, 5);
  testing::Produce(*log, "t", 1, 5);
  {
    Consumer c(*log, {.group = "g", .auto_offset_reset = OffsetReset::kEarliest});
    REQUIRE_OK(c.Subscribe({"t"}));
    REQUIRE_OK(c.Poll(absl::ZeroDuration()));
    REQUIRE_OK(c.Commit({{{"t", 0}, {.offset = 3}}}));
    c.Unsubscribe();  // Auto-commit commits t-1 at 5 too: undo it.
  }
  REQUIRE_OK(log->DeleteGroup("g"));
  {
    Consumer c(*log, {.group = "g", .enable_auto_commit = false});
    REQUIRE_OK(c.Subscribe({"t"}));
    REQUIRE_OK(c.Poll(absl::ZeroDuration()));
    REQUIRE_OK(c.Commit({{{"t", 0}, {.offset = 3}}}));
  }
  Consumer none(*log, {.group = "g", .auto_offset_reset = OffsetReset::kNone});
  REQUIRE_OK(none.Subscribe({"t"}));
  CHECK_CODE(none.Poll(absl::ZeroDuration()), kFailedPrecondition);  // t-1: nothing.
  REQUIRE_OK(none.Seek({"t", 1}, 1));
  const std::vector<Received> got = testing::Drain(none);
  CHECK(got.size() == 2 + 4);
  Consumer latest(*log, {.group = "h", .auto_offset_reset = OffsetReset::kLatest});
  REQUIRE_OK(latest.Subscribe({"t"}));
  CHECK(testing::Drain(latest).empty());
  CHECK(*latest.Position({"t", 0}) == 5);
}

TEST_CASE("commits are refused where the member has no right to commit", "[group]") {
  TestLog log(LogKind::kInMemory);
  REQUIRE_OK(log->CreateTopic("t", {.partitions = 2}));
  Consumer plain(*log);
  CHECK_CODE(plain.Commit(), kFailedPrecondition);
  CHECK_CODE(plain.Committed({"t", 0}), kFailedPrecondition);
  CHECK_CODE(plain.CommitAsync(), kFailedPrecondition);

  Consumer a(*log, {.group = "g", .client_id = "a"});
  CHECK_OK(a.Commit());                                                    // Nothing to commit.
  CHECK_CODE(a.Commit({{{"t", 0}, {.offset = 1}}}), kFailedPrecondition);  // Not joined.
  CHECK_CODE(a.Assign({{"t", 0}}), kFailedPrecondition);
  REQUIRE_OK(a.Subscribe({"t"}));
  Consumer b(*log, {.group = "g", .client_id = "b"});
  REQUIRE_OK(b.Subscribe({"t"}));
  testing::PollUntilStable(*log, "g", {&a, &b});
  CHECK_CODE(a.Commit({{{"t", 1}, {.offset = 1}}}), kFailedPrecondition);  // b's.
  CHECK_CODE(a.Commit({{{"t", 0}, {.offset = -1}}}), kInvalidArgument);
  CHECK_CODE(a.Commit({{{"t", 0}, {.offset = 1, .metadata = std::string(40000, 'm')}}}),
             kInvalidArgument);
  REQUIRE_OK(a.Commit({{{"t", 0}, {.offset = 1}}}));
  CHECK(b.Committed({"t", 0})->offset == 1);  // The group's, whoever asks.

  Consumer other(*log, {.group = "g", .assignor = Assignor::kRoundRobin});
  CHECK_CODE(other.Subscribe({"t"}), kFailedPrecondition);
  CHECK_CODE(a.Subscribe({"bad name"}), kInvalidArgument);
}

TEST_CASE("CommitAsync reports on the consumer's thread, in a later call", "[group]") {
  const Durability durability = GENERATE(Durability::kProcessCrash, Durability::kPowerLoss);
  const int threads = GENERATE(0, 1);
  TestLog log(LogKind::kOnDisk, {.background_threads = threads});
  REQUIRE_OK(log->CreateTopic("t"));
  testing::Produce(*log, "t", 0, 3);
  Consumer c(*log, {.group = "g",
                    .enable_auto_commit = false,
                    .commit_durability = durability,
                    .auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(c.Subscribe({"t"}));
  REQUIRE(testing::PollUntil(c, 3).size() == 3);
  int calls = 0;
  absl::Status got;
  OffsetMap offsets;
  REQUIRE_OK(c.CommitAsync([&](const absl::Status& s, const OffsetMap& o) {
    ++calls;
    got = s;
    offsets = o;
  }));
  CHECK(calls == 0);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (calls == 0 && absl::Now() < deadline) REQUIRE_OK(c.Poll(absl::Milliseconds(1)));
  REQUIRE(calls == 1);
  CHECK_OK(got);
  REQUIRE(offsets.size() == 1);
  CHECK(offsets.at({"t", 0}).offset == 3);
  CHECK(c.Committed({"t", 0})->offset == 3);
  // Close waits for what is in flight and runs its callback.
  REQUIRE_OK(
      c.CommitAsync({{{"t", 0}, {.offset = 1}}}, [&](const absl::Status& s, const OffsetMap&) {
        ++calls;
        got = s;
      }));
  REQUIRE_OK(c.Close());
  CHECK(calls == 2);
  CHECK_OK(got);
}

TEST_CASE("rebalances follow subscriptions and topics created, deleted and grown", "[group]") {
  TestLog log(LogKind::kInMemory);
  REQUIRE_OK(log->CreateTopic("a", {.partitions = 2}));
  GroupMember m1(*log, {.group = "g", .client_id = "m1"});
  GroupMember m2(*log, {.group = "g", .client_id = "m2"});
  REQUIRE_OK(m1->Subscribe({"a", "b"}));
  REQUIRE_OK(m2->Subscribe({"a"}));
  auto stable = [&] { testing::PollUntilStable(*log, "g", {&m1.consumer(), &m2.consumer()}); };
  stable();
  CHECK(m1.owned() == TP("a", {0}));
  CHECK(m2.owned() == TP("a", {1}));

  // A subscribed topic is created: b goes to m1, the only one reading it.
  REQUIRE_OK(log->CreateTopic("b", {.partitions = 3}));
  stable();
  Partitions expected = TP("a", {0});
  for (const TopicPartition& tp : TP("b", {0, 1, 2})) expected.push_back(tp);
  CHECK(m1.owned() == expected);

  // It grows: range cuts a anew over the members reading it.
  REQUIRE_OK(log->CreatePartitions("a", 4));
  stable();
  CHECK(m1->Assignment().size() == 2 + 3);
  CHECK(m2.owned() == TP("a", {2, 3}));

  // m2 changes its subscription to b.
  REQUIRE_OK(m2->Subscribe({"b"}));
  stable();
  CHECK(m1->Assignment() ==
        (Partitions{{"a", 0}, {"a", 1}, {"a", 2}, {"a", 3}, {"b", 0}, {"b", 1}}));
  CHECK(m2.owned() == TP("b", {2}));

  // b is deleted: its partitions are revoked.
  m2.ClearEvents();
  REQUIRE_OK(log->DeleteTopic("b"));
  stable();
  CHECK(m1.owned() == TP("a", {0, 1, 2, 3}));
  CHECK(m2.owned().empty());
  REQUIRE_FALSE(m2.events().empty());
  CHECK(m2.events().back().partitions == TP("b", {2}));
}

TEST_CASE("a deleted topic's committed offsets are deleted with it", "[group]") {
  TestLog log(LogKind::kOnDisk);
  REQUIRE_OK(log->CreateTopic("t"));
  testing::Produce(*log, "t", 0, 5);
  {
    Consumer c(*log, {.group = "g", .auto_offset_reset = OffsetReset::kEarliest});
    REQUIRE_OK(c.Subscribe({"t"}));
    REQUIRE(testing::PollUntil(c, 5).size() == 5);
    REQUIRE_OK(c.Commit());
    CHECK(c.Committed({"t", 0})->offset == 5);
  }
  REQUIRE_OK(log->DeleteTopic("t"));
  REQUIRE_OK(log->CreateTopic("t"));
  testing::Produce(*log, "t", 0, 2);
  log.Reopen();
  CHECK_CODE(log->DescribeGroup("g"), kNotFound);
  Consumer c(*log, {.group = "g", .auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(c.Subscribe({"t"}));
  CHECK_CODE(c.Committed({"t", 0}), kNotFound);
  const std::vector<Received> got = testing::PollUntil(c, 2);
  REQUIRE(got.size() == 2);
  CHECK(got[0].offset == 0);
}

TEST_CASE("rebalance callbacks may commit but not poll", "[group]") {
  TestLog log(LogKind::kInMemory);
  REQUIRE_OK(log->CreateTopic("t"));
  Consumer* self = nullptr;
  absl::Status poll_status, subscribe_status, close_status;
  ConsumerOptions options{.group = "g"};
  options.on_assigned = [&](const Partitions&) {
    poll_status = self->Poll(absl::ZeroDuration()).status();
    subscribe_status = self->Subscribe({"t"});
    close_status = self->Close();
  };
  Consumer c(*log, options);
  self = &c;
  REQUIRE_OK(c.Subscribe({"t"}));
  REQUIRE_OK(c.Poll(absl::ZeroDuration()));
  CHECK_CODE(poll_status, kFailedPrecondition);
  CHECK_CODE(subscribe_status, kFailedPrecondition);
  CHECK_CODE(close_status, kFailedPrecondition);
  CHECK(c.Assignment() == TP("t", {0}));
}

TEST_CASE("__consumer_offsets is internal: hidden, and written by groups only", "[group]") {
  TestLog log(LogKind::kInMemory);
  REQUIRE_OK(log->CreateTopic("t"));
  Consumer c(*log, {.group = "g"});
  REQUIRE_OK(c.Subscribe({"t"}));
  REQUIRE_OK(c.Poll(absl::ZeroDuration()));
  REQUIRE_OK(c.Commit({{{"t", 0}, {.offset = 0}}}));
  CHECK(log->ListTopics() == std::vector<std::string>{"t"});
  CHECK(log->ListTopics({.include_internal = true}) ==
        std::vector<std::string>{"__consumer_offsets", "t"});
  absl::StatusOr<TopicDescription> d = log->DescribeTopic(kConsumerOffsetsTopic);
  REQUIRE_OK(d);
  CHECK(d->config.retention.ms == -1);
  CHECK(d->config.retention.bytes == -1);
  CHECK(d->partitions[0].end_offset == 1);
  Producer producer(*log);
  CHECK_CODE(producer.Send(kConsumerOffsetsTopic, {.value = "x"}), kInvalidArgument);
  CHECK_CODE(log->DeleteTopic(kConsumerOffsetsTopic), kInvalidArgument);
}

}  // namespace
}  // namespace rill
