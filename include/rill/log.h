// Log: a set of topics, each split into partitions, stored in one directory
// (or in memory). It is the object producers write to and consumers read
// from; it owns the files and the background threads.
//
//   absl::StatusOr<std::unique_ptr<rill::Log>> log = rill::Log::Open("/var/lib/app/events");
//   if (!log.ok()) return log.status();
//   (*log)->CreateTopic("orders", {.partitions = 4});
//
// Thread-safety: every method may be called from any thread at once.
// Producers and consumers may outlive the Log object: once it is closed their
// calls fail with kFailedPrecondition.
#ifndef RILL_LOG_H_
#define RILL_LOG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rill/export.h"
#include "rill/options.h"
#include "rill/recovery.h"
#include "rill/types.h"

namespace rill {

namespace core {
class LogState;
class LogFactory;
}  // namespace core

// PartitionDescription: the state of one partition.
struct PartitionDescription {
  int32_t partition = 0;
  // The first offset still in the log, and the offset the next record gets.
  int64_t start_offset = 0;
  int64_t end_offset = 0;
  int32_t segments = 0;
  // Bytes of record batches in the partition's segments.
  uint64_t bytes = 0;
};

struct TopicDescription {
  std::string name = {};
  TopicConfig config = {};
  std::vector<PartitionDescription> partitions = {};
};

class RILL_EXPORT Log {
 public:
  // Open(dir, options): opens the log in directory `dir`, creating it if
  // missing (unless options.create_if_missing is false: then kNotFound).
  // Partitions not closed cleanly are recovered: torn or corrupt tails are
  // cut off and reported (recovery_report()). Errors: kFailedPrecondition
  // when another process -- or another Log in this one -- has the directory
  // open (the message names its pid), or when the directory holds a log of a
  // newer format; kInvalidArgument when `dir` is not a directory; the
  // file system's errors otherwise.
  static absl::StatusOr<std::unique_ptr<Log>> Open(std::string_view dir,
                                                   const LogOptions& options = {});

  // OpenInMemory(options): a log with no files, as fast to open as an empty
  // map. Everything is lost when it is closed. For tests and caches.
  static absl::StatusOr<std::unique_ptr<Log>> OpenInMemory(const LogOptions& options = {});

  // Closes the log (see Close()).
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Close(): flushes every producer's pending batches, syncs every
  // partition, records that the log was closed cleanly, stops the background
  // threads and releases every file and mapping not still viewed by a
  // consumer's last poll. Later calls on the log, its producers and
  // consumers fail with kFailedPrecondition. Returns the first error met;
  // the log is closed anyway.
  absl::Status Close();

  // CreateTopic(name, config): creates a topic. Names follow Kafka's rule:
  // 1 to 249 characters of [A-Za-z0-9._-], not "." or "..". Errors:
  // kInvalidArgument (name or config), kAlreadyExists.
  absl::Status CreateTopic(std::string_view name, const TopicConfig& config = {});

  // DeleteTopic(name): deletes a topic and its data. Its producers' and
  // consumers' later calls on it fail with kNotFound. kNotFound if missing.
  absl::Status DeleteTopic(std::string_view name);

  // ListTopics(): the names of the topics, sorted.
  std::vector<std::string> ListTopics() const;

  // DescribeTopic(name): its config and partitions. kNotFound if missing.
  absl::StatusOr<TopicDescription> DescribeTopic(std::string_view name) const;

  // SetTopicConfig(name, key, value): changes one setting of a live topic
  // by its Kafka name, durably. It applies from the next append on (segment
  // sizes: from the next segment on). The partition count cannot change
  // here. Errors: kNotFound, kInvalidArgument (nothing changed).
  absl::Status SetTopicConfig(std::string_view name, std::string_view key,
                              std::string_view value);

  // StartOffset / EndOffset: the first offset still in a partition, and the
  // offset its next record will get. kNotFound for an unknown topic,
  // kOutOfRange for a partition that does not exist.
  absl::StatusOr<int64_t> StartOffset(const TopicPartition& tp) const;
  absl::StatusOr<int64_t> EndOffset(const TopicPartition& tp) const;

  // OffsetForTime(tp, timestamp_ms): the first offset in the partition whose
  // record's timestamp is >= timestamp_ms, or the end offset if none is.
  absl::StatusOr<int64_t> OffsetForTime(const TopicPartition& tp, int64_t timestamp_ms) const;

  // Sync(): makes everything appended so far durable (survive a power loss).
  absl::Status Sync();

  // RunMaintenance(): runs now, on the calling thread, the background work
  // that is due (with background_threads = 0 nothing else runs it).
  // Returns the number of tasks run.
  int RunMaintenance();

  // recovery_report(): what Open found and repaired. Empty after a clean
  // close.
  const RecoveryReport& recovery_report() const;

  // The directory of the log, or "" for an in-memory log.
  const std::string& dir() const;

  // Internal: the state producers and consumers share with the log.
  const std::shared_ptr<core::LogState>& state() const { return state_; }

 private:
  friend class core::LogFactory;  // Opens logs over other file systems.
  explicit Log(std::shared_ptr<core::LogState> state);
  std::shared_ptr<core::LogState> state_;
};

}  // namespace rill

#endif  // RILL_LOG_H_
