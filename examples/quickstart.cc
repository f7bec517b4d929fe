// quickstart: create a topic, send records, read them back, reopen and read
// them again -- rill's API in one page. Run: quickstart [DIR]
#include <cstdio>
#include <string>

#include "rill/rill.h"

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "rill-quickstart";

  absl::StatusOr<std::unique_ptr<rill::Log>> log = rill::Log::Open(dir);
  if (!log.ok()) {
    std::fprintf(stderr, "open %s: %s\n", dir.c_str(), log.status().ToString().c_str());
    return 1;
  }
  absl::Status s = (*log)->CreateTopic("orders", {.partitions = 4});
  if (!s.ok() && !absl::IsAlreadyExists(s)) {
    std::fprintf(stderr, "create topic: %s\n", s.ToString().c_str());
    return 1;
  }

  // Send: records with the same key land in the same partition, as in Kafka.
  rill::Producer producer(**log, {.durability = rill::Durability::kProcessCrash});
  for (int i = 0; i < 8; ++i) {
    const std::string key = "user-" + std::to_string(i % 3);
    const std::string value = "order #" + std::to_string(i);
    absl::StatusOr<rill::RecordPosition> pos = producer.Send("orders", {.key = key, .value = value});
    if (!pos.ok()) {
      std::fprintf(stderr, "send: %s\n", pos.status().ToString().c_str());
      return 1;
    }
    std::printf("sent %-7s %-9s -> partition %d offset %lld\n", key.c_str(), value.c_str(),
                pos->partition, static_cast<long long>(pos->offset));
  }

  // Poll: views into the log's memory, valid until the next Poll.
  rill::Consumer consumer(**log, {.auto_offset_reset = rill::OffsetReset::kEarliest});
  if (absl::Status sub = consumer.Subscribe({"orders"}); !sub.ok()) {
    std::fprintf(stderr, "subscribe: %s\n", sub.ToString().c_str());
    return 1;
  }
  size_t seen = 0;
  while (true) {
    absl::StatusOr<rill::ConsumerRecords> records = consumer.Poll(absl::Milliseconds(100));
    if (!records.ok()) {
      std::fprintf(stderr, "poll: %s\n", records.status().ToString().c_str());
      return 1;
    }
    if (records->empty()) break;  // Nothing new for 100 ms: caught up.
    for (const rill::RecordView& r : *records) {
      std::printf("read %s-%d@%lld  %.*s = %.*s\n", std::string(r.topic()).c_str(), r.partition(),
                  static_cast<long long>(r.offset()), static_cast<int>(r.key().size()),
                  r.key().data(), static_cast<int>(r.value().size()), r.value().data());
      ++seen;
    }
  }
  std::printf("%zu records in %s (run me again: they are still there)\n", seen, dir.c_str());
  return 0;
}
