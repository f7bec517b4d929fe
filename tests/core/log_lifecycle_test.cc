// A Log's life: what Log::Open refuses (not a directory, not a log, a newer
// format, a directory another Log or process holds), what Close does to the
// log, its producers and its consumers, and deleting a topic while it is in
// use.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
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
using testing::TempDir;
using testing::TestLog;

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  REQUIRE(out.good());
}

bool Contains(const absl::Status& status, std::string_view part) {
  return std::string(status.message()).find(part) != std::string::npos;
}
bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

TEST_CASE("Log::Open refuses a path that is not a log directory", "[log]") {
  TempDir dir;
  SECTION("a file") {
    WriteFile(dir.Join("file"), "x");
    CHECK_CODE(Log::Open(dir.Join("file")), kInvalidArgument);
  }
  SECTION("an empty path") { CHECK_CODE(Log::Open(""), kInvalidArgument); }
  SECTION("a directory holding something else") {
    WriteFile(dir.Join("notes.txt"), "mine");
    CHECK_CODE(Log::Open(dir.path()), kFailedPrecondition);
    CHECK(std::filesystem::exists(dir.Join("notes.txt")));
    CHECK_FALSE(std::filesystem::exists(dir.Join("meta.properties")));
  }
  SECTION("a missing directory, when told not to create it") {
    CHECK_CODE(Log::Open(dir.Join("missing"), {.create_if_missing = false}), kNotFound);
    CHECK_FALSE(std::filesystem::exists(dir.Join("missing")));
  }
  SECTION("a missing directory is created, parents too") {
    absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir.Join("a/b/c"));
    REQUIRE_OK(log);
    CHECK(std::filesystem::is_directory(dir.Join("a/b/c")));
  }
  SECTION("a log of a newer format") {
    {
      absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir.path());
      REQUIRE_OK(log);
      REQUIRE_OK((*log)->CreateTopic("t"));
    }
    REQUIRE(std::filesystem::exists(dir.Join("meta.properties")));
    WriteFile(dir.Join("meta.properties"), "version=2\n");
    absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir.path());
    REQUIRE_CODE(log, kFailedPrecondition);
    INFO(log.status().message());
    CHECK(Contains(log.status(), "version 2"));
    CHECK(Contains(log.status(), "newer"));
  }
}

TEST_CASE("a log directory is open in one Log at a time", "[log]") {
  TempDir dir;
  // No background threads, so that this process has one thread to fork.
  const LogOptions options = {.background_threads = 0};
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir.path(), options);
  REQUIRE_OK(log);
  REQUIRE_OK((*log)->CreateTopic("t"));
  const std::string pid = std::to_string(getpid());

  absl::StatusOr<std::unique_ptr<Log>> second = Log::Open(dir.path(), options);
  REQUIRE_CODE(second, kFailedPrecondition);
  INFO(second.status().message());
  CHECK(Contains(second.status(), "pid " + pid));

  // A child process is refused too, and told which process holds the log.
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    close(fds[0]);
    absl::StatusOr<std::unique_ptr<Log>> theirs = Log::Open(dir.path(), options);
    const std::string report = std::to_string(static_cast<int>(theirs.status().code())) + " " +
                               std::string(theirs.status().message());
    (void)!write(fds[1], report.data(), report.size());
    _exit(0);
  }
  close(fds[1]);
  std::string report;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) > 0;) report.append(buf, n);
  close(fds[0]);
  int wstatus = 0;
  REQUIRE(waitpid(child, &wstatus, 0) == child);
  CHECK(WIFEXITED(wstatus));
  INFO("the child got: " << report);
  CHECK(report.starts_with(std::to_string(static_cast<int>(absl::StatusCode::kFailedPrecondition)) +
                           " "));
  CHECK(Contains(report, "process " + pid));

  // The parent still holds the log and uses it.
  Producer producer(**log);
  REQUIRE_OK(producer.Send("t", {.value = "still mine"}));
  CHECK_CODE(Log::Open(dir.path(), options), kFailedPrecondition);

  // Once closed, it opens again.
  log->reset();
  absl::StatusOr<std::unique_ptr<Log>> again = Log::Open(dir.path(), options);
  REQUIRE_OK(again);
  CHECK(*(*again)->EndOffset({"t", 0}) == 1);
}

