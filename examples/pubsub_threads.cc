// pubsub_threads: one producer thread publishes to a topic of three
// partitions; three consumer threads each read one partition and count what
// they get. An in-memory log: this is rill as a message bus between threads.
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "rill/rill.h"

namespace {

constexpr int kPartitions = 3;
constexpr int kMessages = 300000;

}  // namespace

int main() {
  absl::StatusOr<std::unique_ptr<rill::Log>> log = rill::Log::OpenInMemory();
  if (!log.ok() || !(*log)->CreateTopic("ticks", {.partitions = kPartitions}).ok()) {
    std::fprintf(stderr, "cannot set up the log\n");
    return 1;
  }

  std::atomic<int64_t> received{0};
  std::vector<std::thread> consumers;
  for (int p = 0; p < kPartitions; ++p) {
    consumers.emplace_back([&log, &received, p] {
      // Each consumer owns one partition; it sleeps when there is nothing to
      // read and is woken by the next append.
      rill::Consumer consumer(**log, {.auto_offset_reset = rill::OffsetReset::kEarliest});
      if (!consumer.Assign({{"ticks", p}}).ok()) return;
      int64_t mine = 0;
      int64_t last_offset = -1;
      while (received.load() < kMessages) {
        absl::StatusOr<rill::ConsumerRecords> records = consumer.Poll(absl::Milliseconds(50));
        if (!records.ok()) {
          std::fprintf(stderr, "poll: %s\n", records.status().ToString().c_str());
          return;
        }
        for (const rill::RecordView& r : *records) {
          if (r.offset() != last_offset + 1) std::fprintf(stderr, "gap in partition %d\n", p);
          last_offset = r.offset();
          ++mine;
        }
        received.fetch_add(static_cast<int64_t>(records->size()));
      }
      std::printf("consumer of partition %d read %lld messages\n", p,
                  static_cast<long long>(mine));
    });
  }

  std::thread producer_thread([&log] {
    rill::Producer producer(**log, {.linger = absl::Microseconds(200)});
    for (int i = 0; i < kMessages; ++i) {
      const std::string key = "sensor-" + std::to_string(i % 97);
      const std::string value = "reading " + std::to_string(i);
      if (!producer.SendAsync("ticks", {.key = key, .value = value}).ok()) return;
    }
    (void)producer.Flush();
  });

  producer_thread.join();
  for (std::thread& t : consumers) t.join();
  std::printf("%lld of %d messages delivered\n", static_cast<long long>(received.load()),
              kMessages);
  return received.load() == kMessages ? 0 : 1;
}
