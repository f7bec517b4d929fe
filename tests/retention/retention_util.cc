#include "retention/retention_util.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "format/batch_header.h"
#include "format/batch_reader.h"
#include "util/status_macros.h"

namespace rill::testing {
namespace {

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// ForEachBatch(log, fn): the batches from start_offset() on, CRC-checked.
template <typename Fn>
absl::Status ForEachBatch(const PartitionLog& log, Fn fn) {
  const int64_t end = log.end_offset();
  int64_t next = log.start_offset();
  int64_t last = next - 1;
  while (next < end) {
    ASSIGN_OR_RETURN(ReadResult read, log.Read(next, 1 << 20));
    if (read.batches.empty()) break;
    for (std::span<const char> rest = read.batches; !rest.empty();) {
      BatchHeader h;
      RETURN_IF_ERROR(CheckBatch(rest, &h));
      if (h.base_offset <= last) {
        return absl::DataLossError(
            absl::StrFormat("batch at %d does not follow offset %d", h.base_offset, last));
      }
      RETURN_IF_ERROR(fn(rest.first(h.size()), h));
      last = h.last_offset();
      next = last + 1;
      rest = rest.subspan(h.size());
    }
  }
  if (next < end) {
    return absl::DataLossError(
        absl::StrFormat("reading stopped at %d before the end %d", next, end));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<ReadRecord>> ReadAll(const PartitionLog& log) {
  std::vector<ReadRecord> out;
  BatchReader reader;
  absl::Status s = ForEachBatch(log, [&](std::span<const char> batch, const BatchHeader& h) {
    reader.Clear();
    detail::RecordDecoder decoder;
    RETURN_IF_ERROR(reader.Open(batch, h, &decoder));
    RecordView r;
    while (decoder.Next(&r)) {
      if (!out.empty() && r.offset() <= out.back().offset) {
        return absl::DataLossError(absl::StrCat("offset ", r.offset(), " repeats or goes back"));
      }
      ReadRecord rec;
      rec.offset = r.offset();
      if (r.has_key()) rec.key = std::string(r.key());
      if (r.has_value()) rec.value = std::string(r.value());
      rec.timestamp = r.timestamp();
      out.push_back(std::move(rec));
    }
    if (decoder.error() != nullptr) return RecordError(decoder, h);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::string> BatchBytes(const PartitionLog& log) {
  std::string out;
  absl::Status s = ForEachBatch(log, [&](std::span<const char> batch, const BatchHeader&) {
    out.append(batch.data(), batch.size());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

KeyedOp OpAt(int64_t offset, int keys, uint64_t seed) {
  const uint64_t h = Mix(static_cast<uint64_t>(offset) ^ (seed * 0x2545f4914f6cdd1dull));
  KeyedOp op;
  op.key = absl::StrCat("key-", h % static_cast<uint64_t>(keys));
  if ((h >> 20) % 7 != 0) {
    op.value = absl::StrCat("value-", offset, "-", std::string((h >> 32) % 200, 'x'));
  }
  return op;
}

std::map<std::string, ReadRecord> Latest(const std::vector<ReadRecord>& records) {
  std::map<std::string, ReadRecord> latest;
  for (const ReadRecord& r : records) {
    if (r.key) latest[*r.key] = r;
  }
  return latest;
}

absl::Status CheckKeyedLog(const PartitionLog& log, int keys, uint64_t seed, bool exact) {
  ASSIGN_OR_RETURN(const std::vector<ReadRecord> records, ReadAll(log));
  const int64_t end = log.end_offset();
  std::map<std::string, int64_t> seen;
  for (const ReadRecord& r : records) {
    const KeyedOp op = OpAt(r.offset, keys, seed);
    if (r.offset >= end || r.key != op.key || r.value != op.value) {
      return absl::DataLossError(absl::StrCat("offset ", r.offset, " holds another record"));
    }
    if (exact && seen.count(op.key) > 0) {
      return absl::DataLossError(absl::StrCat("key ", op.key, " appears more than once"));
    }
    seen[op.key] = r.offset;
  }
  std::map<std::string, int64_t> latest;
  for (int64_t o = 0; o < end; ++o) latest[OpAt(o, keys, seed).key] = o;
  for (const auto& [key, offset] : latest) {
    auto it = seen.find(key);
    if (it == seen.end() || it->second != offset) {
      return absl::DataLossError(
          absl::StrCat("the latest record of ", key, ", at offset ", offset, ", is missing"));
    }
  }
  ASSIGN_OR_RETURN(const std::vector<SegmentInfo> segments, log.ListSegments());
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    if (segments[i].next_offset != segments[i + 1].base_offset) {
      return absl::DataLossError(absl::StrCat("segment ", segments[i].base_offset, " ends at ",
                                              segments[i].next_offset, ", the next begins at ",
                                              segments[i + 1].base_offset));
    }
  }
  return absl::OkStatus();
}

uint64_t DiskBytesByStat(const std::string& dir) {
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) return 0;
  uint64_t total = static_cast<uint64_t>(st.st_blocks) * 512;
  if (!S_ISDIR(st.st_mode)) return total;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return total;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    total += DiskBytesByStat(dir + "/" + name);
  }
  closedir(d);
  return total;
}

int OpenFilesUnder(const std::string& dir) {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  while (dirent* e = readdir(d)) {
    char target[4096];
    const std::string link = absl::StrCat("/proc/self/fd/", e->d_name);
    const ssize_t len = readlink(link.c_str(), target, sizeof(target) - 1);
    if (len <= 0) continue;
    if (std::string(target, static_cast<size_t>(len)).starts_with(dir + "/")) ++n;
  }
  closedir(d);
  return n;
}

int MappingsUnder(const std::string& dir) {
  std::ifstream maps("/proc/self/maps");
  int n = 0;
  for (std::string line; std::getline(maps, line);) {
    if (line.find(dir + "/") != std::string::npos) ++n;
  }
  return n;
}

}  // namespace rill::testing
