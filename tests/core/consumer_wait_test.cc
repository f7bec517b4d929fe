// How a Consumer waits at the end of its partitions: asleep (no CPU burnt)
// until an append, a new topic it subscribed to, or Wakeup() ends the wait;
// or spinning, when busy_poll asks for it.
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/synchronization/notification.h"
#include "core/core_util.h"
#include "rill/rill.h"

namespace rill {
namespace {

using testing::LogKind;
using testing::TestLog;

// What one Poll on another thread returned.
struct PollOutcome {
  absl::StatusCode code = absl::StatusCode::kUnknown;
  std::vector<std::string> values;
  std::vector<std::string> topics;
  int64_t cpu_nanos = 0;
  absl::Duration waited;
};

// BackgroundPoll: runs one consumer.Poll(timeout) on a thread of its own.
// Finish() waits for it, with a watchdog: a Poll still waiting after
// `patience` is ended with Wakeup() (and reported as kCancelled), so that a
// test fails instead of hanging.
class BackgroundPoll {
 public:
  BackgroundPoll(Consumer& consumer, absl::Duration timeout) : consumer_(consumer) {
    thread_ = std::thread([this, timeout] {
      started_.Notify();
      const int64_t cpu = testing::ThreadCpuNanos();
      const absl::Time start = absl::Now();
      absl::StatusOr<ConsumerRecords> records = consumer_.Poll(timeout);
      outcome_.waited = absl::Now() - start;
      outcome_.code = records.status().code();
      if (records.ok()) {
        for (const RecordView& r : *records) {
          outcome_.values.emplace_back(r.value());
          outcome_.topics.emplace_back(r.topic());
        }
      }
      outcome_.cpu_nanos = testing::ThreadCpuNanos() - cpu;
      done_.Notify();
    });
    started_.WaitForNotification();
  }
  ~BackgroundPoll() {
    if (thread_.joinable()) Finish();
  }

  const PollOutcome& Finish(absl::Duration patience = absl::Seconds(20)) {
    if (!done_.WaitForNotificationWithTimeout(patience)) consumer_.Wakeup();
    thread_.join();
    return outcome_;
  }

 private:
  Consumer& consumer_;
  absl::Notification started_;
  absl::Notification done_;
  PollOutcome outcome_;
  std::thread thread_;
};

TEST_CASE("Poll sleeps until an append from another thread wakes it", "[consumer]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  REQUIRE_OK(log->CreateTopic("t", {.partitions = 2}));
  Producer producer(*log);
  Consumer consumer(*log, {.busy_poll = absl::ZeroDuration()});
  REQUIRE_OK(consumer.Subscribe({"t"}));
  REQUIRE(*consumer.Position({"t", 1}) == 0);  // kLatest, resolved now.

  BackgroundPoll poll(consumer, absl::Seconds(60));
  absl::SleepFor(absl::Milliseconds(200));
  REQUIRE_OK(producer.Send("t", {.value = "wake up", .partition = 1}));
  const PollOutcome& outcome = poll.Finish();
  REQUIRE(outcome.code == absl::StatusCode::kOk);
  CHECK(outcome.values == std::vector<std::string>{"wake up"});
  // It slept: a spinning wait would have burnt about 200 ms of CPU.
  INFO("CPU time while waiting: " << outcome.cpu_nanos / 1000 << " us");
  CHECK(outcome.cpu_nanos < 20'000'000);
}

TEST_CASE("Poll with nothing to read sleeps until its timeout", "[consumer]") {
  TestLog log(LogKind::kInMemory);
  REQUIRE_OK(log->CreateTopic("t"));
  Consumer consumer(*log);
  REQUIRE_OK(consumer.Subscribe({"t"}));
  BackgroundPoll poll(consumer, absl::Milliseconds(200));
  const PollOutcome& outcome = poll.Finish();
  REQUIRE(outcome.code == absl::StatusCode::kOk);
  CHECK(outcome.values.empty());
  CHECK(outcome.waited >= absl::Milliseconds(200));
  INFO("CPU time while waiting: " << outcome.cpu_nanos / 1000 << " us");
  CHECK(outcome.cpu_nanos < 20'000'000);
}

TEST_CASE("a subscribed consumer picks up a topic created later", "[consumer]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  Producer producer(*log);
  Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(consumer.Subscribe({"later", "waited-for"}));
  CHECK(consumer.Assignment().empty());
  CHECK(testing::Drain(consumer).empty());

  // Between polls.
  REQUIRE_OK(log->CreateTopic("later", {.partitions = 2}));
  REQUIRE_OK(producer.Send("later", {.value = "first"}));
  std::vector<testing::Received> got = testing::PollUntil(consumer, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].record.value == "first");
  CHECK(consumer.Assignment() == std::vector<TopicPartition>{{"later", 0}, {"later", 1}});

