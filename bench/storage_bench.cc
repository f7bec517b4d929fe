// Benchmarks of lib/storage: partition-log append (no sync) and sequential
// read-back of 100-byte values with 8-byte keys, over real files.
//
// Append writes at least 2 GiB per run so that the cost of fresh pages --
// the real cost of an append path on this kind of machine -- is counted.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "format/batch_builder.h"
#include "format/batch_reader.h"
#include "storage/partition_log.h"

namespace rill {
namespace {

std::string BenchDir() {
  const char* base = std::getenv("RILL_BENCH_DIR");
  return std::string(base != nullptr ? base : "/tmp") + "/rill-storage-bench";
}

constexpr size_t kValueSize = 100;
constexpr size_t kKeySize = 8;

// Builds one batch of `count` records with random (incompressible) values.
std::string MakeBatch(int count) {
  std::mt19937_64 rng(1);
  std::string values(kValueSize * count, '\0');
  for (char& c : values) c = static_cast<char>(rng());
  BatchBuilder builder;
  for (int i = 0; i < count; ++i) {
    char key[kKeySize + 1];  // Seven digits and snprintf's NUL; the key is 8 bytes of it.
    std::snprintf(key, sizeof(key), "%07d ", i % 10'000'000);
    builder.Add({.key = std::string_view(key, kKeySize),
                 .value = std::string_view(values.data() + i * kValueSize, kValueSize)},
                1'700'000'000'000 + i);
  }
  auto batch = builder.Finish();
  return std::string(batch->data(), batch->size());
}

// Append of batches of state.range(0) records until 2 GiB are written.
void BM_PartitionLogAppend(benchmark::State& state) {
  const int records_per_batch = static_cast<int>(state.range(0));
  const std::string batch = MakeBatch(records_per_batch);
  const uint64_t total_bytes = 2ull << 30;
  const int64_t batches = static_cast<int64_t>(total_bytes / batch.size());
  int64_t records = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(BenchDir());
    ThreadTaskRunner background(1);
    PartitionLogOptions options;
    options.background = &background;
    auto log = PartitionLog::Open(*FileSystem::Default(), BenchDir(), options, nullptr);
    if (!log.ok()) state.SkipWithError(std::string(log.status().message()).c_str());
    state.ResumeTiming();
    for (int64_t i = 0; i < batches; ++i) {
      auto r = (*log)->Append(batch);
      if (!r.ok()) {
        state.SkipWithError(std::string(r.status().message()).c_str());
        break;
      }
    }
    records += batches * records_per_batch;
    state.PauseTiming();
    log->reset();
    std::filesystem::remove_all(BenchDir());
    state.ResumeTiming();
  }
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(records * static_cast<int64_t>(kKeySize + kValueSize));
  state.counters["log_bytes_per_record"] = static_cast<double>(batch.size()) / records_per_batch;
}
BENCHMARK(BM_PartitionLogAppend)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)
    ->Iterations(1)->UseRealTime();

// Sequential read-back of every record (key and value touched).
void BM_PartitionLogReadBack(benchmark::State& state) {
  const int records_per_batch = 100;
  const std::string batch = MakeBatch(records_per_batch);
  const int64_t total_records = 10'000'000;
  std::filesystem::remove_all(BenchDir());
  PartitionLogOptions options;
  auto opened = PartitionLog::Open(*FileSystem::Default(), BenchDir(), options, nullptr);
  if (!opened.ok()) {
    state.SkipWithError(std::string(opened.status().message()).c_str());
    return;
  }
  std::unique_ptr<PartitionLog> log = *std::move(opened);
  for (int64_t i = 0; i < total_records / records_per_batch; ++i) (void)log->Append(batch);
  BatchReader reader;
  int64_t records = 0;
  for (auto _ : state) {
    int64_t offset = 0;
    uint64_t checksum = 0;
    while (offset < log->end_offset()) {
      auto result = log->Read(offset, 1 << 20);
      if (!result.ok()) {
        state.SkipWithError(std::string(result.status().message()).c_str());
        return;
      }
      std::span<const char> bytes = result->batches;
      while (!bytes.empty()) {
        BatchHeader h = DecodeBatchHeader(bytes.data());
        detail::RecordDecoder decoder;
        (void)reader.Open(bytes, h, &decoder);
        RecordView r;
        while (decoder.Next(&r)) {
          const std::string_view value = r.value();
          checksum += (value.empty() ? 0 : static_cast<uint8_t>(value.front())) + r.key().size();
          offset = r.offset() + 1;
          ++records;
        }
        bytes = bytes.subspan(h.size());
      }
    }
    benchmark::DoNotOptimize(checksum);
  }
  state.SetItemsProcessed(records);
  log.reset();
  std::filesystem::remove_all(BenchDir());
}
BENCHMARK(BM_PartitionLogReadBack)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace rill

BENCHMARK_MAIN();
