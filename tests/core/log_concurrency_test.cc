// Closing a log and deleting a topic while other threads use them: a Poll
// waiting on another thread, producers sending (and creating topics), and
// consumers reading the topic being deleted.
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "util/mutex.h"
#include "absl/synchronization/notification.h"
#include "core/core_util.h"
#include "rill/rill.h"

namespace rill {
namespace {

using testing::LogKind;
using testing::TestLog;

TEST_CASE("a Poll waiting on another thread returns when the log closes", "[log]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  REQUIRE_OK(log->CreateTopic("t"));
  Consumer consumer(*log);
  REQUIRE_OK(consumer.Subscribe({"t"}));
  absl::Notification started;
  absl::Notification done;
  absl::StatusCode code = absl::StatusCode::kOk;
  std::thread poller([&] {
    started.Notify();
    code = consumer.Poll(absl::Seconds(60)).status().code();
    done.Notify();
  });
  started.WaitForNotification();
  absl::SleepFor(absl::Milliseconds(100));  // Let it go to sleep.
  REQUIRE_OK(log->Close());
  const bool returned = done.WaitForNotificationWithTimeout(absl::Seconds(10));
  if (!returned) consumer.Wakeup();  // Do not leave the thread behind.
  poller.join();
  CHECK(returned);
  CHECK(code == absl::StatusCode::kFailedPrecondition);
}

// What a thread saw, reported to the test's thread (Catch2's assertions are
// for that one only).
struct Seen {
  std::atomic<int64_t> doomed{0};
  std::atomic<int64_t> kept{0};
  std::atomic<int64_t> doomed_after_delete{0};
  std::atomic<int> errors{0};
  Mutex mu;
  std::string first_error ABSL_GUARDED_BY(mu);

