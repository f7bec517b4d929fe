// Options of rill's objects: the log, its topics, producers and consumers.
// Every field has a default; behaviour comes first, performance knobs after.
// Topic settings use Kafka's names and units (retention.ms, segment.bytes...)
// so that Kafka users meet no new words.
//
//   auto log = rill::Log::Open("/var/lib/app/events", {});
//   log->CreateTopic("orders", {.partitions = 4, .retention = {.bytes = 1ll << 30}});
//
// Thread-safety: plain values.
#ifndef RILL_OPTIONS_H_
#define RILL_OPTIONS_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "rill/clock.h"
#include "rill/compression.h"
#include "rill/export.h"
#include "rill/log_sink.h"

namespace rill {

// Where a record's timestamp comes from (message.timestamp.type).
// Persistent format: stored in topic configs by name, never renumber.
enum class TimestampType {
  kCreateTime,     // The producer's (Record::timestamp, or the time of Send).
  kLogAppendTime,  // The log's clock when the batch is appended.
};

// TopicConfig: a topic's settings, named as Kafka names them. Stored with the
// topic.
struct RILL_EXPORT TopicConfig {
  // Number of partitions; 1 to 100000.
  int32_t partitions = 1;

  struct Retention {
    // Delete sealed segments whose newest record is older than this, in ms
    // (retention.ms); -1 keeps them forever.
    int64_t ms = 7ll * 24 * 3600 * 1000;
    // Delete the oldest sealed segments while a partition holds more than
    // this many bytes (retention.bytes); -1 means no limit.
    int64_t bytes = -1;
  } retention = {};

  // Largest size of a segment file, in bytes (segment.bytes). Its space is
  // reserved in steps as it fills.
  int64_t segment_bytes = 1ll << 30;
  // Start a new segment once the active one's first record is this old, in
  // ms (segment.ms).
  int64_t segment_ms = 7ll * 24 * 3600 * 1000;
  // Largest record batch the topic accepts, in bytes (max.message.bytes).
  int32_t max_message_bytes = 1048588;
  // message.timestamp.type.
  TimestampType timestamp_type = TimestampType::kCreateTime;
  // Bytes of log between two entries of a segment's offset index
  // (index.interval.bytes).
  int32_t index_interval_bytes = 4096;
  // Largest size of each index file of a segment (segment.index.bytes).
  int32_t segment_index_bytes = 10 << 20;

  // Set(name, value): sets one setting by its Kafka name, e.g.
  // Set("retention.ms", "86400000"). Returns kInvalidArgument, changing
  // nothing, for an unknown name or a value out of range.
  absl::Status Set(std::string_view name, std::string_view value);
  // Validate(): kInvalidArgument naming the first setting out of range.
  absl::Status Validate() const;
  // ToMap(): every setting by its Kafka name, as Set() accepts it.
  std::map<std::string, std::string> ToMap() const;
};

struct RILL_EXPORT LogOptions {
  // Create the log's directory when it does not exist.
  bool create_if_missing = true;
  // Send() to an unknown topic creates it with default_topic_config instead
  // of failing with kNotFound (Kafka's auto.create.topics.enable).
  bool auto_create_topics = false;
  TopicConfig default_topic_config = {};

  // Where rill reads the time. Null: the system's clocks.
  Clock* clock = nullptr;
  // Where rill reports recoveries and background failures. Empty: stderr.
  LogSink log_sink = {};

  // Threads the log runs background work on: prefaulting segments, syncing
  // sealed ones, flushing lingering batches. 0 runs none; then call
  // Log::RunMaintenance() yourself (and batches wait for Flush()).
  int background_threads = 1;
};

// What a producer's Send survives once it has returned (or its callback has
// run). Persistent in no file.
enum class Durability {
  // Nothing beyond the process: the record is in the log's memory. On a log
  // on disk this behaves as kProcessCrash.
  kMemory,
  // A crash of the process: the record is in the shared mapping of the
  // segment file, and the kernel writes it to disk even if the process dies.
  kProcessCrash,
  // A loss of power or a kernel crash: the record was synced to the device.
  // Concurrent senders share each sync (group commit).
  kPowerLoss,
};

struct RILL_EXPORT ProducerOptions {
  Durability durability = Durability::kProcessCrash;
  // Codec of the batches this producer writes: kNone, kLz4 or kZstd.
  Compression compression = Compression::kNone;
  // Codec level; 0 is the codec's default.
  int compression_level = 0;

  // SendAsync batches records per partition until a batch holds this many
  // bytes (Kafka's batch.size; capped by the topic's max.message.bytes) ...
  int32_t batch_bytes = 64 << 10;
  // ... or its first record has waited this long (linger.ms). Send() never
  // waits: it appends at once.
  absl::Duration linger = absl::Milliseconds(5);
};

// Where a consumer starts in a partition it has no position for
// (auto.offset.reset).
enum class OffsetReset {
  kEarliest,  // The first offset in the log.
  kLatest,    // The end: only records appended from now on.
  kNone,      // No default: Poll fails with kFailedPrecondition.
};

struct RILL_EXPORT ConsumerOptions {
  OffsetReset auto_offset_reset = OffsetReset::kLatest;
  // Largest number of records one Poll returns (max.poll.records).
  int32_t max_poll_records = 500;
  // About how many bytes of batches one Poll reads at most, over all
  // partitions (fetch.max.bytes); at least one batch is always returned.
  int32_t max_poll_bytes = 1 << 20;
  // How long Poll spins, re-checking the partitions, before it sleeps until
  // an append wakes it. 0 sleeps at once (no CPU burnt while idle);
  // absl::InfiniteDuration() never sleeps (lowest latency, a core busy).
  absl::Duration busy_poll = absl::ZeroDuration();
};

}  // namespace rill

#endif  // RILL_OPTIONS_H_
