// Benchmarks of compaction, over real files:
//
//  - BM_Compaction: one cleaning of 256 MiB of sealed segments holding
//    keyed records (100-byte values, 8-byte keys, 50 000 distinct keys), by
//    codec; bytes/s is the cleaner's input.
//  - BM_ProduceWhileCleaning: a producer appending 2 GiB to one topic
//    (SendAsync, 64 KiB batches, 1 KiB values), with the log's maintenance
//    pass compacting 512 MiB of another topic on the log's background
//    threads meanwhile (cleaner:1), or not (cleaner:0), with one or two
//    background threads (threads:1, the default, or 2). bytes/s is the
//    producer's over the whole run; producer_MBps_while_cleaning counts only
//    the stretches during which a pass was running, producer_MBps_alone the
//    others.
//
// Figures go to bench/RESULTS.md ("Retention and compaction").
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/log_state.h"
#include "format/batch_builder.h"
#include "retention/cleaner.h"
#include "rill/rill.h"
#include "storage/partition_log.h"

namespace rill {
namespace {

std::string BenchDir() {
  const char* base = std::getenv("RILL_BENCH_DIR");
  return std::string(base != nullptr ? base : "/tmp") + "/rill-retention-bench";
}

constexpr int kKeys = 50'000;
constexpr size_t kValueSize = 100;

// Appends `bytes` of keyed records, 100 to a batch, with `codec`, through
// `append` (a batch in, OK out).
template <typename AppendFn>
bool FillKeyed(uint64_t bytes, Compression codec, AppendFn append) {
  std::mt19937_64 rng(7);
  BatchBuilder builder({.compression = codec});
  const int64_t now = absl::ToUnixMillis(absl::Now());
  std::string value(kValueSize, '\0');
  uint64_t written = 0;
  int64_t n = 0;
  while (written < bytes) {
    builder.Reset();
    for (int i = 0; i < 100; ++i, ++n) {
      char key[16];
      std::snprintf(key, sizeof(key), "%08d", static_cast<int>(rng() % kKeys));
      // Values half random, half text: something for a codec to do.
      for (size_t j = 0; j < kValueSize / 2; ++j) value[j] = static_cast<char>(rng());
      for (size_t j = kValueSize / 2; j < kValueSize; ++j)
        value[j] = static_cast<char>('a' + n % 26);
      builder.Add({.key = std::string_view(key, 8), .value = value}, now);
    }
    auto batch = builder.Finish();
    if (!batch.ok() || !append(*batch)) return false;
    written += batch->size();
  }
  return true;
}

void BM_Compaction(benchmark::State& state) {
  const Compression codec = static_cast<Compression>(state.range(0));
  uint64_t read = 0;
  int64_t removed = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(BenchDir());
    PartitionLogOptions options;
    options.segment.max_bytes = 64 << 20;
    options.log_sink = [](LogSeverity, std::string_view) {};
    auto log = PartitionLog::Open(*FileSystem::Default(), BenchDir(), options, nullptr);
    if (!log.ok()) return state.SkipWithError(std::string(log.status().message()).c_str());
    if (!FillKeyed(256 << 20, codec,
                   [&](std::span<const char> b) { return (*log)->Append(b).ok(); }) ||
        !(*log)->Roll().ok() || !(*log)->Sync().ok()) {
      return state.SkipWithError("filling the log failed");
    }
    TopicConfig config;
    config.cleanup_policy = CleanupPolicy::kCompact;
    config.segment_bytes = options.segment.max_bytes;
    retention::CleanState clean_state;
    retention::CleaningJob job(log->get(), config, absl::ToUnixMillis(absl::Now()), &clean_state);
    state.ResumeTiming();
    for (;;) {
      absl::StatusOr<bool> done = job.Step(std::numeric_limits<uint64_t>::max());
      if (!done.ok()) return state.SkipWithError(std::string(done.status().message()).c_str());
      if (*done) break;
    }
    state.PauseTiming();
    read += job.result().bytes_read;
    removed += job.result().records_removed;
    log->reset();
    std::filesystem::remove_all(BenchDir());
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(read));
  state.counters["records_removed"] = static_cast<double>(removed);
}
BENCHMARK(BM_Compaction)
    ->Arg(static_cast<int>(Compression::kNone))
    ->Arg(static_cast<int>(Compression::kLz4))
    ->Arg(static_cast<int>(Compression::kZstd))
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->UseRealTime();

void BM_ProduceWhileCleaning(benchmark::State& state) {
  const bool cleaner = state.range(0) != 0;
  const int threads = static_cast<int>(state.range(1));
  constexpr uint64_t kProduced = 2ull << 30;
  uint64_t produced = 0;
  double cleaner_mib = 0;
  uint64_t cleaning_bytes = 0;
  double cleaning_seconds = 0;
  uint64_t alone_bytes = 0;
  double alone_seconds = 0;
  double finish_seconds = 0;
  double final_mib = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(BenchDir());
    auto log = Log::Open(BenchDir(), {.log_sink = [](LogSeverity, std::string_view) {},
                                      .background_threads = threads,
                                      .maintenance_interval = absl::Milliseconds(10)});
    if (!log.ok()) return state.SkipWithError(std::string(log.status().message()).c_str());
    TopicConfig kv{.segment_bytes = 16 << 20};
    kv.min_cleanable_dirty_ratio = 0;
    if (!(*log)->CreateTopic("hot").ok() || !(*log)->CreateTopic("kv", kv).ok()) {
      return state.SkipWithError("creating the topics failed");
    }
    core::Partition* partition = *(*log)->state()->FindPartition({.topic = "kv", .partition = 0});
    if (!FillKeyed(512 << 20, Compression::kNone,
                   [&](std::span<const char> b) { return partition->Append(b).ok(); }) ||
        !partition->log().Roll().ok() || !partition->log().Sync().ok()) {
      return state.SkipWithError("filling the log failed");
    }
    // The next pass, within 10 ms, starts compacting 512 MiB.
    if (cleaner && !(*log)->SetTopicConfig("kv", "cleanup.policy", "compact").ok()) {
      return state.SkipWithError("setting cleanup.policy failed");
    }
    Producer producer(**log, {.batch_bytes = 64 << 10});
    const std::string value(1024, 'p');
    retention::Maintenance& maintenance = (*log)->state()->maintenance();
    state.ResumeTiming();
    auto last = std::chrono::steady_clock::now();
    bool was_running = maintenance.running();
    uint64_t last_sent = 0;
    for (uint64_t sent = 0; sent < kProduced; sent += value.size()) {
      if (!producer.SendAsync("hot", {.key = "key", .value = value}).ok()) {
        return state.SkipWithError("send failed");
      }
      if (sent - last_sent >= (1 << 20)) {
        // A stretch of 1 MiB: during a pass if one ran at both its ends.
        const auto now = std::chrono::steady_clock::now();
        const bool running = maintenance.running();
        const double seconds = std::chrono::duration<double>(now - last).count();
        if (running && was_running) {
          cleaning_bytes += sent - last_sent;
          cleaning_seconds += seconds;
        } else if (!running && !was_running) {
          alone_bytes += sent - last_sent;
          alone_seconds += seconds;
        }
        last = now;
        was_running = running;
        last_sent = sent;
      }
    }
    if (!producer.Flush().ok()) return state.SkipWithError("flush failed");
    state.PauseTiming();
    produced += kProduced;
    auto d = (*log)->DescribeTopic("kv");
    if (d.ok()) cleaner_mib += static_cast<double>(d->removed.compacted_bytes) / (1 << 20);
    // Let the cleaner finish, to see that it does.
    const auto wait_start = std::chrono::steady_clock::now();
    while (cleaner && maintenance.running() &&
           std::chrono::steady_clock::now() - wait_start < std::chrono::seconds(120)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    finish_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wait_start).count();
    d = (*log)->DescribeTopic("kv");
    if (d.ok()) final_mib += static_cast<double>(d->removed.compacted_bytes) / (1 << 20);
    (void)(*log)->Close();
    log->reset();
    std::filesystem::remove_all(BenchDir());
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(produced));
  // How much the cleaner had removed when the producer was done.
  state.counters["cleaner_removed_MiB"] = cleaner_mib;
  if (cleaning_seconds > 0) {
    state.counters["producer_MBps_while_cleaning"] = cleaning_bytes / cleaning_seconds / 1e6;
    state.counters["seconds_while_cleaning"] = cleaning_seconds;
  }
  if (alone_seconds > 0) state.counters["producer_MBps_alone"] = alone_bytes / alone_seconds / 1e6;
  if (cleaner) {
    state.counters["cleaner_seconds_after_producer"] = finish_seconds;
    state.counters["cleaner_removed_MiB_in_all"] = final_mib;
  }
}
BENCHMARK(BM_ProduceWhileCleaning)
    ->ArgNames({"cleaner", "threads"})
    ->Args({0, 1})
    ->Args({1, 1})
    ->Args({0, 2})
    ->Args({1, 2})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3)
    ->UseRealTime();

}  // namespace
}  // namespace rill

BENCHMARK_MAIN();
