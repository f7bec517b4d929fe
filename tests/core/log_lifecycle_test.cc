// A Log's life: what Log::Open refuses (not a directory, not a log, a newer
// format, a directory another Log or process holds), and what closing does
// to the log, its producers and its consumers.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

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
  SECTION("a damaged settings file is data loss naming the file and the line") {
    {
      absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir.path());
      REQUIRE_OK(log);
      REQUIRE_OK((*log)->CreateTopic("t"));
    }
    for (const std::string& path : {dir.Join("meta.properties"), dir.Join("topics/t")}) {
      const std::string kept = dir.Join("kept");
      REQUIRE(std::filesystem::copy_file(path, kept));
      WriteFile(path, "# rill\nversion=1\npartitions=1\n\x7f garbled\n");
      absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(dir.path());
      REQUIRE_CODE(log, kDataLoss);
      INFO(log.status().message());
      CHECK(Contains(log.status(), path + ": line 4 is not key=value"));
      std::filesystem::rename(kept, path);
      REQUIRE_OK(Log::Open(dir.path()));
    }
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
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
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
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
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

  if (IsOnDisk(kind)) {
    log.Reopen();
    Consumer reader(*log, {.auto_offset_reset = OffsetReset::kEarliest});
    REQUIRE_OK(reader.Subscribe({"t"}));
    const std::vector<testing::Received> got = testing::PollUntil(reader, 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].record.value == "pending");
  }
}

TEST_CASE("Producer::Close and Consumer::Close end their own use", "[log]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
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