  void Error(const std::string& what) {
    MutexLock lock(&mu);
    if (errors.fetch_add(1) == 0) first_error = what;
  }
  std::string FirstError() {
    MutexLock lock(&mu);
    return first_error;
  }
};

// Poll(consumer, ...): polls until `stop`, counting records per topic.
void PollUntilStopped(Consumer& consumer, const std::atomic<bool>& deleted,
                      const std::atomic<bool>& stop, Seen* seen) {
  std::map<std::pair<std::string, int32_t>, int64_t> next;  // Offsets expected.
  while (!stop.load()) {
    const bool deleted_before = deleted.load();
    absl::StatusOr<ConsumerRecords> records = consumer.Poll(absl::Milliseconds(20));
    if (!records.ok()) {
      seen->Error("Poll: " + records.status().ToString());
      return;
    }
    for (const RecordView& r : *records) {
      int64_t& expected = next[{std::string(r.topic()), r.partition()}];
      if (r.offset() != expected) {
        seen->Error(std::string(r.topic()) + "-" + std::to_string(r.partition()) + ": offset " +
                    std::to_string(r.offset()) + " where " + std::to_string(expected) +
                    " was expected" + (deleted.load() ? " (after the deletion)" : ""));
        return;
      }
      ++expected;
      if (r.topic() == "doomed") {
        seen->doomed.fetch_add(1);
        if (deleted_before) seen->doomed_after_delete.fetch_add(1);
      } else {
        seen->kept.fetch_add(1);
      }
    }
  }
}

TEST_CASE("DeleteTopic while a producer sends to it and consumers read it", "[log]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  const Durability durability = GENERATE(Durability::kProcessCrash, Durability::kPowerLoss);
  INFO(testing::LogKindName(kind) << (durability == Durability::kPowerLoss ? ", kPowerLoss" : ""));
  TestLog log(kind);
  REQUIRE_OK(log->CreateTopic("doomed", {.partitions = 3}));
  REQUIRE_OK(log->CreateTopic("kept"));

  std::atomic<bool> deleted{false};
  std::atomic<bool> stop{false};
  Seen subscribed_seen;
  Seen assigned_seen;
  Consumer subscribed(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(subscribed.Subscribe({"doomed", "kept"}));
  Consumer assigned(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(assigned.Assign({{"doomed", 0}, {"doomed", 2}, {"kept", 0}}));
  std::thread subscribed_thread(
      [&] { PollUntilStopped(subscribed, deleted, stop, &subscribed_seen); });
  std::thread assigned_thread([&] { PollUntilStopped(assigned, deleted, stop, &assigned_seen); });

  // The producer sends to both topics until the doomed one is gone, then
  // 100 more records to the other.
  Producer producer(*log, {.durability = durability});
  constexpr int kAsyncMax = 1 << 20;
  testing::SendResults async(kAsyncMax);
  std::atomic<int> async_sent{0};
  std::atomic<int64_t> kept_sent{0};
  std::atomic<int> refusal{0};  // The status code of the first refused send.
  Seen producer_seen;
  std::thread producer_thread([&] {
    int after = 0;
    for (int i = 0; after < 100 && i < kAsyncMax; ++i) {
      if (refusal.load() == 0) {
        absl::Status s;
        if (i % 2 == 0) {
          s = producer.Send("doomed", {.key = std::to_string(i), .value = "d"}).status();
        } else {
          s = producer.SendAsync("doomed", {.key = std::to_string(i), .value = "d"},
                                 async.Callback(async_sent.load()));
          if (s.ok()) async_sent.fetch_add(1);
        }
        if (!s.ok()) refusal.store(static_cast<int>(s.code()));
      } else {
        ++after;
      }
      absl::Status s = producer.Send("kept", {.value = "k"}).status();
      if (!s.ok()) {
        producer_seen.Error("Send to kept: " + s.ToString());
        return;
      }
      kept_sent.fetch_add(1);
    }
  });

  // Delete once the consumers are reading it.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while ((subscribed_seen.doomed.load() < 20 || assigned_seen.doomed.load() < 20) &&
         absl::Now() < deadline && subscribed_seen.errors.load() == 0 &&
         assigned_seen.errors.load() == 0) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  const absl::Status deleted_status = log->DeleteTopic("doomed");
  deleted.store(true);
  producer_thread.join();
  const absl::Status flushed = producer.Flush();
  // The consumers catch up with the other topic, then stop.
  while ((subscribed_seen.kept.load() < kept_sent.load() ||
          assigned_seen.kept.load() < kept_sent.load()) &&
         absl::Now() < deadline && subscribed_seen.errors.load() == 0 &&
         assigned_seen.errors.load() == 0) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  stop.store(true);
  subscribed_thread.join();
  assigned_thread.join();

  REQUIRE_OK(deleted_status);
  INFO("subscribed consumer: " << subscribed_seen.FirstError());
  INFO("assigned consumer: " << assigned_seen.FirstError());
  INFO("producer: " << producer_seen.FirstError());
  CHECK(subscribed_seen.errors.load() == 0);
  CHECK(assigned_seen.errors.load() == 0);
  CHECK(producer_seen.errors.load() == 0);
  CHECK(subscribed_seen.doomed.load() >= 20);
  CHECK(refusal.load() == static_cast<int>(absl::StatusCode::kNotFound));
  // Every SendAsync callback ran once, with its record's fate.
  for (int i = 0; i < async_sent.load(); ++i) {
    INFO("SendAsync #" << i << ": " << async.result(i).status());
    REQUIRE(async.calls(i) == 1);
    const absl::StatusCode code = async.result(i).status().code();
    CHECK((code == absl::StatusCode::kOk || code == absl::StatusCode::kNotFound));
  }
  CHECK((flushed.ok() || absl::IsNotFound(flushed)));
  // The consumers dropped the topic and went on with the other one.
  CHECK(subscribed_seen.doomed_after_delete.load() == 0);
  CHECK(assigned_seen.doomed_after_delete.load() == 0);
  CHECK(subscribed_seen.kept.load() == kept_sent.load());
  CHECK(assigned_seen.kept.load() == kept_sent.load());
  CHECK(subscribed.Assignment() == std::vector<TopicPartition>{{"kept", 0}});
  CHECK(assigned.Assignment() == std::vector<TopicPartition>{{"kept", 0}});
  CHECK(log->ListTopics() == std::vector<std::string>{"kept"});
}

TEST_CASE("Log::Close while producers create topics as they send", "[log]") {
  // Closing flushes producers while senders may be creating topics: the
  // two must not wait for each other.
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind, {.auto_create_topics = true});
  Producer producer(*log, {.linger = absl::Hours(1)});
  std::atomic<int> sent{0};
  absl::Notification done;
  std::thread sender([&] {
    for (int i = 0;; ++i) {
      const std::string topic = "auto-" + std::to_string(i % 8);
      if (!producer.SendAsync(topic, {.value = "v"}).ok()) break;
      sent.fetch_add(1);
    }
    done.Notify();
  });
  while (sent.load() < 20) absl::SleepFor(absl::Microseconds(100));
  REQUIRE_OK(log->Close());
  const bool finished = done.WaitForNotificationWithTimeout(absl::Seconds(20));
  sender.join();  // If it hangs here, Close and the sender deadlocked.
  CHECK(finished);
}

}  // namespace
}  // namespace rill
