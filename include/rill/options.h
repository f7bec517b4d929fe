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
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "rill/clock.h"
#include "rill/compression.h"
#include "rill/export.h"
#include "rill/log_sink.h"
#include "rill/types.h"

namespace rill {

// Where a record's timestamp comes from (message.timestamp.type).
// Persistent format: stored in topic configs by name, never renumber.
enum class TimestampType {
  kCreateTime,     // The producer's (Record::timestamp, or the time of Send).
  kLogAppendTime,  // The log's clock when the batch is appended.
};

// What becomes of a topic's old records (cleanup.policy).
// Persistent format: stored in topic configs by name ("delete", "compact",
// "compact,delete"), never renamed.
enum class CleanupPolicy {
  kDelete,         // retention.ms and retention.bytes delete old segments.
  kCompact,        // The cleaner keeps the latest record of each key.
  kCompactDelete,  // Both.
};

// What happens to appends once a topic has reached its quota.bytes, or the
// log its disk budget (quota.policy).
// Persistent format: stored in topic configs by name ("reject",
// "drop-oldest"), never renamed.
enum class QuotaPolicy {
  // Appends fail with kResourceExhausted; nothing already written changes.
  kReject,
  // The oldest sealed segments are deleted to make room: of this topic for
  // its quota; of every drop-oldest topic, oldest first, for the budget.
  kDropOldest,
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

  // cleanup.policy: delete old segments, compact, or both.
  CleanupPolicy cleanup_policy = CleanupPolicy::kDelete;
  // Compaction keeps a tombstone (a record with a null value) this long, in
  // ms, after the cleaner first met it, so that consumers behind see it
  // (delete.retention.ms).
  int64_t delete_retention_ms = 24ll * 3600 * 1000;
  // Records stay uncompacted until they are this old, in ms: the cleaner
  // leaves a segment, and every later one, while its newest record is younger
  // (min.compaction.lag.ms).
  int64_t min_compaction_lag_ms = 0;
  // The cleaner rewrites a partition once this share of its cleanable bytes
  // was written since the last cleaning (min.cleanable.dirty.ratio), or once
  // a tombstone's time is up.
  double min_cleanable_dirty_ratio = 0.5;

  // rill's own: a limit on the bytes the topic's files take on the device
  // (segments, indexes, space allocated ahead, recovery points, its
  // settings file), and what happens at it.
  struct Quota {
    // quota.bytes; -1: none.
    int64_t bytes = -1;
    // quota.policy, also applied when the log reaches its disk budget.
    QuotaPolicy policy = QuotaPolicy::kReject;
  };
  Quota quota = {};

  // Set(name, value): sets one setting by its Kafka name, e.g.
  // Set("retention.ms", "86400000"). Returns kInvalidArgument, changing
  // nothing, for an unknown name or a value out of range.
  absl::Status Set(std::string_view name, std::string_view value);
  // Validate(): kInvalidArgument naming the first setting out of range.
  absl::Status Validate() const;
  // ToMap(): every setting by its Kafka name, as Set() accepts it.
  std::map<std::string, std::string> ToMap() const;
};

// Which thread faults in the pages of a segment before a writer reaches
// them (a first write to a page costs a page fault of several µs; a write to
// a page already mapped, a memcpy).
//
// Whatever the choice, batches of records of 512 B and more are written with
// pwritev and nobody faults pages in ahead of them (such writers fill pages
// faster than another core faults them in). With kBackground, and kAuto
// while a core is spare, a background thread then maps their pages behind
// the writer, so that consumers in the process read them without faulting.
enum class Prefault {
  // Whichever suits the writer's pace, judged over each MiB it appends:
  // kWriter while a partition takes less than 64 MB/s (about half a million
  // 100-byte records a second), kBackground while it takes more and a core
  // is spare -- fewer partitions append that fast than the process has CPUs
  // -- and nobody while none is (each batch is then written with pwritev,
  // which costs less than faulting). A paced producer spends a few µs of its
  // idle time after each 8 KiB it appends, and no thread preempts a
  // busy-polling consumer; a producer appending flat out keeps its memcpy
  // speed. With background_threads = 0, kWriter.
  kAuto,
  // A background thread, 32 MiB ahead of the writer: appends stay a memcpy.
  // That work (tens of ms per 16 MiB) needs a core: where none is idle, it
  // preempts whatever runs there -- a busy-polling consumer on a two-core
  // machine stalls for milliseconds at a time.
  kBackground,
  // The appending thread itself, up to 256 KiB ahead, two pages (a few µs)
  // after each 8 KiB it appends, once the append is visible to consumers.
  // No prefaulting behind the writer's back; costs the producer that CPU
  // time (about a third of its throughput when it appends flat out).
  kWriter,
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

  // The most bytes the log's files may take on the device: segments,
  // indexes, space allocated ahead of writers, recovery points, settings
  // files, directories. 0: no budget. Appends that would pass it fail with
  // kResourceExhausted or delete the oldest data, as each topic's
  // quota.policy says. Held to within one segment (see docs/DESIGN.md).
  uint64_t disk_budget_bytes = 0;

  // Threads the log runs background work on, each started when work first
  // needs it: prefaulting segments, syncing sealed ones, and a maintenance
  // pass (retention, quotas, rolling by segment.ms, compaction) every
  // maintenance_interval. Besides these, one timer thread that every log in
  // the process shares, started by the first log opened, appends batches
  // that have lingered (running their callbacks) and queues the maintenance
  // pass. It sleeps on after the last log closes; fork() joins it first if
  // no log is open, so such a process forks with no thread of rill's.
  // 0 runs nothing on any thread of rill's; then call
  // Log::RunMaintenance() yourself (and batches wait for Flush()).
  int background_threads = 1;
  absl::Duration maintenance_interval = absl::Seconds(30);

