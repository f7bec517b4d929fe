// The Log: topics (create, list, describe, delete, names, configs), opening
// a directory (and what it refuses), and what closing does to the log, its
// producers and its consumers. Each case runs on both kinds of log.
#include "rill/log.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/core_util.h"
#include "rill/rill.h"

namespace rill {
namespace {

using testing::LogKind;
using testing::TestLog;

TEST_CASE("topics are created, listed, described and deleted", "[log]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  CHECK(log->ListTopics().empty());
  REQUIRE_OK(log->CreateTopic("b"));
  REQUIRE_OK(log->CreateTopic("a", {.partitions = 3, .retention = {.ms = 60000}}));
  CHECK(log->ListTopics() == std::vector<std::string>{"a", "b"});

  absl::StatusOr<TopicDescription> a = log->DescribeTopic("a");
  REQUIRE_OK(a);
  CHECK(a->name == "a");
  CHECK(a->config.partitions == 3);
  CHECK(a->config.retention.ms == 60000);
  REQUIRE(a->partitions.size() == 3);
  for (int32_t p = 0; p < 3; ++p) {
    CHECK(a->partitions[p].partition == p);
    CHECK(a->partitions[p].start_offset == 0);
    CHECK(a->partitions[p].end_offset == 0);
    CHECK(a->partitions[p].bytes == 0);
  }

  {
    Producer producer(*log);
    for (int i = 0; i < 5; ++i) REQUIRE_OK(producer.Send("a", {.value = "x", .partition = 1}));
    for (int i = 0; i < 2; ++i) REQUIRE_OK(producer.Send("b", {.value = "y"}));
  }
  a = log->DescribeTopic("a");
  REQUIRE_OK(a);
  CHECK(a->partitions[0].end_offset == 0);
  CHECK(a->partitions[1].end_offset == 5);
  CHECK(a->partitions[1].bytes > 0);
  CHECK(a->partitions[1].segments >= 1);
  CHECK(a->partitions[2].bytes == 0);
  CHECK(*log->EndOffset({"a", 1}) == 5);
  CHECK(*log->StartOffset({"a", 1}) == 0);

  REQUIRE_OK(log->DeleteTopic("a"));
  CHECK(log->ListTopics() == std::vector<std::string>{"b"});
  CHECK_CODE(log->DescribeTopic("a"), kNotFound);
  CHECK_CODE(log->DeleteTopic("a"), kNotFound);
  CHECK_CODE(log->EndOffset({"a", 1}), kNotFound);
  if (IsOnDisk(kind)) {
    for (int p = 0; p < 3; ++p) {
      CHECK_FALSE(std::filesystem::exists(log.dir() + "/a-" + std::to_string(p)));
    }
    CHECK(std::filesystem::exists(log.dir() + "/b-0"));
  }

  // A topic created again under the name starts empty, with its new shape.
  REQUIRE_OK(log->CreateTopic("a", {.partitions = 2}));
  a = log->DescribeTopic("a");
  REQUIRE_OK(a);
  REQUIRE(a->partitions.size() == 2);
  CHECK(a->partitions[1].end_offset == 0);

  if (IsOnDisk(kind)) {
    log.Reopen();
    CHECK(log->ListTopics() == std::vector<std::string>{"a", "b"});
    a = log->DescribeTopic("a");
    REQUIRE_OK(a);
    CHECK(a->partitions.size() == 2);
    CHECK(*log->EndOffset({"b", 0}) == 2);
  }
}

TEST_CASE("topic names follow Kafka's rule", "[log]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  const std::string bad[] = {
      "../x", "",    ".",           "..", std::string(250, 'x'), std::string("a\0b", 3), "a/b",
      "/",    "a b", "caf\xc3\xa9", "a:b"};
  for (const std::string& name : bad) {
    INFO("name \"" << name << "\" (" << name.size() << " bytes)");
    CHECK_CODE(log->CreateTopic(name), kInvalidArgument);
    Consumer consumer(*log);
    CHECK_CODE(consumer.Subscribe({"ok", name}), kInvalidArgument);
  }
  CHECK(log->ListTopics().empty());

