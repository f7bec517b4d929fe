// Benchmarks of lib/format: CRC-32C throughput, batch encode and decode.
//
// Encode and decode use records of an 8-byte key and a 100-byte value in
// batches of about 16 KiB and 1 MiB (uncompressed), with each codec rill
// writes, and with incompressible (random) values or compressible JSON-like
// ones. Items are records; bytes are uncompressed batch bytes. The timed
// loops reuse one BatchBuilder or BatchReader; the "allocs" counter is the
// number of operator new calls per iteration, which must stay 0 (the codec
// libraries allocate with malloc, but only when their contexts are created).
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "format/batch_builder.h"
#include "format/batch_header.h"
#include "format/batch_reader.h"
#include "format/crc32c.h"
#include "rill/compression.h"
#include "rill/record.h"

namespace {
std::atomic<int64_t> g_allocations{0};
}  // namespace

// Every allocation of the process is counted, so a benchmark can tell how
// many happen within its timed loop. Kept out of line: inlined, GCC takes the
// free() in delete for a mismatch with the new it sees allocate.
__attribute__((noinline)) void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  std::abort();  // Built without exceptions: out of memory is fatal.
}
__attribute__((noinline)) void operator delete(void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace rill {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;
constexpr size_t kKeySize = 8;
constexpr size_t kValueSize = 100;
// Distinct values: more than a 1 MiB batch holds, so that no codec finds a
// random value twice within one batch.
constexpr size_t kDistinctValues = 10000;

std::string RandomString(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::string RandomString(size_t n) {
  std::mt19937_64 rng(1);
  return RandomString(rng, n);
}

// A JSON event such as producers send, kValueSize bytes long.
std::string JsonValue(std::mt19937_64& rng) {
  static constexpr const char* kEvents[] = {"page_view", "click", "add_to_cart", "purchase"};
  char buf[256];
  const int n = std::snprintf(
      buf, sizeof(buf),
      R"({"user":%06u,"event":"%s","page":"/products/%04u","ms":%u,"ok":true,"region":"eu-west-1"})",
      static_cast<unsigned>(rng() % 1000000), kEvents[rng() % 4],
      static_cast<unsigned>(rng() % 10000), static_cast<unsigned>(rng() % 5000));
  std::string s(buf, static_cast<size_t>(n));
  s.resize(kValueSize, ' ');
  return s;
}

struct Payloads {
  std::vector<std::string> keys;
  std::vector<std::string> values;
};

// GetPayloads(json): kDistinctValues keys and values, made once.
const Payloads& GetPayloads(bool json) {
  static const Payloads* const payloads = [] {
    auto* p = new Payloads[2];
    for (int kind = 0; kind < 2; ++kind) {
      std::mt19937_64 rng(static_cast<uint64_t>(kind) + 1);
      for (size_t i = 0; i < kDistinctValues; ++i) {
        char key[kKeySize + 1];
        std::snprintf(key, sizeof(key), "k%07zu", i);
        p[kind].keys.emplace_back(key, kKeySize);
        p[kind].values.push_back(kind == 1 ? JsonValue(rng) : RandomString(rng, kValueSize));
      }
    }
    return p;
  }();
  return payloads[json ? 1 : 0];
}

// Two headers, as a traced service might set them: a trace id and a source.
constexpr Header kHeaders[] = {{.key = "trace-id", .value = "4bf92f3577b34da6"},
                               {.key = "source", .value = "gateway-7"}};

void AddRecord(BatchBuilder* builder, const Payloads& p, int i, bool headers) {
  const size_t k = static_cast<size_t>(i) % kDistinctValues;
  builder->Add({.key = p.keys[k],
                .value = p.values[k],
                .headers = headers ? std::span<const Header>(kHeaders) : std::span<const Header>()},
               kT0 + i);
}

// RecordsPerBatch(p, target): how many records fill a batch of `target`
// uncompressed bytes.
int RecordsPerBatch(const Payloads& p, size_t target, bool headers) {
  BatchBuilder builder;
  int n = 0;
  while (builder.uncompressed_size() < target) AddRecord(&builder, p, n++, headers);
  return n;
}

struct BatchCase {
  Compression codec;
  size_t target;
  bool json;
  bool headers;
  const Payloads* payloads;
  int records;
};

BatchCase GetCase(benchmark::State& state) {
  BatchCase c;
  c.codec = static_cast<Compression>(state.range(0));
  c.target = static_cast<size_t>(state.range(1)) << 10;
  c.json = state.range(2) != 0;
  c.headers = state.range(3) != 0;
  c.payloads = &GetPayloads(c.json);
  c.records = RecordsPerBatch(*c.payloads, c.target, c.headers);
  const std::string label =
      std::string(CompressionName(c.codec)) + (c.json ? " json " : " random ") +
      (c.target < (1 << 20) ? "16KiB" : "1MiB") + (c.headers ? " 2 headers" : "");
  state.SetLabel(label.c_str());
  return c;
}

// Encode(builder, c): one batch of c.records records, or an empty span.
std::span<const char> Encode(BatchBuilder* builder, const BatchCase& c) {
  builder->Reset();
  for (int i = 0; i < c.records; ++i) AddRecord(builder, *c.payloads, i, c.headers);
  absl::StatusOr<std::span<const char>> batch = builder->Finish();
  return batch.ok() ? *batch : std::span<const char>();
}

void SetCounters(benchmark::State& state, const BatchCase& c, size_t uncompressed,
                 size_t compressed, int64_t allocations) {
  const auto iterations = static_cast<int64_t>(state.iterations());
  state.SetItemsProcessed(iterations * c.records);
  state.SetBytesProcessed(iterations * static_cast<int64_t>(uncompressed));
  state.counters["records"] = c.records;
  state.counters["ratio"] = static_cast<double>(uncompressed) / static_cast<double>(compressed);
  state.counters["allocs"] =
      benchmark::Counter(static_cast<double>(allocations), benchmark::Counter::kAvgIterations);
}

void BM_Encode(benchmark::State& state) {
  const BatchCase c = GetCase(state);
  BatchBuilder builder({.compression = c.codec});
  // Once before timing, so that the builder's buffers have grown.
  const size_t compressed = Encode(&builder, c).size();
  const size_t uncompressed = builder.uncompressed_size();
  if (compressed == 0) return state.SkipWithError("BatchBuilder::Finish failed");
  const int64_t allocations = g_allocations.load();
  for (auto _ : state) {
    const std::span<const char> batch = Encode(&builder, c);
    if (batch.empty()) return state.SkipWithError("BatchBuilder::Finish failed");
    benchmark::DoNotOptimize(batch.data());
    benchmark::ClobberMemory();
  }
  SetCounters(state, c, uncompressed, compressed, g_allocations.load() - allocations);
}

// Touch(s): depends on the first and last bytes of `s`, so that every key
// and value is read.
uint32_t Touch(std::string_view s) {
  if (s.empty()) return 0;
  return static_cast<uint32_t>(s.size()) + static_cast<uint8_t>(s.front()) +
         static_cast<uint8_t>(s.back());
}

void BM_Decode(benchmark::State& state) {
  const BatchCase c = GetCase(state);
  BatchBuilder builder({.compression = c.codec});
  const std::span<const char> built = Encode(&builder, c);
  const std::string batch(built.data(), built.size());
  if (batch.empty()) return state.SkipWithError("BatchBuilder::Finish failed");
  BatchReader reader;
  // Decodes the whole batch once; false if anything fails.
  auto decode = [&]() {
    reader.Clear();
    BatchHeader header;
    detail::RecordDecoder decoder;
    if (!CheckBatch(batch, &header).ok() || !reader.Open(batch, header, &decoder).ok()) {
      return false;
    }
    RecordView r;
    uint32_t touched = 0;
    int n = 0;
    while (decoder.Next(&r)) {
      touched += Touch(r.key()) + Touch(r.value());
      if (c.headers) {
        for (const Header& h : r.headers()) touched += Touch(h.key) + Touch(h.value.value_or(""));
      }
      ++n;
    }
    benchmark::DoNotOptimize(touched);
    return decoder.error() == nullptr && n == c.records;
  };
  if (!decode()) return state.SkipWithError("the batch does not decode");  // Grows buffers.
  const int64_t allocations = g_allocations.load();
  for (auto _ : state) {
    if (!decode()) return state.SkipWithError("the batch does not decode");
  }
  SetCounters(state, c, builder.uncompressed_size(), batch.size(),
              g_allocations.load() - allocations);
}

// Every codec rill writes, both batch sizes, random and JSON values; and
// one case of records with headers.
void BatchCases(benchmark::internal::Benchmark* b) {
  b->ArgNames({"codec", "kib", "json", "headers"});
  for (Compression codec : {Compression::kNone, Compression::kLz4, Compression::kZstd}) {
    for (int kib : {16, 1024}) {
      for (int json : {0, 1}) b->Args({static_cast<int>(codec), kib, json, 0});
    }
  }
  b->Args({static_cast<int>(Compression::kNone), 16, 0, 1});
}
BENCHMARK(BM_Encode)->Apply(BatchCases);
BENCHMARK(BM_Decode)->Apply(BatchCases);

void BM_Crc32c(benchmark::State& state) {
  const std::string data = RandomString(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(crc32c::Value(data.data(), data.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32c)->Arg(128)->Arg(4096)->Arg(64 << 10)->Arg(1 << 20);

void BM_Crc32cPortable(benchmark::State& state) {
  const std::string data = RandomString(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(crc32c::ExtendPortable(0, data.data(), data.size()));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32cPortable)->Arg(4096)->Arg(1 << 20);

}  // namespace
}  // namespace rill

BENCHMARK_MAIN();
