// Benchmarks of rill's public API on an in-memory log, so that the cost per
// record of the producer and consumer code -- not of fresh pages or the
// device -- is what they show: SendAsync, Send, a Consumer's replay, a Send
// polled back at once (the tail, as a busy-polling consumer reads it), and
// a whole in-memory log's life in a unit test.
// Records are an 8-byte key and a 100-byte value. Items are records.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>

#include "rill/rill.h"

namespace rill {
namespace {

constexpr size_t kValueSize = 100;

std::string RandomValue() {
  std::mt19937_64 rng(1);
  std::string value(kValueSize, '\0');
  for (char& c : value) c = static_cast<char>(rng());
  return value;
}

std::unique_ptr<Log> OpenLog(benchmark::State& state, const LogOptions& options = {}) {
  absl::StatusOr<std::unique_ptr<Log>> log = Log::OpenInMemory(options);
  if (!log.ok() || !(*log)->CreateTopic("t").ok()) {
    state.SkipWithError("cannot open an in-memory log");
    return nullptr;
  }
  return *std::move(log);
}

// SendAsync of one record at a time, batched by the producer (64 KiB).
void BM_SendAsync(benchmark::State& state) {
  std::unique_ptr<Log> log = OpenLog(state);
  if (log == nullptr) return;
  Producer producer(*log);
  const std::string value = RandomValue();
  uint64_t i = 0;
  for (auto _ : state) {
    char key[8];
    std::memcpy(key, &i, sizeof(key));
    ++i;
    if (!producer.SendAsync("t", {.key = std::string_view(key, 8), .value = value, .partition = 0})
             .ok()) {
      state.SkipWithError("SendAsync failed");
      break;
    }
  }
  if (!producer.Flush().ok()) state.SkipWithError("Flush failed");
  state.SetItemsProcessed(state.iterations());
}

// Send: each record appended at once as a batch of its own.
void BM_Send(benchmark::State& state) {
  std::unique_ptr<Log> log = OpenLog(state);
  if (log == nullptr) return;
  Producer producer(*log);
  const std::string value = RandomValue();
  for (auto _ : state) {
    if (!producer.Send("t", {.key = "12345678", .value = value, .partition = 0}).ok()) {
      state.SkipWithError("Send failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// A Consumer reading back 1M records, touching key and value.
void BM_ConsumerReplay(benchmark::State& state) {
  std::unique_ptr<Log> log = OpenLog(state);
  if (log == nullptr) return;
  constexpr int64_t kRecords = 1'000'000;
  {
    Producer producer(*log);
    const std::string value = RandomValue();
    for (int64_t i = 0; i < kRecords; ++i) {
      if (!producer.SendAsync("t", {.key = "12345678", .value = value, .partition = 0}).ok()) {
        state.SkipWithError("SendAsync failed");
        return;
      }
    }
    if (!producer.Flush().ok()) state.SkipWithError("Flush failed");
  }
  int64_t records = 0;
  for (auto _ : state) {
    Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
    if (!consumer.Subscribe({"t"}).ok()) state.SkipWithError("Subscribe failed");
    uint64_t sum = 0;
    for (int64_t read = 0; read < kRecords;) {
      absl::StatusOr<ConsumerRecords> polled = consumer.Poll(absl::ZeroDuration());
      if (!polled.ok() || polled->empty()) {
        state.SkipWithError("Poll failed or came back empty");
        return;
      }
      for (const RecordView& r : *polled) {
        // The first byte of key and value, and their sizes.
        const std::string_view key = r.key(), value = r.value();
        sum += key.size() + value.size();
        if (!key.empty() && !value.empty()) {
          sum += static_cast<uint8_t>(key.front()) + static_cast<uint8_t>(value.front());
        }
      }
      read += static_cast<int64_t>(polled->size());
    }
    benchmark::DoNotOptimize(sum);
    records += kRecords;
  }
  state.SetItemsProcessed(records);
}

// The life of a log in a unit test: open in memory, create a topic, send
// one record, poll it back, close. Items are logs. The argument is
// LogOptions::background_threads.
void BM_InMemoryLogLifetime(benchmark::State& state) {
  const std::string value = RandomValue();
  const LogOptions options = {.background_threads = static_cast<int>(state.range(0))};
  for (auto _ : state) {
    std::unique_ptr<Log> log = OpenLog(state, options);
    if (log == nullptr) break;
    {
      Producer producer(*log);
      Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
      absl::StatusOr<ConsumerRecords> polled;
      if (!producer.Send("t", {.key = "12345678", .value = value}).ok() ||
          !consumer.Subscribe({"t"}).ok() || !(polled = consumer.Poll(absl::ZeroDuration())).ok() ||
          polled->size() != 1) {
        state.SkipWithError("Send, Subscribe or Poll failed");
        break;
      }
    }
    log.reset();  // Closes.
  }
  state.SetItemsProcessed(state.iterations());
}

// Send, then Poll that record back, on one thread: the work of one message
// between threads (BM_Send's and the consumer's part), without the trip
// across cores. Each record is a batch of its own, so a read finds its batch
// by walking the headers since the last offset-index entry.
void BM_SendPoll(benchmark::State& state) {
  std::unique_ptr<Log> log = OpenLog(state);
  if (log == nullptr) return;
  Producer producer(*log);
  Consumer consumer(*log, {.auto_offset_reset = OffsetReset::kEarliest});
  if (!consumer.Assign({{"t", 0}}).ok()) {
    state.SkipWithError("Assign failed");
    return;
  }
  const std::string value = RandomValue();
  uint64_t sum = 0;
  for (auto _ : state) {
    if (!producer.Send("t", {.key = "12345678", .value = value, .partition = 0}).ok()) {
      state.SkipWithError("Send failed");
      break;
    }
    absl::StatusOr<ConsumerRecords> polled = consumer.Poll(absl::ZeroDuration());
    if (!polled.ok() || polled->size() != 1) {
      state.SkipWithError("Poll failed or did not return the one record");
      break;
    }
    for (const RecordView& r : *polled) sum += r.value().size();
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_SendAsync);
BENCHMARK(BM_Send);
BENCHMARK(BM_SendPoll);
BENCHMARK(BM_ConsumerReplay)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_InMemoryLogLifetime)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(0)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace rill

BENCHMARK_MAIN();
