// Many producers and consumers on one topic at once: 4 producer threads
// (two sharing a Producer) mixing Send and SendAsync, 4 consumer threads
// reading every partition or one each. Every record must reach its
// consumers exactly once, in offset order without gaps, each producer's
// records to a partition in the order sent, with the key, value and headers
// sent. Over an in-memory log and one on disk.
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "core/core_util.h"
#include "rill/rill.h"

namespace rill {
namespace {

using testing::LogKind;
using testing::TestLog;

constexpr int kProducers = 4;
constexpr int kConsumers = 4;
constexpr int32_t kPartitions = 4;
// Records per producer thread: several hundred thousand in all.
constexpr int64_t kPerProducer = testing::kSanitized ? 8'000 : 75'000;
constexpr int64_t kTotal = kProducers * kPerProducer;

uint64_t SplitMix(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

std::string Bytes(uint64_t* state, size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t r = SplitMix(state);
    std::memcpy(s.data() + i, &r, std::min<size_t>(8, n - i));
  }
  return s;
}

// The record producer `p` sends as its `seq`th: random-looking but
// derived from (p, seq) alone, so a consumer can rebuild it to compare.
// The value starts with p and seq.
struct Expected {
  std::optional<std::string> key;
  std::string value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  std::vector<Header> header_views;

  Record view() {
    header_views.clear();
    for (const auto& [k, v] : headers) header_views.push_back({k, v});
    Record r;
    r.key = key;
    r.value = value;
    r.headers = header_views;
    return r;
  }
};

Expected Make(int producer, int64_t seq) {
  uint64_t state = (static_cast<uint64_t>(producer) << 48) ^ static_cast<uint64_t>(seq);
  Expected e;
  const uint64_t shape = SplitMix(&state);
  if (shape % 16 != 0) e.key = Bytes(&state, shape / 16 % 24);  // 1 in 16 null: sticky.
  e.value.resize(12);
  const uint32_t p = static_cast<uint32_t>(producer);
  std::memcpy(e.value.data(), &p, 4);
  std::memcpy(e.value.data() + 4, &seq, 8);
  e.value += Bytes(&state, shape / 512 % 120);
  for (uint64_t h = shape / 65536 % 3; h > 0; --h) {
    std::optional<std::string> v;
    if (SplitMix(&state) % 4 != 0) v = Bytes(&state, h * 3);
    e.headers.emplace_back("h" + std::to_string(h), std::move(v));
  }
  return e;
}

// What one consumer thread checked; read by the test's thread after join.
struct Checker {
  std::vector<uint8_t> seen = std::vector<uint8_t>(kTotal, 0);
  std::array<int64_t, kPartitions> next_offset{};
  std::array<std::array<int64_t, kProducers>, kPartitions> last_seq;
  int64_t count = 0;
  int64_t errors = 0;
  std::string first_error;

