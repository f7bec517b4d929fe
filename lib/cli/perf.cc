// rill perf produce | consume: throughput of producers and of a consumer on
// the log at --dir. (rill perf latency is in perf_latency.cc.)
#include "cli/perf.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "cli/send_tracker.h"
#include "cli/text.h"
#include "rill/consumer.h"
#include "rill/producer.h"

namespace rill::cli {

void PrintResult(const std::string& command, const PerfResult& r, bool json) {
  const double seconds = std::max(r.seconds, 1e-9);
  const double records_per_sec = static_cast<double>(r.records) / seconds;
  const double mb_per_sec = static_cast<double>(r.bytes) / 1e6 / seconds;
  if (json) {
    std::string out = absl::StrFormat(
        "{\"command\":\"%s\",\"records\":%d,\"bytes\":%d,\"seconds\":%.6f,"
        "\"records_per_sec\":%.1f,\"mb_per_sec\":%.3f",
        JsonEscape(command), r.records, r.bytes, r.seconds, records_per_sec, mb_per_sec);
    if (r.latency) {
      out +=
          absl::StrFormat(",\"latency_us\":{\"p50\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f}",
                          r.latency->p50, r.latency->p99, r.latency->p999, r.latency->max);
    }
    std::printf("%s}\n", out.c_str());
    return;
  }
  std::printf("%s: %lld records, %.1f MB in %.3f s: %.0f records/s, %.1f MB/s", command.c_str(),
              static_cast<long long>(r.records), static_cast<double>(r.bytes) / 1e6, r.seconds,
              records_per_sec, mb_per_sec);
  if (r.latency) {
    std::printf("; latency us p50 %.1f, p99 %.1f, p99.9 %.1f, max %.1f", r.latency->p50,
                r.latency->p99, r.latency->p999, r.latency->max);
  }
  std::printf("\n");
}

namespace {

using Clock = std::chrono::steady_clock;

struct ProduceArgs {
  std::string topic;
  int64_t records = 1000000;
  int32_t record_size = 100;
  int32_t key_size = 0;
  int32_t producers = 1;
  std::string durability = "process";
  std::string compression = "none";
  int32_t batch_bytes = 64 << 10;
  double linger_ms = 5;
  bool compressible = false;
  bool json = false;
};

// Payloads: a pool of bytes that records take windows of, so that values
// differ without generating each one. Random bytes do not compress; text
// does, about as well as log lines.
std::string MakePool(size_t record_size, bool compressible) {
  constexpr size_t kPool = 1 << 20;
  std::string pool(kPool + record_size, '\0');
  if (compressible) {
    static constexpr std::string_view kWords[] = {
        "order ", "user-", "espresso ", "status=ok ", "region=eu ", "2024-01-01T00:00:00Z ", "x2 "};
    std::mt19937 rng(42);
    for (size_t i = 0; i < pool.size();) {
      const std::string_view w = kWords[rng() % std::size(kWords)];
      for (size_t j = 0; j < w.size() && i < pool.size(); ++j) pool[i++] = w[j];
    }
  } else {
    std::mt19937_64 rng(42);
    for (size_t i = 0; i + 8 <= pool.size(); i += 8) {
      const uint64_t v = rng();
      std::memcpy(pool.data() + i, &v, 8);
    }
  }
  return pool;
}

int PerfProduce(const Context& ctx, const ProduceArgs& args) {
  if (absl::Status s = CheckTopicName(args.topic); !s.ok()) return UsageError(s);
  absl::StatusOr<std::unique_ptr<Log>> log = OpenLog(ctx, LogAccess::kCreate);
  if (!log.ok()) return Fail(log.status());
  absl::StatusOr<TopicDescription> topic = (*log)->DescribeTopic(args.topic);
  if (absl::IsNotFound(topic.status())) {
    if (absl::Status s = (*log)->CreateTopic(args.topic, {.partitions = args.producers}); !s.ok()) {
      return Fail(s);
    }
    topic = (*log)->DescribeTopic(args.topic);
  }
  if (!topic.ok()) return Fail(topic.status());
  const auto partitions = static_cast<int32_t>(topic->partitions.size());

  const std::string pool = MakePool(static_cast<size_t>(args.record_size), args.compressible);
  const ProducerOptions options{
      .durability = DurabilityNames().at(args.durability),
      .compression = CompressionNames().at(args.compression),
      .batch_bytes = args.batch_bytes,
      .linger = absl::Microseconds(static_cast<int64_t>(args.linger_ms * 1000)),
  };
  SendTracker tracker;
  std::atomic<int64_t> sent{0};
  std::atomic<int> running{args.producers};
  ProgressBar bar("perf produce", static_cast<uint64_t>(args.records), ProgressBar::Unit::kRecords);
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  for (int32_t t = 0; t < args.producers; ++t) {
    const int64_t begin = args.records * t / args.producers;
    const int64_t end = args.records * (t + 1) / args.producers;
    threads.emplace_back([&, t, begin, end] {
      Producer producer(**log, options);
      std::string key(static_cast<size_t>(args.key_size), '0');
      for (int64_t i = begin; i < end; ++i) {
        Record record{.value =
                          std::string_view(pool).substr(static_cast<size_t>(i * 7919 % (1 << 20)),
                                                        static_cast<size_t>(args.record_size))};
        if (args.key_size > 0) {
          // Distinct keys, spread over the partitions by Kafka's hash.
          int64_t n = i;
          for (size_t j = key.size(); j-- > 0; n /= 10) key[j] = static_cast<char>('0' + n % 10);
          record.key = key;
        } else {
          record.partition = t % partitions;  // Each producer its own partition.
        }
        if (absl::Status s = producer.SendAsync(args.topic, record, tracker.Callback()); !s.ok()) {
          tracker.Failed(s);
          break;
        }
        if ((i & 1023) == 0) sent.fetch_add(1024, std::memory_order_relaxed);
      }
      if (absl::Status s = producer.Flush(); !s.ok()) tracker.Failed(s);
      running.fetch_sub(1, std::memory_order_release);
    });
  }
  while (running.load(std::memory_order_acquire) > 0) {
    bar.Update(static_cast<uint64_t>(std::min(sent.load(std::memory_order_relaxed), args.records)));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (std::thread& thread : threads) thread.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  bar.Finish();
  absl::Status closed = (*log)->Close();
  if (tracker.failed() > 0) {
    return Fail(absl::StrFormat("%d records failed; the first: %s", tracker.failed(),
                                tracker.first_error().message()));
  }
  if (!closed.ok()) return Fail(closed);
  PrintResult("perf produce",
              {.records = tracker.acked(),
               .bytes = static_cast<uint64_t>(tracker.acked()) *
                        static_cast<uint64_t>(args.record_size + args.key_size),
               .seconds = seconds},
              args.json);
  return kExitOk;
}

struct ConsumeArgs {
  std::string topic;
  int64_t records = -1;  // -1: all there are.
  bool json = false;
};

int PerfConsume(const Context& ctx, const ConsumeArgs& args) {
  if (absl::Status s = CheckTopicName(args.topic); !s.ok()) return UsageError(s);
  absl::StatusOr<std::unique_ptr<Log>> log = OpenLog(ctx, LogAccess::kExisting, 0);
  if (!log.ok()) return Fail(log.status());
  absl::StatusOr<TopicDescription> topic = (*log)->DescribeTopic(args.topic);
  if (!topic.ok()) return Fail(topic.status());
  int64_t available = 0;
  std::vector<TopicPartition> tps;
  for (const PartitionDescription& p : topic->partitions) {
    tps.push_back({args.topic, p.partition});
    available += p.end_offset - p.start_offset;
  }
  const int64_t want = args.records >= 0 ? std::min(args.records, available) : available;

  Consumer consumer(**log, {.auto_offset_reset = OffsetReset::kEarliest});
  if (absl::Status s = consumer.Assign(tps); !s.ok()) return Fail(s);
  ProgressBar bar("perf consume", static_cast<uint64_t>(want), ProgressBar::Unit::kRecords);
  int64_t count = 0;
  uint64_t bytes = 0;
  const Clock::time_point start = Clock::now();
  while (count < want) {
    absl::StatusOr<ConsumerRecords> records = consumer.Poll(absl::ZeroDuration());
    if (!records.ok()) return Fail(records.status());
    if (records->empty()) break;  // At the end: nobody else appends meanwhile.
    for (const RecordView& r : *records) {
      bytes += r.key().size() + r.value().size();
      if (++count == want) break;
    }
    bar.Update(static_cast<uint64_t>(count));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  bar.Finish();
  (void)consumer.Close();
  if (absl::Status s = (*log)->Close(); !s.ok()) return Fail(s);
  PrintResult("perf consume", {.records = count, .bytes = bytes, .seconds = seconds}, args.json);
  return kExitOk;
}

}  // namespace

void AddPerfCommands(CLI::App& app, Context& ctx) {
  CLI::App* perf = app.add_subcommand("perf", "Measure throughput and latency on the log at --dir");
  perf->require_subcommand(1);

  auto produce = std::make_shared<ProduceArgs>();
  CLI::App* p = perf->add_subcommand(
      "produce",
      "Send records as fast as producers can; creates the topic if missing, with one "
      "partition per producer");
  p->add_option("--topic,-t", produce->topic, "Topic to send to")->required();
  p->add_option("--records,-n", produce->records, "Records to send (default 1000000)")
      ->check(CLI::PositiveNumber);
  p->add_option("--record-size,-s", produce->record_size, "Bytes of each value (default 100)")
      ->check(CLI::NonNegativeNumber);
  p->add_option("--key-size,-k", produce->key_size,
                "Bytes of each key; 0 (default) sends null keys, producer i to partition i")
      ->check(CLI::NonNegativeNumber);
  p->add_option("--producers,-p", produce->producers, "Producer threads (default 1)")
      ->check(CLI::Range(1, 1024));
  p->add_option("--durability,-d", produce->durability, "memory, process (default) or power")
      ->check(CLI::IsMember(Names(DurabilityNames())));
  p->add_option("--compression,-z", produce->compression, "none (default), lz4 or zstd")
      ->check(CLI::IsMember(Names(CompressionNames())));
  p->add_option("--batch-bytes", produce->batch_bytes, "Bytes per batch (default 65536)")
      ->check(CLI::PositiveNumber);
  p->add_option("--linger-ms", produce->linger_ms, "How long a batch may wait to fill (default 5)")
      ->check(CLI::NonNegativeNumber);
  p->add_flag("--compressible", produce->compressible, "Values of text instead of random bytes");
  p->add_flag("--json", produce->json, "Print one JSON object");
  p->callback(
      [&ctx, produce] { ctx.action = [&ctx, produce] { return PerfProduce(ctx, *produce); }; });

  auto consume = std::make_shared<ConsumeArgs>();
  CLI::App* c = perf->add_subcommand(
      "consume",
      "Read a topic's records from the beginning of every partition as fast as "
      "a consumer can");
  c->add_option("--topic,-t", consume->topic, "Topic to read")->required();
  c->add_option("--records,-n", consume->records, "Stop after N records (default: all)")
      ->check(CLI::NonNegativeNumber);
  c->add_flag("--json", consume->json, "Print one JSON object");
  c->callback(
      [&ctx, consume] { ctx.action = [&ctx, consume] { return PerfConsume(ctx, *consume); }; });

  AddPerfLatencyCommand(*perf, ctx);
}

}  // namespace rill::cli