  // Who faults in segment pages ahead of writers (see Prefault). With
  // background_threads = 0, kBackground means nobody: each batch is then
  // written with pwritev (see append_by_write).
  Prefault prefault = Prefault::kAuto;

  // How appends reach a segment's file.
  //   false: each batch is copied through a writable shared mapping of the
  //     segment, whose pages `prefault` faults in ahead of the writer -- or,
  //     if it reaches more than a page past those, written with pwritev.
  //   true: each batch is written into the page cache with pwritev, as
  //     write() does. Segments are mapped read-only, so a stray write
  //     through a pointer cannot reach the log; nothing is prefaulted and
  //     `prefault` is ignored; a consumer faults in the pages it reads,
  //     except that one waiting at the end maps the next page or two first.
  // What it survives is the same. Measured on two vCPUs (bench/RESULTS.md):
  // four producers on four partitions reach twice one producer rather than
  // about 1.6x, and no background thread takes a core from anyone; one
  // producer of 100-byte records is about 20% slower (it pays for new pages
  // itself), and replay just after writing about 40% slower (its reader
  // maps the pages). (With false, a batch that outruns the pages faulted in
  // ahead is written with pwritev too: that is cheaper than faulting them.)
  bool append_by_write = false;
};

// What a producer's Send survives once it has returned (or its callback has
// run). Persistent in no file.
enum class Durability {
  // Nothing beyond the process: the record is in the log's memory. On a log
  // on disk this behaves as kProcessCrash.
  kMemory,
  // A crash of the process: the record is in the segment file's page cache
  // (written through its shared mapping, or with pwritev under
  // append_by_write), and the kernel writes it to disk even if the process
  // dies.
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

// Where a consumer starts in a partition it has no position for -- for a
// consumer in a group, no committed offset (auto.offset.reset).
enum class OffsetReset {
  kEarliest,  // The first offset in the log.
  kLatest,    // The end: only records appended from now on.
  kNone,      // No default: Poll fails with kFailedPrecondition.
};

// How a consumer group shares its topics' partitions among its members
// (Kafka's partition.assignment.strategy). Every member of a group must use
// the same one. Persistent in no file.
enum class Assignor {
  // Kafka's RangeAssignor: per topic, the partitions in order are cut into
  // one range per subscribed member (members in member-id order); the first
  // (partitions % members) members get one more. Eager: every rebalance
  // revokes every partition, then assigns anew.
  kRange,
  // Kafka's RoundRobinAssignor: all topic-partitions in order are dealt to
  // the members in member-id order, skipping members not subscribed to the
  // partition's topic. Eager.
  kRoundRobin,
  // Kafka's CooperativeStickyAssignor: balanced (partition counts differ by
  // at most one where subscriptions allow), and each rebalance moves as few
  // partitions as it can: members keep the rest, and only the partitions
  // that move are revoked.
  kCooperativeSticky,
};

// Called with a list of partitions, on the consumer's own thread, inside
// Poll (or Close, Unsubscribe, the destructor). See ConsumerOptions.
using PartitionsCallback = std::function<void(const std::vector<TopicPartition>&)>;

struct RILL_EXPORT ConsumerOptions {
  // The consumer group this consumer belongs to (Kafka's group.id). Empty:
  // none -- the consumer reads what it subscribes to or is assigned, and its
  // positions live only in memory. With a group, Subscribe() joins it: the
  // group's members share the partitions of the topics they subscribe to,
  // each partition read by one member at a time, and positions are
  // committed to the log (Commit(), or auto-commit) so that the next owner
  // -- or this consumer after a restart -- resumes from them. A group of
  // one is how a named reader resumes where it stopped.
  std::string group = {};
  // Names the consumer's member id in its group: "<client_id>-<n>", n
  // counting the log's members ("consumer" when empty).
  std::string client_id = {};
  // How the group shares partitions (every member must say the same).
  Assignor assignor = Assignor::kRange;
  // on_revoked(partitions): this member is about to stop reading these
  // partitions (a rebalance moves them, the consumer closes or
  // unsubscribes). Called before they are released: Commit() here commits
  // them, so that their next owner resumes exactly there. Also called with
  // every partition the member had when it finds it was removed from the
  // group for not polling within max_poll_interval (Kafka's
  // onPartitionsLost): they were released already, and Commit() fails.
  PartitionsCallback on_revoked = nullptr;
  // on_assigned(partitions): this member now reads these partitions, from
  // their committed offsets (or auto_offset_reset). Seek() may move them.
  PartitionsCallback on_assigned = nullptr;
  // Commit the positions of the partitions read every auto_commit_interval
  // (checked in Poll), before partitions are revoked, and at Close
  // (enable.auto.commit, auto.commit.interval.ms).
  bool enable_auto_commit = true;
  absl::Duration auto_commit_interval = absl::Seconds(5);
  // A member that does not call Poll for this long is removed from its group
  // and its partitions given to the others (max.poll.interval.ms). Checked
  // when other members poll or join, and by the timer thread (not with
  // background_threads = 0).
  absl::Duration max_poll_interval = absl::Minutes(5);
  // What a commit survives once Commit() has returned: kProcessCrash (the
  // default) or kPowerLoss (synced to the device).
  Durability commit_durability = Durability::kProcessCrash;

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
