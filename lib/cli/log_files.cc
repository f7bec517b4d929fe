#include "cli/log_files.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/metadata.h"
#include "core/topic_name.h"
#include "storage/file_system.h"
#include "storage/segment_format.h"
#include "util/status_macros.h"
#include "util/endian.h"
#include "util/strings.h"

namespace rill::cli {

absl::StatusOr<std::vector<PartitionFiles>> ListPartitions(const std::string& log_dir) {
  FileSystem& fs = *FileSystem::Default();
  absl::StatusOr<std::vector<std::string>> names = fs.ListDir(log_dir);
  if (!names.ok()) return names.status();
  std::vector<PartitionFiles> partitions;
  for (const std::string& name : *names) {
    auto parsed = core::ParsePartitionDirName(name);
    if (!parsed) continue;
    const std::string dir = JoinPath(log_dir, name);
    absl::StatusOr<FileInfo> info = fs.Stat(dir);
    if (!info.ok() || !info->is_directory) continue;
    partitions.push_back({parsed->first, parsed->second, dir});
  }
  std::sort(partitions.begin(), partitions.end(), [](const auto& a, const auto& b) {
    return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
  });
  return partitions;
}

absl::StatusOr<std::vector<int64_t>> ListSegments(const std::string& dir) {
  absl::StatusOr<std::vector<std::string>> names = FileSystem::Default()->ListDir(dir);
  if (!names.ok()) return names.status();
  std::vector<int64_t> bases;
  for (const std::string& name : *names) {
    if (auto base = segment::ParseFileName(name, segment::kLogSuffix)) bases.push_back(*base);
  }
  std::sort(bases.begin(), bases.end());
  return bases;
}

std::string SegmentPath(const std::string& dir, int64_t base, std::string_view suffix) {
  return JoinPath(dir, segment::FileName(base, suffix));
}

absl::StatusOr<std::vector<TopicFile>> ReadTopics(const std::string& log_dir) {
  FileSystem& fs = *FileSystem::Default();
  ASSIGN_OR_RETURN(std::vector<std::string> names, core::ListTopicFiles(fs, log_dir));
  std::vector<TopicFile> topics;
  for (const std::string& name : names) {
    topics.push_back(TopicFile{name, core::TopicConfigPath(log_dir, name),
                               core::ReadTopicConfig(fs, log_dir, name)});
  }
  return topics;
}

RecoveryPointFile ReadRecoveryPointFile(const std::string& dir) {
  FileSystem& fs = *FileSystem::Default();
  RecoveryPointFile file;
  file.present = fs.Stat(JoinPath(dir, segment::kRecoveryPointFile)).ok();
  if (file.present) file.point = ReadRecoveryPoint(fs, dir);
  return file;
}

uint64_t TrustedBytes(const std::optional<RecoveryPoint>& point, int64_t base) {
  if (!point || base > point->segment_base) return 0;
  if (base < point->segment_base) return std::numeric_limits<uint64_t>::max();
  return point->position;
}

namespace {

// ReadEntries(path, size, decode): the entries of an index file of
// fixed-size entries.
template <typename Entry, typename Decode>
absl::StatusOr<IndexContents<Entry>> ReadEntries(const std::string& path, size_t entry_size,
                                                 Decode decode) {
  absl::StatusOr<std::string> data = ReadFileToString(*FileSystem::Default(), path);
  if (!data.ok()) return data.status();
  IndexContents<Entry> contents;
  size_t n = data->size() / entry_size;
  // A file grown in steps that are not a multiple of the entry size ends
  // in a partial entry; of zeros, it is allocated space like the rest.
  const size_t partial = data->size() % entry_size;
  if (!std::all_of(data->end() - static_cast<std::ptrdiff_t>(partial), data->end(),
                   [](char c) { return c == 0; })) {
    contents.partial_bytes = partial;
  }
  auto is_zero = [&](size_t i) {
    const char* e = data->data() + i * entry_size;
    return std::all_of(e, e + entry_size, [](char c) { return c == 0; });
  };
  while (n > 0 && is_zero(n - 1)) {
    --n;
    ++contents.zero_entries;
  }
  contents.entries.reserve(n);
  for (size_t i = 0; i < n; ++i) contents.entries.push_back(decode(data->data() + i * entry_size));
  return contents;
}

}  // namespace

absl::StatusOr<IndexContents<OffsetEntry>> ReadOffsetIndex(const std::string& path, int64_t base) {
  return ReadEntries<OffsetEntry>(path, segment::kOffsetEntrySize, [base](const char* e) {
    return OffsetEntry{base + LoadBigEndian<int32_t>(e),
                       static_cast<uint64_t>(LoadBigEndian<uint32_t>(e + 4))};
  });
}

absl::StatusOr<IndexContents<TimeEntry>> ReadTimeIndex(const std::string& path, int64_t base) {
  return ReadEntries<TimeEntry>(path, segment::kTimeEntrySize, [base](const char* e) {
    return TimeEntry{LoadBigEndian<int64_t>(e), base + LoadBigEndian<int32_t>(e + 8)};
  });
}

}  // namespace rill::cli