  const std::vector<std::string> good = {
      std::string(249, 'x'), "a", "A-Z_a.z-09", "...", ".x", "x.tmp", "x.properties", "x-1"};
  Producer producer(*log);
  for (const std::string& name : good) {
    INFO("name \"" << name << "\"");
    REQUIRE_OK(log->CreateTopic(name, {.partitions = 2}));
    REQUIRE_OK(producer.Send(name, {.value = name, .partition = 1}));
  }
  const auto check_all = [&] {
    std::vector<std::string> sorted = good;
    std::sort(sorted.begin(), sorted.end());
    CHECK(log->ListTopics() == sorted);
    for (const std::string& name : good) {
      INFO("name \"" << name << "\"");
      Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
      REQUIRE_OK(consumer.Assign({{name, 1}}));
      const std::vector<testing::Received> got = testing::PollUntil(consumer, 1);
      REQUIRE(got.size() == 1);
      CHECK(got[0].topic == name);
      CHECK(got[0].record.value == name);
    }
  };
  check_all();
  if (IsOnDisk(kind)) {
    log.Reopen();
    check_all();
  }
}

TEST_CASE("unknown topics and partitions are reported as such", "[log]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  REQUIRE_OK(log->CreateTopic("t", {.partitions = 2}));
  CHECK_CODE(log->CreateTopic("t"), kAlreadyExists);
  CHECK_CODE(log->CreateTopic("t", {.partitions = 5}), kAlreadyExists);
  CHECK(log->DescribeTopic("t")->partitions.size() == 2);

  CHECK_CODE(log->DescribeTopic("u"), kNotFound);
  CHECK_CODE(log->DeleteTopic("u"), kNotFound);
  CHECK_CODE(log->SetTopicConfig("u", "retention.ms", "1"), kNotFound);
  CHECK_CODE(log->StartOffset({"u", 0}), kNotFound);
  CHECK_CODE(log->EndOffset({"u", 0}), kNotFound);
  CHECK_CODE(log->OffsetForTime({"u", 0}, 0), kNotFound);
  for (int32_t p : {2, -1}) {
    CHECK_CODE(log->StartOffset({"t", p}), kOutOfRange);
    CHECK_CODE(log->EndOffset({"t", p}), kOutOfRange);
    CHECK_CODE(log->OffsetForTime({"t", p}, 0), kOutOfRange);
  }
  Producer producer(*log);
  CHECK_CODE(producer.Send("u", {.value = "v"}), kNotFound);
  CHECK_CODE(producer.SendAsync("u", {.value = "v"}), kNotFound);
  Consumer consumer(*log);
  CHECK_CODE(consumer.Assign({{"u", 0}}), kNotFound);
  CHECK_CODE(consumer.Assign({{"t", 2}}), kOutOfRange);
}

TEST_CASE("TopicConfig::Set takes Kafka's names and refuses bad values", "[log]") {
  TopicConfig c;
  REQUIRE_OK(c.Set("partitions", "12"));
  REQUIRE_OK(c.Set("retention.ms", "86400000"));
  REQUIRE_OK(c.Set("retention.bytes", "-1"));
  REQUIRE_OK(c.Set("segment.bytes", "1048576"));
  REQUIRE_OK(c.Set("segment.ms", "3600000"));
  REQUIRE_OK(c.Set("max.message.bytes", "2000000"));
  REQUIRE_OK(c.Set("message.timestamp.type", "LogAppendTime"));
  REQUIRE_OK(c.Set("index.interval.bytes", "8192"));
  REQUIRE_OK(c.Set("segment.index.bytes", "65536"));
  CHECK(c.partitions == 12);
  CHECK(c.retention.ms == 86400000);
  CHECK(c.retention.bytes == -1);
  CHECK(c.segment_bytes == 1048576);
  CHECK(c.segment_ms == 3600000);
  CHECK(c.max_message_bytes == 2000000);
  CHECK(c.timestamp_type == TimestampType::kLogAppendTime);
  CHECK(c.index_interval_bytes == 8192);
  CHECK(c.segment_index_bytes == 65536);

  // ToMap() gives back what Set() takes.
  TopicConfig copy;
  for (const auto& [name, value] : c.ToMap()) REQUIRE_OK(copy.Set(name, value));
  CHECK(copy.ToMap() == c.ToMap());

  const std::pair<std::string, std::string> bad[] = {
      {"no.such.setting", "1"},
      {"retention.ms", "abc"},
      {"retention.ms", ""},
      {"retention.ms", "12abc"},
      {"retention.ms", "-2"},
      {"retention.ms", "99999999999999999999"},
      {"retention.bytes", "-5"},
      {"partitions", "0"},
      {"partitions", "100001"},
      {"segment.bytes", "13"},
      {"segment.bytes", "4294967296"},
      {"segment.ms", "0"},
      {"max.message.bytes", "-1"},
      {"message.timestamp.type", "logappendtime"},
      {"message.timestamp.type", ""},
      {"segment.index.bytes", "3"},
  };
  for (const auto& [name, value] : bad) {
    INFO(name << "=" << value);
    const auto before = c.ToMap();
    CHECK_CODE(c.Set(name, value), kInvalidArgument);
    CHECK(c.ToMap() == before);
  }
}

TEST_CASE("CreateTopic refuses an invalid config", "[log]") {
  TestLog log(LogKind::kInMemory);
  CHECK_CODE(log->CreateTopic("t", {.partitions = 0}), kInvalidArgument);
  CHECK_CODE(log->CreateTopic("t", {.segment_bytes = 1}), kInvalidArgument);
  CHECK_CODE(log->CreateTopic("t", {.retention = {.ms = -7}}), kInvalidArgument);
  CHECK(log->ListTopics().empty());
}

TEST_CASE("SetTopicConfig changes a live topic, durably", "[log]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind);
  REQUIRE_OK(log->CreateTopic("t", {.partitions = 2}));
  REQUIRE_OK(log->SetTopicConfig("t", "retention.ms", "1234"));
  REQUIRE_OK(log->SetTopicConfig("t", "segment.bytes", "65536"));
  CHECK_CODE(log->SetTopicConfig("t", "partitions", "4"), kInvalidArgument);
  CHECK_CODE(log->SetTopicConfig("t", "retention.ms", "soon"), kInvalidArgument);
  CHECK_CODE(log->SetTopicConfig("t", "no.such.setting", "1"), kInvalidArgument);
  const auto check = [&] {
    absl::StatusOr<TopicDescription> d = log->DescribeTopic("t");
    REQUIRE_OK(d);
    CHECK(d->config.retention.ms == 1234);
    CHECK(d->config.segment_bytes == 65536);
    CHECK(d->config.partitions == 2);
    CHECK(d->partitions.size() == 2);
  };
  check();
  if (IsOnDisk(kind)) {
    log.Reopen();
    check();
  }
}

TEST_CASE("SetTopicConfig takes effect on the live topic at once", "[log]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  testing::FakeClock clock(1'000'000);
  TestLog log(kind, {.clock = &clock});
  REQUIRE_OK(log->CreateTopic("t", {.max_message_bytes = 1000}));
  Producer producer(*log);
  const std::string big(2000, 'b');
  CHECK_CODE(producer.Send("t", {.value = big}), kInvalidArgument);
  REQUIRE_OK(log->SetTopicConfig("t", "max.message.bytes", "100000"));
  REQUIRE_OK(producer.Send("t", {.value = big}));
  REQUIRE_OK(log->SetTopicConfig("t", "max.message.bytes", "500"));
  CHECK_CODE(producer.Send("t", {.value = std::string(800, 'c')}), kInvalidArgument);

  absl::StatusOr<RecordPosition> pos = producer.Send("t", {.value = "v", .timestamp = 5});
  REQUIRE_OK(pos);
  CHECK(pos->timestamp == 5);
  REQUIRE_OK(log->SetTopicConfig("t", "message.timestamp.type", "LogAppendTime"));
  clock.Set(2'000'000);
  pos = producer.Send("t", {.value = "v", .timestamp = 5});
  REQUIRE_OK(pos);
  CHECK(pos->timestamp == 2'000'000);

  Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(consumer.Subscribe({"t"}));
  const std::vector<testing::Received> got = testing::PollUntil(consumer, 3);
  REQUIRE(got.size() == 3);
  CHECK(got[0].record.value == big);
  CHECK(got[1].record.timestamp == 5);
  CHECK(got[2].record.timestamp == 2'000'000);
}

TEST_CASE("auto_create_topics creates a topic on its first send", "[log]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  TestLog log(kind, {.auto_create_topics = true,
                     .default_topic_config = {.partitions = 3, .retention = {.ms = 5000}}});
  Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  REQUIRE_OK(consumer.Subscribe({"auto"}));
  Producer producer(*log);
  REQUIRE_OK(producer.Send("auto", {.value = "first"}));
  REQUIRE_OK(producer.SendAsync("auto2", {.value = "second"}));
  REQUIRE_OK(producer.Flush());
  CHECK(log->ListTopics() == std::vector<std::string>{"auto", "auto2"});
  absl::StatusOr<TopicDescription> d = log->DescribeTopic("auto");
  REQUIRE_OK(d);
  CHECK(d->partitions.size() == 3);
  CHECK(d->config.retention.ms == 5000);
  const std::vector<testing::Received> got = testing::PollUntil(consumer, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].record.value == "first");
  // Names are still checked.
  CHECK_CODE(producer.Send("../auto", {.value = "v"}), kInvalidArgument);
  CHECK(log->ListTopics().size() == 2);
  if (IsOnDisk(kind)) {
    log.Reopen();
    CHECK(log->ListTopics() == std::vector<std::string>{"auto", "auto2"});
  }
}

}  // namespace
}  // namespace rill