TEST_CASE("after Log::Close the log, its producers and consumers refuse calls", "[log]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  REQUIRE_OK(log->CreateTopic("t", {.partitions = 2}));
  Producer producer(*log);
  Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(consumer.Subscribe({"t"}));
  for (int i = 0; i < 3; ++i) {
    REQUIRE_OK(producer.Send("t", {.key = "k", .value = "value " + std::to_string(i)}));
  }
  absl::StatusOr<ConsumerRecords> records = consumer.Poll(absl::Seconds(5));
  REQUIRE_OK(records);
  REQUIRE(records->size() == 3);

  REQUIRE_OK(log->Close());
  // The views of the last poll are still readable.
  int i = 0;
  for (const RecordView& r : *records) {
    CHECK(r.key() == "k");
    CHECK(r.value() == "value " + std::to_string(i++));
  }
  CHECK(i == 3);

  CHECK_CODE(log->Close(), kFailedPrecondition);
  CHECK_CODE(log->CreateTopic("u"), kFailedPrecondition);
  CHECK_CODE(log->DeleteTopic("t"), kFailedPrecondition);
  CHECK_CODE(log->DescribeTopic("t"), kFailedPrecondition);
  CHECK_CODE(log->SetTopicConfig("t", "retention.ms", "1"), kFailedPrecondition);
  CHECK_CODE(log->StartOffset({"t", 0}), kFailedPrecondition);
  CHECK_CODE(log->EndOffset({"t", 0}), kFailedPrecondition);
  CHECK_CODE(log->OffsetForTime({"t", 0}, 0), kFailedPrecondition);
  CHECK_CODE(log->Sync(), kFailedPrecondition);
  CHECK(log->ListTopics().empty());

  CHECK_CODE(producer.Send("t", {.value = "v"}), kFailedPrecondition);
  CHECK_CODE(producer.SendAsync("t", {.value = "v"}), kFailedPrecondition);
  CHECK_CODE(consumer.Poll(absl::ZeroDuration()), kFailedPrecondition);
  CHECK_CODE(consumer.Subscribe({"t"}), kFailedPrecondition);
  CHECK_CODE(consumer.Assign({{"t", 0}}), kFailedPrecondition);
  CHECK_CODE(consumer.Seek({"t", 0}, 0), kFailedPrecondition);
  CHECK_CODE(consumer.SeekToBeginning(), kFailedPrecondition);
  CHECK_CODE(consumer.SeekToEnd(), kFailedPrecondition);
  CHECK_CODE(consumer.SeekToTime(0), kFailedPrecondition);
  CHECK_CODE(consumer.Position({"t", 0}), kFailedPrecondition);

  // Producers and consumers made after the close are refused as well.
  Producer late_producer(*log);
  CHECK_CODE(late_producer.Send("t", {.value = "v"}), kFailedPrecondition);
  Consumer late_consumer(*log);
  CHECK_CODE(late_consumer.Subscribe({"t"}), kFailedPrecondition);
  CHECK_CODE(late_consumer.Poll(absl::ZeroDuration()), kFailedPrecondition);
}