  // While a poll waits on another thread.
  BackgroundPoll poll(consumer, absl::Seconds(60));
  absl::SleepFor(absl::Milliseconds(100));
  REQUIRE_OK(log->CreateTopic("waited-for"));
  REQUIRE_OK(producer.Send("waited-for", {.value = "second"}));
  const PollOutcome& outcome = poll.Finish();
  REQUIRE(outcome.code == absl::StatusCode::kOk);
  CHECK(outcome.values == std::vector<std::string>{"second"});
  CHECK(outcome.topics == std::vector<std::string>{"waited-for"});
}

TEST_CASE("Wakeup makes a waiting Poll, or the next one, return kCancelled", "[consumer]") {
  TestLog log(LogKind::kInMemory);
  REQUIRE_OK(log->CreateTopic("t"));
  Producer producer(*log);
  Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(consumer.Subscribe({"t"}));
  {
    BackgroundPoll poll(consumer, absl::Seconds(60));
    absl::SleepFor(absl::Milliseconds(100));
    consumer.Wakeup();
    const PollOutcome& outcome = poll.Finish(absl::Seconds(20));
    CHECK(outcome.code == absl::StatusCode::kCancelled);
    CHECK(outcome.waited < absl::Seconds(20));
  }
  // The wakeup is used up: the next Poll works.
  REQUIRE_OK(producer.Send("t", {.value = "v"}));
  std::vector<testing::Received> got = testing::PollUntil(consumer, 1);
  CHECK(got.size() == 1);

  // A Wakeup before the Poll cancels it even with records waiting.
  REQUIRE_OK(producer.Send("t", {.value = "w"}));
  consumer.Wakeup();
  CHECK_CODE(consumer.Poll(absl::Seconds(5)), kCancelled);
  got = testing::PollUntil(consumer, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].record.value == "w");
}

TEST_CASE("busy_poll consumers receive records too", "[consumer]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  const absl::Duration busy = GENERATE(absl::Milliseconds(20), absl::InfiniteDuration());
  INFO(testing::LogKindName(kind) << ", busy_poll " << absl::FormatDuration(busy));
  TestLog log(kind);
  REQUIRE_OK(log->CreateTopic("t"));
  Producer producer(*log);
  Consumer consumer(*log, {.busy_poll = busy});
  REQUIRE_OK(consumer.Subscribe({"t"}));
  REQUIRE(*consumer.Position({"t", 0}) == 0);
  for (int round = 0; round < 3; ++round) {
    BackgroundPoll poll(consumer, absl::Seconds(60));
    absl::SleepFor(absl::Milliseconds(50));
    const std::string value = "round " + std::to_string(round);
    REQUIRE_OK(producer.Send("t", {.value = value}));
    const PollOutcome& outcome = poll.Finish();
    REQUIRE(outcome.code == absl::StatusCode::kOk);
    CHECK(outcome.values == std::vector<std::string>{value});
  }
  // A spinning Poll still answers Wakeup.
  BackgroundPoll poll(consumer, absl::Seconds(60));
  absl::SleepFor(absl::Milliseconds(20));
  consumer.Wakeup();
  const PollOutcome& outcome = poll.Finish(absl::Seconds(20));
  CHECK(outcome.code == absl::StatusCode::kCancelled);
  CHECK(outcome.waited < absl::Seconds(20));
}

}  // namespace
}  // namespace rill