  Checker() {
    for (auto& row : last_seq) row.fill(-1);
  }
  void Fail(const std::string& what) {
    if (errors++ == 0) first_error = what;
  }
  void Check(const RecordView& r) {
    const int32_t part = r.partition();
    if (r.topic() != "stress" || part < 0 || part >= kPartitions) {
      return Fail("a record from " + std::string(r.topic()) + "-" + std::to_string(part));
    }
    const std::string where =
        "partition " + std::to_string(part) + " offset " + std::to_string(r.offset()) + ": ";
    if (r.offset() != next_offset[part]) {
      return Fail(where + "expected offset " + std::to_string(next_offset[part]));
    }
    ++next_offset[part];
    const std::string_view value = r.value();
    if (!r.has_value() || value.size() < 12) return Fail(where + "no producer and sequence");
    uint32_t producer;
    int64_t seq;
    std::memcpy(&producer, value.data(), 4);
    std::memcpy(&seq, value.data() + 4, 8);
    if (producer >= kProducers || seq < 0 || seq >= kPerProducer) {
      return Fail(where + "an unknown producer or sequence");
    }
    Expected e = Make(static_cast<int>(producer), seq);
    const std::string id = "producer " + std::to_string(producer) + " #" + std::to_string(seq);
    if (r.has_key() != e.key.has_value() || (e.key && r.key() != *e.key)) {
      return Fail(where + id + ": wrong key");
    }
    if (value != e.value) return Fail(where + id + ": wrong value");
    size_t h = 0;
    for (const Header& header : r.headers()) {
      if (h >= e.headers.size() || header.key != e.headers[h].first ||
          header.value != e.headers[h].second) {
        return Fail(where + id + ": wrong header " + std::to_string(h));
      }
      ++h;
    }
    if (h != e.headers.size()) return Fail(where + id + ": headers missing");
    if (e.key && KafkaPartition(*e.key, kPartitions) != part) {
      return Fail(where + id + ": in the wrong partition for its key");
    }
    if (seq <= last_seq[part][producer]) {
      return Fail(where + id + ": after #" + std::to_string(last_seq[part][producer]) +
                  " of the same producer");
    }
    last_seq[part][producer] = seq;
    uint8_t& mark = seen[static_cast<size_t>(producer) * kPerProducer + seq];
    if (mark++ != 0) return Fail(where + id + ": seen twice");
    ++count;
  }
};

void RunStress(LogKind kind, bool one_partition_each) {
  TestLog log(kind);
  REQUIRE_OK(log->CreateTopic("stress", {.partitions = kPartitions, .segment_bytes = 4 << 20}));

  std::atomic<int64_t> consumed{0};  // By all consumers.
  const int64_t wanted = one_partition_each ? kTotal : kConsumers * kTotal;
  const absl::Time deadline = absl::Now() + absl::Seconds(testing::kSanitized ? 240 : 60);
  std::vector<std::unique_ptr<Consumer>> consumers;
  std::vector<Checker> checkers(kConsumers);
  std::vector<std::string> poll_errors(kConsumers);
  for (int c = 0; c < kConsumers; ++c) {
    consumers.push_back(std::make_unique<Consumer>(
        *log, ConsumerOptions{.auto_offset_reset = OffsetReset::kEarliest}));
    std::vector<TopicPartition> partitions;
    for (int32_t p = 0; p < kPartitions; ++p) {
      if (!one_partition_each || p == c) partitions.push_back({"stress", p});
    }
    REQUIRE_OK(consumers.back()->Assign(partitions));
  }
  std::vector<std::thread> threads;
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      Checker& checker = checkers[c];
      while (consumed.load() < wanted && checker.errors == 0 && absl::Now() < deadline) {
        absl::StatusOr<ConsumerRecords> records = consumers[c]->Poll(absl::Milliseconds(50));
        if (!records.ok()) {
          poll_errors[c] = records.status().ToString();
          return;
        }
        for (const RecordView& r : *records) checker.Check(r);
        consumed.fetch_add(static_cast<int64_t>(records->size()));
      }
    });
  }

  // Producers 0 and 1 share a Producer; 2 and 3 have their own.
  std::vector<std::unique_ptr<Producer>> producers;
  for (int i = 0; i < 3; ++i) producers.push_back(std::make_unique<Producer>(*log));
  std::atomic<int64_t> callbacks_ok{0};
  std::atomic<int64_t> send_errors{0};
  std::vector<int64_t> async_sent(kProducers, 0);
  std::vector<std::thread> senders;
  for (int p = 0; p < kProducers; ++p) {
    senders.emplace_back([&, p] {
      Producer& producer = *producers[p < 2 ? 0 : p - 1];
      for (int64_t seq = 0; seq < kPerProducer; ++seq) {
        Expected e = Make(p, seq);
        absl::Status s;
        if (seq % 8 == 3) {
          s = producer.Send("stress", e.view()).status();
        } else {
          s = producer.SendAsync("stress", e.view(),
                                 [&](const absl::StatusOr<RecordPosition>& pos) {
                                   if (pos.ok()) {
                                     callbacks_ok.fetch_add(1);
                                   } else {
                                     send_errors.fetch_add(1);
                                   }
                                 });
          ++async_sent[p];
        }
        if (!s.ok()) send_errors.fetch_add(1);
      }
      if (!producer.Flush().ok()) send_errors.fetch_add(1);
    });
  }
  for (std::thread& t : senders) t.join();
  for (auto& producer : producers) REQUIRE_OK(producer->Flush());
  for (std::thread& t : threads) t.join();

  CHECK(send_errors.load() == 0);
  int64_t async_total = 0;
  for (int64_t n : async_sent) async_total += n;
  CHECK(callbacks_ok.load() == async_total);
  int64_t end_total = 0;
  for (int32_t p = 0; p < kPartitions; ++p) end_total += *log->EndOffset({"stress", p});
  CHECK(end_total == kTotal);
  for (int c = 0; c < kConsumers; ++c) {
    INFO("consumer " << c << ": " << checkers[c].first_error << poll_errors[c]);
    CHECK(poll_errors[c].empty());
    CHECK(checkers[c].errors == 0);
  }
  if (one_partition_each) {
    // Together they saw every record once.
    int64_t count = 0;
    for (const Checker& c : checkers) count += c.count;
    CHECK(count == kTotal);
    for (int64_t i = 0; i < kTotal; ++i) {
      int seen = 0;
      for (const Checker& c : checkers) seen += c.seen[i];
      if (seen != 1) FAIL("record " << i << " seen " << seen << " times");
    }
    for (int c = 0; c < kConsumers; ++c) {
      CHECK(checkers[c].next_offset[c] == *log->EndOffset({"stress", c}));
    }
  } else {
    // Each saw every record once.
    for (int c = 0; c < kConsumers; ++c) {
      INFO("consumer " << c);
      CHECK(checkers[c].count == kTotal);
      CHECK(std::count(checkers[c].seen.begin(), checkers[c].seen.end(), 1) == kTotal);
    }
  }
}

TEST_CASE("stress: 4 producers, 4 consumers each reading every partition", "[stress]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  RunStress(kind, /*one_partition_each=*/false);
}

TEST_CASE("stress: 4 producers, 4 consumers reading one partition each", "[stress]") {
  const LogKind kind = GENERATE(LogKind::kInMemory, LogKind::kOnDisk, LogKind::kOnDiskByWrite);
  INFO(testing::LogKindName(kind));
  RunStress(kind, /*one_partition_each=*/true);
}

}  // namespace
}  // namespace rill
