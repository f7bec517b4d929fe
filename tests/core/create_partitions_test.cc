// Log::CreatePartitions: a live topic grows, durably; producers place keys
// over the new count, subscribed consumers read the new partitions, and
// producers sending meanwhile from other threads never fail.
#include <atomic>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "core/core_util.h"
#include "rill/rill.h"

namespace rill {
namespace {

using testing::LogKind;
using testing::Received;
using testing::TestLog;

TEST_CASE("CreatePartitions grows a topic and persists it", "[log][partitions]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  REQUIRE_OK(log->CreateTopic("t", {.partitions = 2}));
  Producer producer(*log);
  REQUIRE_OK(producer.Send("t", {.value = "before", .partition = 1}));

  CHECK_CODE(log->CreatePartitions("t", 2), kInvalidArgument);
  CHECK_CODE(log->CreatePartitions("t", 1), kInvalidArgument);
  CHECK_CODE(log->CreatePartitions("t", 100001), kInvalidArgument);
  CHECK_CODE(log->CreatePartitions("missing", 3), kNotFound);
  CHECK(log->DescribeTopic("t")->partitions.size() == 2);

  REQUIRE_OK(log->CreatePartitions("t", 5));
  absl::StatusOr<TopicDescription> d = log->DescribeTopic("t");
  REQUIRE_OK(d);
  CHECK(d->config.partitions == 5);
  REQUIRE(d->partitions.size() == 5);
  CHECK(d->partitions[1].end_offset == 1);
  CHECK(d->partitions[4].end_offset == 0);
  // The new partitions take records, and keys are placed over 5 partitions.
  absl::StatusOr<RecordPosition> pos = producer.Send("t", {.value = "new", .partition = 4});
  REQUIRE_OK(pos);
  CHECK(pos->offset == 0);
  pos = producer.Send("t", {.key = "kafka", .value = "keyed"});
  REQUIRE_OK(pos);
  CHECK(pos->partition == KafkaPartition("kafka", 5));
  CHECK_CODE(producer.Send("t", {.value = "x", .partition = 5}), kOutOfRange);

  if (IsOnDisk(kind)) {
    log.Reopen();
    d = log->DescribeTopic("t");
    REQUIRE_OK(d);
    CHECK(d->config.partitions == 5);
    REQUIRE(d->partitions.size() == 5);
    CHECK(d->partitions[4].end_offset == 1);
    CHECK(log->recovery_report().partitions_recovered == 0);
  }
}

TEST_CASE("a subscribed consumer reads partitions added while it waits", "[log][partitions]") {
  TestLog log(LogKind::kInMemory);
  REQUIRE_OK(log->CreateTopic("t", {.partitions = 1}));
  Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(consumer.Subscribe({"t"}));
  CHECK(testing::Drain(consumer).empty());
  // Catch's assertions are for the test's own thread: the other one keeps
  // its results for it.
  absl::Status grown;
  absl::Status sent;
  std::thread grow([&] {
    absl::SleepFor(absl::Milliseconds(20));
    grown = log->CreatePartitions("t", 3);
    if (!grown.ok()) return;
    Producer producer(*log);
    sent = producer.Send("t", {.value = "p2", .partition = 2}).status();
  });
  const std::vector<Received> got = testing::PollUntil(consumer, 1);
  grow.join();
  REQUIRE_OK(grown);
  REQUIRE_OK(sent);
  REQUIRE(got.size() == 1);
  CHECK(got[0].partition == 2);
  CHECK(got[0].record.value == "p2");
  CHECK(consumer.Assignment().size() == 3);
}

TEST_CASE("producers keep sending while a topic grows", "[log][partitions]") {
  TestLog log(LogKind::kInMemory);
  REQUIRE_OK(log->CreateTopic("t", {.partitions = 1}));
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int64_t> sent{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < 2; ++t) {
    senders.emplace_back([&, t] {
      Producer producer(*log);
      for (int i = 0; !stop.load(); ++i) {
        const std::string key = std::to_string(t) + "-" + std::to_string(i);
        if (!producer.Send("t", {.key = key, .value = "v"}).ok()) failures.fetch_add(1);
        sent.fetch_add(1);
      }
    });
  }
  // WaitForSends(n): until the senders have sent n more records.
  auto wait_for_sends = [&sent](int64_t n) {
    const int64_t target = sent.load() + n;
    while (sent.load() < target) std::this_thread::yield();
  };
  for (int32_t total = 2; total <= 40; ++total) {
    wait_for_sends(10);
    REQUIRE_OK(log->CreatePartitions("t", total));
  }
  wait_for_sends(200);
  stop.store(true);
  for (std::thread& t : senders) t.join();
  CHECK(failures.load() == 0);
  std::set<int32_t> used;
  const absl::StatusOr<TopicDescription> d = log->DescribeTopic("t");
  REQUIRE_OK(d);
  REQUIRE(d->partitions.size() == 40);
  for (const PartitionDescription& p : d->partitions) {
    if (p.end_offset > 0) used.insert(p.partition);
  }
  CHECK(used.size() > 1);
}

}  // namespace
}  // namespace rill
