// rill perf latency: one producer thread sends at a fixed rate to a fresh
// topic while a consumer thread receives; each value carries the time it was
// sent, so the consumer measures the one-way latency of every record.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "cli/perf.h"
#include "cli/progress.h"
#include "rill/consumer.h"
#include "rill/producer.h"

namespace rill::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct LatencyArgs {
  int64_t records = 100000;
  double rate = 10000;         // Records per second.
  std::string wait = "block";  // spin: the consumer spins instead of sleeping.
  int32_t record_size = 64;
  std::string durability = "process";
  bool json = false;
};

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// WaitUntil(t): sleeps until shortly before `t`, then spins the last few
// microseconds, so that sends leave on time without the producer keeping a
// core busy (which a spinning consumer needs).
void WaitUntil(int64_t t) {
  constexpr int64_t kSpinNanos = 20 * 1000;
  for (int64_t now = NowNanos(); now < t; now = NowNanos()) {
    if (t - now > kSpinNanos)
      std::this_thread::sleep_for(std::chrono::nanoseconds(t - now - kSpinNanos));
  }
}

// Percentile(sorted, q): the q-quantile of sorted nanoseconds, in us.
double Percentile(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return static_cast<double>(sorted[std::min(i, sorted.size() - 1)]) / 1000.0;
}

int PerfLatency(const Context& ctx, const LatencyArgs& args) {
  absl::StatusOr<std::unique_ptr<Log>> log = OpenLog(ctx, LogAccess::kCreate);
  if (!log.ok()) return Fail(log.status());
  const std::string topic = absl::StrCat("rill-perf-latency-", getpid(), "-", NowNanos() / 1000000);
  if (absl::Status s = (*log)->CreateTopic(topic, {.partitions = 1}); !s.ok()) return Fail(s);

  std::vector<int64_t> latencies;
  latencies.reserve(static_cast<size_t>(args.records));
  absl::Status consume_error;
  absl::Notification ready;
  std::atomic<bool> producer_done{false};
  std::atomic<bool> consumer_failed{false};
  Consumer consumer(
      **log, {.auto_offset_reset = OffsetReset::kEarliest,
              .busy_poll = args.wait == "spin" ? absl::InfiniteDuration() : absl::ZeroDuration()});
  std::thread consumer_thread([&] {
    consume_error = consumer.Assign({{topic, 0}});
    if (consume_error.ok()) consume_error = consumer.Position({topic, 0}).status();
    ready.Notify();
    Clock::time_point last_record = Clock::now();
    while (consume_error.ok() && static_cast<int64_t>(latencies.size()) < args.records) {
      absl::StatusOr<ConsumerRecords> records = consumer.Poll(absl::Milliseconds(100));
      if (!records.ok()) {
        consume_error = records.status();
        break;
      }
      const int64_t now = NowNanos();
      for (const RecordView& r : *records) {
        if (r.value().size() < sizeof(int64_t)) continue;  // Not one of ours.
        int64_t sent;
        std::memcpy(&sent, r.value().data(), sizeof(sent));
        latencies.push_back(now - sent);
      }
      if (!records->empty()) {
        last_record = Clock::now();
      } else if (producer_done.load() && Clock::now() - last_record > std::chrono::seconds(5)) {
        consume_error = absl::DeadlineExceededError("records sent were not received in 5 s");
      }
    }
    if (!consume_error.ok()) consumer_failed.store(true);
  });
  ready.WaitForNotification();

  absl::Status send_error;
  ProgressBar bar("perf latency", static_cast<uint64_t>(args.records), ProgressBar::Unit::kRecords);
  {
    Producer producer(**log, {.durability = DurabilityNames().at(args.durability)});
    std::string value(static_cast<size_t>(args.record_size), 'v');
    const double interval = 1e9 / args.rate;
    const int64_t start = NowNanos();
    for (int64_t i = 0; i < args.records && !consumer_failed.load(); ++i) {
      WaitUntil(start + static_cast<int64_t>(static_cast<double>(i) * interval));
      const int64_t now = NowNanos();
      std::memcpy(value.data(), &now, sizeof(now));
      absl::StatusOr<RecordPosition> sent = producer.Send(topic, {.value = value});
      if (!sent.ok()) {
        send_error = sent.status();
        break;
      }
      bar.Update(static_cast<uint64_t>(i + 1));
    }
    producer_done.store(true);
    if (!send_error.ok()) consumer.Wakeup();
    consumer_thread.join();
    const double seconds = static_cast<double>(NowNanos() - start) / 1e9;
    bar.Finish();
    (void)consumer.Close();
    (void)producer.Close();
    absl::Status deleted = (*log)->DeleteTopic(topic);
    absl::Status closed = (*log)->Close();
    if (!send_error.ok()) return Fail(send_error);
    if (!consume_error.ok()) return Fail(consume_error);
    if (!deleted.ok()) return Fail(deleted);
    if (!closed.ok()) return Fail(closed);

    std::sort(latencies.begin(), latencies.end());
    PerfResult result{.records = static_cast<int64_t>(latencies.size()),
                      .bytes = latencies.size() * static_cast<uint64_t>(args.record_size),
                      .seconds = seconds,
                      .latency = LatencySummary{.p50 = Percentile(latencies, 0.5),
                                                .p99 = Percentile(latencies, 0.99),
                                                .p999 = Percentile(latencies, 0.999),
                                                .max = Percentile(latencies, 1.0)}};
    PrintResult("perf latency", result, args.json);
  }
  return kExitOk;
}

}  // namespace

void AddPerfLatencyCommand(CLI::App& perf, Context& ctx) {
  auto args = std::make_shared<LatencyArgs>();
  CLI::App* cmd = perf.add_subcommand(
      "latency",
      "Send at a fixed rate to a fresh topic (deleted afterwards) from one thread, "
      "receive on another, and report the one-way latency of each record");
  cmd->add_option("--records,-n", args->records, "Records to send (default 100000)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--rate,-r", args->rate, "Records per second (default 10000)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--wait,-w", args->wait,
                  "How the consumer waits for records: block (default; sleeps until woken) or "
                  "spin (a busy core, lowest latency)")
      ->check(CLI::IsMember({"block", "spin"}));
  cmd->add_option("--record-size,-s", args->record_size,
                  "Bytes of each value, at least 8 "
                  "(default 64)")
      ->check(CLI::Range(8, 1 << 20));
  cmd->add_option("--durability,-d", args->durability, "memory, process (default) or power")
      ->check(CLI::IsMember(Names(DurabilityNames())));
  cmd->add_flag("--json", args->json, "Print one JSON object");
  cmd->callback([&ctx, args] { ctx.action = [&ctx, args] { return PerfLatency(ctx, *args); }; });
}

}  // namespace rill::cli
