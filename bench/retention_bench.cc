// Benchmarks of compaction, over real files:
//
//  - BM_Compaction: one cleaning of 256 MiB of sealed segments holding
//    keyed records (100-byte values, 8-byte keys, 50 000 distinct keys), by
//    codec; bytes/s is the cleaner's input.
//  - BM_ProduceWhileCleaning: a producer appending to one topic (SendAsync,
//    64 KiB batches, 1 KiB values), 1 GiB alone and 1 GiB while the log's
//    maintenance pass compacts 512 MiB of another topic on the log's
//    background threads (one, the default, or two), in pairs of runs on one
//    log; reports the medians and the ratio of the two throughputs. Only
//    the stretches during which a pass was running (or not) count.
//
// Figures go to bench/RESULTS.md ("Retention and compaction").
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

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

// Produces `bytes` to topic "hot" and returns the producer's MB/s over the
// 1 MiB stretches during which a maintenance pass was running at both ends
// (`while_pass`) or at neither end (otherwise); -1 if there were none.
double Produce(Log& log, uint64_t bytes, bool while_pass, double* covered_seconds) {
  Producer producer(log, {.batch_bytes = 64 << 10});
  const std::string value(1024, 'p');
  retention::Maintenance& maintenance = log.state()->maintenance();
  auto last = std::chrono::steady_clock::now();
  bool was_running = maintenance.running();
  uint64_t last_sent = 0;
  uint64_t counted = 0;
  double seconds = 0;
  for (uint64_t sent = 0; sent < bytes; sent += value.size()) {
    if (!producer.SendAsync("hot", {.key = "key", .value = value}).ok()) return -1;
    if (sent - last_sent >= (1 << 20)) {
      const auto now = std::chrono::steady_clock::now();
      const bool running = maintenance.running();
      if (running == while_pass && was_running == while_pass) {
        counted += sent - last_sent;
        seconds += std::chrono::duration<double>(now - last).count();
      }
      last = now;
      was_running = running;
      last_sent = sent;
    }
  }
  if (!producer.Flush().ok()) return -1;
  *covered_seconds += seconds;
  return seconds > 0 ? static_cast<double>(counted) / seconds / 1e6 : -1;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Each round, in one log: 1 GiB produced with no pass running, and 1 GiB
// produced while the maintenance pass compacts 512 MiB of another topic,
// in alternating order so that the machine's drift weighs on both alike.
void BM_ProduceWhileCleaning(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  constexpr uint64_t kProduced = 1ull << 30;
  std::vector<double> alone;
  std::vector<double> cleaning;
  std::vector<double> ratios;
  double covered = 0;
  int round = 0;
  for (auto _ : state) {
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
    double a = -1;
    double c = -1;
    auto run_alone = [&] { a = Produce(**log, kProduced, false, &covered); };
    auto run_cleaning = [&] {
      // The next pass, within 10 ms, starts compacting 512 MiB.
      if (!(*log)->SetTopicConfig("kv", "cleanup.policy", "compact").ok()) return;
      while (!(*log)->state()->maintenance().running()) {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
      c = Produce(**log, kProduced, true, &covered);
    };
    if (round++ % 2 == 0) {
      run_alone();
      run_cleaning();
    } else {
      // Alone after the cleaning: wait for the pass to end first.
      run_cleaning();
      while ((*log)->state()->maintenance().running()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      run_alone();
    }
    if (a > 0 && c > 0) {
      alone.push_back(a);
      cleaning.push_back(c);
      ratios.push_back(c / a);
    }
    (void)(*log)->Close();
    log->reset();
    std::filesystem::remove_all(BenchDir());
  }
  state.counters["producer_MBps_alone"] = Median(alone);
  state.counters["producer_MBps_while_cleaning"] = Median(cleaning);
  state.counters["ratio_median"] = Median(ratios);
  state.counters["ratio_min"] =
      ratios.empty() ? 0 : *std::min_element(ratios.begin(), ratios.end());
  state.counters["ratio_max"] =
      ratios.empty() ? 0 : *std::max_element(ratios.begin(), ratios.end());
  state.counters["rounds"] = static_cast<double>(ratios.size());
  state.counters["seconds_measured"] = covered;
}
BENCHMARK(BM_ProduceWhileCleaning)
    ->ArgNames({"threads"})
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(6)
    ->UseRealTime();

}  // namespace
}  // namespace rill

BENCHMARK_MAIN();
