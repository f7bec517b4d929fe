#include "storage/segment_swap.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "format/batch_format.h"
#include "format/batch_header.h"
#include "storage/segment_format.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace rill {
namespace {

constexpr std::string_view kSegmentSuffixes[] = {segment::kLogSuffix, segment::kIndexSuffix,
                                                 segment::kTimeIndexSuffix};

std::string SegmentPath(const std::string& dir, int64_t base, std::string_view suffix,
                        std::string_view name_suffix) {
  return JoinPath(dir, absl::StrCat(segment::FileName(base, suffix), ToAbsl(name_suffix)));
}

// LastOffset(fs, path, base): the last offset of the batches in a committed
// copy, walking their headers. A copy is synced before it is committed, so
// its batches are whole; the walk stops at the first header that is not.
absl::StatusOr<int64_t> LastOffset(FileSystem& fs, const std::string& path, int64_t base) {
  ASSIGN_OR_RETURN(std::unique_ptr<File> file, fs.OpenFile(path, OpenMode::kRead));
  ASSIGN_OR_RETURN(const uint64_t size, file->Size());
  int64_t last = base;
  char header[batch::kHeaderSize];
  for (uint64_t p = 0; p + batch::kHeaderSize <= size;) {
    ASSIGN_OR_RETURN(const size_t n, file->ReadAt(p, sizeof(header), header));
    if (n != sizeof(header)) break;
    const BatchHeader h = DecodeBatchHeader(header);
    if (h.magic != batch::kMagic || h.size() < batch::kHeaderSize || p + h.size() > size ||
        h.last_offset_delta < 0 || h.base_offset < last) {
      break;
    }
    last = h.last_offset();
    p += h.size();
  }
  return last;
}

}  // namespace

absl::StatusOr<uint64_t> RemoveSegmentFileSet(FileSystem& fs, const std::string& dir, int64_t base,
                                              std::string_view name_suffix) {
  uint64_t freed = 0;
  for (std::string_view suffix : kSegmentSuffixes) {
    const std::string path = SegmentPath(dir, base, suffix, name_suffix);
    absl::StatusOr<FileInfo> info = fs.Stat(path);
    if (absl::IsNotFound(info.status())) continue;
    RETURN_IF_ERROR(info.status());
    absl::Status s = fs.RemoveFile(path);
    if (absl::IsNotFound(s)) continue;
    RETURN_IF_ERROR(s);
    freed += info->allocated_bytes;
  }
  return freed;
}

absl::Status RenameSegmentFileSet(FileSystem& fs, const std::string& dir, int64_t base,
                                  std::string_view from, std::string_view to) {
  // The log last: while it keeps its old name, the step is not done.
  for (std::string_view suffix :
       {segment::kIndexSuffix, segment::kTimeIndexSuffix, segment::kLogSuffix}) {
    absl::Status s =
        fs.Rename(SegmentPath(dir, base, suffix, from), SegmentPath(dir, base, suffix, to));
    if (absl::IsNotFound(s) && suffix != segment::kLogSuffix) continue;
    RETURN_IF_ERROR(s);
  }
  return absl::OkStatus();
}

absl::Status FinishSwaps(FileSystem& fs, const std::string& dir, RecoveryReport* report) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(dir));
  const std::string log_swap =
      absl::StrCat(ToAbsl(segment::kLogSuffix), ToAbsl(segment::kSwapSuffix));
  std::set<int64_t> swaps;  // Bases of committed copies.
  std::set<int64_t> bases;  // Bases of every segment file in place.
  std::set<int64_t> logs;   // Bases with a .log in place.
  std::vector<std::string> index_swaps;
  bool changed = false;
  for (const std::string& name : names) {
    if (name.ends_with(segment::kCleanedSuffix)) {
      // A copy that was never committed.
      RETURN_IF_ERROR(fs.RemoveFile(JoinPath(dir, name)));
      changed = true;
    } else if (auto base = segment::ParseFileName(name, log_swap)) {
      swaps.insert(*base);
    } else if (name.ends_with(segment::kSwapSuffix)) {
      index_swaps.push_back(name);
    } else {
      for (std::string_view suffix : kSegmentSuffixes) {
        if (auto b = segment::ParseFileName(name, suffix)) {
          bases.insert(*b);
          if (suffix == segment::kLogSuffix) logs.insert(*b);
        }
      }
    }
  }
  for (const int64_t base : swaps) {
    ASSIGN_OR_RETURN(
        const int64_t last,
        LastOffset(fs, SegmentPath(dir, base, segment::kLogSuffix, segment::kSwapSuffix), base));
    // Step 3: the replaced segments -- and the copy's own base's indexes,
    // which may be the old ones.
    for (auto it = bases.lower_bound(base); it != bases.end() && *it <= last;) {
      RETURN_IF_ERROR(RemoveSegmentFileSet(fs, dir, *it, "").status());
      logs.erase(*it);
      it = bases.erase(it);
    }
    RETURN_IF_ERROR(fs.SyncDir(dir));
    // Step 4.
    RETURN_IF_ERROR(RenameSegmentFileSet(fs, dir, base, segment::kSwapSuffix, ""));
    logs.insert(base);
    bases.insert(base);
    changed = true;
    report->details.push_back(absl::StrCat(
        "finished an interrupted compaction: ", segment::FileName(base, segment::kLogSuffix),
        " now holds offsets ", base, " to ", last));
  }
  for (const std::string& name : index_swaps) {
    // An index copy whose log was never committed, or one renamed above.
    absl::Status s = fs.RemoveFile(JoinPath(dir, name));
    if (!s.ok() && !absl::IsNotFound(s)) return s;
    changed = changed || s.ok();
  }
  for (const int64_t base : bases) {
    if (logs.count(base) > 0) continue;
    // Indexes whose log was deleted (retention removes the .log first).
    RETURN_IF_ERROR(RemoveSegmentFileSet(fs, dir, base, "").status());
    changed = true;
  }
  if (changed) RETURN_IF_ERROR(fs.SyncDir(dir));
  return absl::OkStatus();
}

}  // namespace rill
