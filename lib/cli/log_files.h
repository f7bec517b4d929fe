// The files of a log on disk, found by name and read without opening the
// log: no lock taken, nothing written, nothing mapped. For `rill dump` and
// `rill verify`, which must work while another process has the log open.
// The layout is docs/FORMAT.md's.
#ifndef RILL_LIB_CLI_LOG_FILES_H_
#define RILL_LIB_CLI_LOG_FILES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rill/options.h"
#include "storage/recovery_point.h"

namespace rill::cli {

// A partition directory, `<topic>-<partition>`.
struct PartitionFiles {
  std::string topic;
  int32_t partition = 0;
  std::string dir;
};

// ListPartitions(log_dir): the partition directories of a log, sorted by
// topic, then partition number.
absl::StatusOr<std::vector<PartitionFiles>> ListPartitions(const std::string& log_dir);

// ListSegments(dir): the base offsets of the segments (*.log) of a partition
// directory, in increasing order.
absl::StatusOr<std::vector<int64_t>> ListSegments(const std::string& dir);

// SegmentPath(dir, base, suffix): dir/00000000000000000042.log and the like.
std::string SegmentPath(const std::string& dir, int64_t base, std::string_view suffix);

// A topic's properties file, parsed.
struct TopicFile {
  std::string name;
  std::string path;
  absl::StatusOr<TopicConfig> config;
};

// ReadTopics(log_dir): every topics/<name> settings file, sorted by name; a
// file that cannot be read or parsed has the error in `config`.
absl::StatusOr<std::vector<TopicFile>> ReadTopics(const std::string& log_dir);

// What a partition's recovery-point file says.
struct RecoveryPointFile {
  bool present = false;                // The file exists...
  std::optional<RecoveryPoint> point;  // ... and is intact.
};
RecoveryPointFile ReadRecoveryPointFile(const std::string& dir);

// TrustedBytes(point, base): how many leading bytes of segment `base` the
// recovery point vouches for -- bytes the next open does not check, and
// never cuts: all of them for a segment before the point's segment,
// point.position in it, none after it or without a point.
uint64_t TrustedBytes(const std::optional<RecoveryPoint>& point, int64_t base);

// The entries of a segment's index files, offsets made absolute.
struct OffsetEntry {
  int64_t offset = 0;  // The last offset of the batch at `position`.
  uint64_t position = 0;
};
struct TimeEntry {
  int64_t timestamp = 0;
  int64_t offset = 0;
};
template <typename Entry>
struct IndexContents {
  std::vector<Entry> entries;
  // All-zero entries at the end: space allocated ahead of the writer (an
  // active segment's index grows in steps), not counted in `entries`.
  size_t zero_entries = 0;
  // Bytes of a last, partial entry that are not all zeros (the file size
  // is not a multiple of the entry size).
  size_t partial_bytes = 0;
};

// ReadOffsetIndex / ReadTimeIndex(path, base): the entries of an .index or
// .timeindex file of the segment `base`. kNotFound when it is missing.
absl::StatusOr<IndexContents<OffsetEntry>> ReadOffsetIndex(const std::string& path, int64_t base);
absl::StatusOr<IndexContents<TimeEntry>> ReadTimeIndex(const std::string& path, int64_t base);

}  // namespace rill::cli

#endif  // RILL_LIB_CLI_LOG_FILES_H_