TEST_CASE("producers and consumers may outlive the Log object", "[log]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk);
  INFO(testing::LogKindName(kind));
  TestLog log(kind, {.background_threads = 0});
  REQUIRE_OK(log->CreateTopic("t"));
  auto producer = std::make_unique<Producer>(*log, ProducerOptions{.linger = absl::Hours(1)});
  auto consumer = std::make_unique<Consumer>(*log);
  REQUIRE_OK(consumer->Subscribe({"t"}));
  // A batch still pending when the log goes: closing the log appends it.
  testing::SendResults results(1);
  REQUIRE_OK(producer->SendAsync("t", {.value = "pending"}, results.Callback(0)));
  CHECK(results.calls(0) == 0);

  log.Reset();
  CHECK(results.calls(0) == 1);
  CHECK_OK(results.result(0));
  CHECK_CODE(producer->Send("t", {.value = "v"}), kFailedPrecondition);
  CHECK_CODE(producer->SendAsync("t", {.value = "v"}), kFailedPrecondition);
  CHECK_CODE(consumer->Poll(absl::Milliseconds(1)), kFailedPrecondition);
  CHECK_CODE(consumer->Position({"t", 0}), kFailedPrecondition);
  producer.reset();
  consumer.reset();

  if (kind == LogKind::kOnDisk) {
    log.Reopen();
    Consumer reader(*log, {.auto_offset_reset = OffsetReset::kEarliest});
    REQUIRE_OK(reader.Subscribe({"t"}));
    const std::vector<testing::Received> got = testing::PollUntil(reader, 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].record.value == "pending");
  }
}

TEST_CASE("a Poll waiting on another thread returns when the log closes", "[log]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk);
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
  absl::Mutex mu;
  std::string first_error ABSL_GUARDED_BY(mu);

  void Error(const std::string& what) {
    absl::MutexLock lock(&mu);
    if (errors.fetch_add(1) == 0) first_error = what;
  }
  std::string FirstError() {
    absl::MutexLock lock(&mu);
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
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk);
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
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk);
  INFO(testing::LogKindName(kind));
  TestLog log(kind, {.auto_create_topics = true});
  Producer producer(*log, {.linger = absl::Hours(1)});
  std::atomic<int> sent{0};
  absl::Notification done;
  std::thread sender([&] {
    for (int i = 0;; ++i) {
      const std::string topic = "auto-" + std::to_string(i % 50);
      if (!producer.SendAsync(topic, {.value = "v"}).ok()) break;
      sent.fetch_add(1);
    }
    done.Notify();
  });
  while (sent.load() < 100) absl::SleepFor(absl::Microseconds(100));
  REQUIRE_OK(log->Close());
  const bool finished = done.WaitForNotificationWithTimeout(absl::Seconds(20));
  sender.join();  // If it hangs here, Close and the sender deadlocked.
  CHECK(finished);
}

TEST_CASE("Producer::Close and Consumer::Close end their own use", "[log]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  REQUIRE_OK(log->CreateTopic("t"));
  Producer producer(*log, {.linger = absl::Hours(1)});
  testing::SendResults results(1);
  REQUIRE_OK(producer.SendAsync("t", {.value = "pending"}, results.Callback(0)));
  REQUIRE_OK(producer.Close());  // Flushes first.
  CHECK(results.calls(0) == 1);
  CHECK(*log->EndOffset({"t", 0}) == 1);
  CHECK_CODE(producer.Send("t", {.value = "v"}), kFailedPrecondition);
  CHECK_CODE(producer.SendAsync("t", {.value = "v"}), kFailedPrecondition);

  Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(consumer.Subscribe({"t"}));
  absl::StatusOr<ConsumerRecords> records = consumer.Poll(absl::Seconds(5));
  REQUIRE_OK(records);
  REQUIRE(records->size() == 1);
  REQUIRE_OK(consumer.Close());
  CHECK_CODE(consumer.Close(), kFailedPrecondition);
  CHECK_CODE(consumer.Poll(absl::ZeroDuration()), kFailedPrecondition);
  CHECK_CODE(consumer.Subscribe({"t"}), kFailedPrecondition);
  CHECK_CODE(consumer.Position({"t", 0}), kFailedPrecondition);
  // The log itself goes on.
  Producer other(*log);
  REQUIRE_OK(other.Send("t", {.value = "more"}));
  CHECK(*log->EndOffset({"t", 0}) == 2);
}

}  // namespace
}  // namespace rill
