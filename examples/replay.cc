// replay: reopen a log on disk and read a topic from its first record, as a
// service does after a restart to rebuild its state. Run quickstart first, or
// pass another log directory and topic: replay [DIR [TOPIC]]
#include <cstdio>
#include <map>
#include <string>

#include "rill/rill.h"

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "rill-quickstart";
  const std::string topic = argc > 2 ? argv[2] : "orders";

  // create_if_missing = false: replaying a log that is not there is an error.
  absl::StatusOr<std::unique_ptr<rill::Log>> log =
      rill::Log::Open(dir, {.create_if_missing = false});
  if (!log.ok()) {
    std::fprintf(stderr, "open %s: %s\n", dir.c_str(), log.status().ToString().c_str());
    return 1;
  }
  const rill::RecoveryReport& recovery = (*log)->recovery_report();
  if (recovery.partitions_recovered > 0) {
    std::printf("recovered %lld partitions after an unclean shutdown; cut %llu bytes\n",
                static_cast<long long>(recovery.partitions_recovered),
                static_cast<unsigned long long>(recovery.bytes_dropped));
  }

  rill::Consumer consumer(**log, {.auto_offset_reset = rill::OffsetReset::kEarliest});
  if (absl::Status s = consumer.Subscribe({topic}); !s.ok()) {
    std::fprintf(stderr, "subscribe: %s\n", s.ToString().c_str());
    return 1;
  }
  if (absl::Status s = consumer.SeekToBeginning(); !s.ok()) {
    std::fprintf(stderr, "seek: %s\n", s.ToString().c_str());
    return 1;
  }
  // Rebuild "the latest value per key" from the whole history.
  std::map<std::string, std::string> latest;
  int64_t records_read = 0;
  for (;;) {
    absl::StatusOr<rill::ConsumerRecords> records = consumer.Poll(absl::ZeroDuration());
    if (!records.ok()) {
      std::fprintf(stderr, "poll: %s\n", records.status().ToString().c_str());
      return 1;
    }
    if (records->empty()) break;  // Reached the end.
    for (const rill::RecordView& r : *records) {
      latest[std::string(r.key())] = std::string(r.value());
      ++records_read;
    }
  }
  std::printf("replayed %lld records of %s; %zu keys\n", static_cast<long long>(records_read),
              topic.c_str(), latest.size());
  for (const auto& [key, value] : latest) std::printf("  %s = %s\n", key.c_str(), value.c_str());
  return 0;
}
