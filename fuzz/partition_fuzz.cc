// Shared by the index and recovery fuzz targets: opening a partition whose
// files hold arbitrary bytes. The input is cut into an .index, a .timeindex
// (each prefixed with a 2-byte length) and a .log (the rest), written to an
// in-memory file system with a recovery point as `mode` says, and the
// partition is opened and read from end to end. Nothing may crash, every
// batch read must pass its checks, offsets must increase, and the log must
// accept an append at its end afterwards.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "format/batch_builder.h"
#include "format/batch_header.h"
#include "storage/mem_file_system.h"
#include "fuzz/partition_fuzz.h"
#include "storage/partition_log.h"
#include "storage/recovery_point.h"
#include "storage/segment_format.h"

namespace {

// Check(ok): aborts, saying which check failed, so libFuzzer keeps the input.
#define Check(ok) CheckAt(ok, #ok, __LINE__)
void CheckAt(bool ok, const char* what, int line) {
  if (ok) return;
  std::fprintf(stderr, "check failed at line %d: %s\n", line, what);
  std::abort();
}

void Write(rill::FileSystem& fs, const std::string& path, std::string_view data) {
  auto file = fs.OpenFile(path, rill::OpenMode::kTruncate);
  Check(file.ok());
  Check((*file)->WriteAt(0, data).ok());
}

// Takes a length-prefixed piece of the input (2-byte little-endian length).
std::string_view Take(std::string_view* in) {
  if (in->size() < 2) return {};
  const size_t n = (static_cast<uint8_t>((*in)[0]) | static_cast<uint8_t>((*in)[1]) << 8);
  in->remove_prefix(2);
  const std::string_view piece = in->substr(0, n);
  in->remove_prefix(piece.size());
  return piece;
}

}  // namespace

namespace rill::fuzz {

int OpenPartitionFromBytes(const uint8_t* data, size_t size, RecoveryPointMode mode) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string_view index = Take(&in);
  const std::string_view time_index = Take(&in);
  const std::string_view log = in;  // The rest.

  rill::MemFileSystem fs;
  const std::string dir = "/p";
  Check(fs.CreateDir(dir).ok());
  Write(fs, dir + "/" + rill::segment::FileName(0, rill::segment::kLogSuffix), log);
  Write(fs, dir + "/" + rill::segment::FileName(0, rill::segment::kIndexSuffix), index);
  Write(fs, dir + "/" + rill::segment::FileName(0, rill::segment::kTimeIndexSuffix), time_index);
  switch (mode) {
    case RecoveryPointMode::kNone:
      break;
    case RecoveryPointMode::kAtEnd:  // Closed cleanly: the files are trusted.
      Check(rill::WriteRecoveryPoint(fs, dir, {0, log.size()}).ok());
      break;
    case RecoveryPointMode::kInside:  // Trusted up to a point inside the log.
      Check(rill::WriteRecoveryPoint(fs, dir, {0, log.size() / 2}).ok());
      break;
  }

  rill::PartitionLogOptions options;
  options.segment.max_bytes = 1 << 20;
  options.segment.allocation_chunk = 64 << 10;
  options.segment.max_index_bytes = 64 << 10;
  options.log_sink = [](rill::LogSeverity, std::string_view) {};
  rill::RecoveryReport report;
  auto opened = rill::PartitionLog::Open(fs, dir, options, &report);
  if (!opened.ok()) return 0;  // Refusing is fine; crashing is not.
  rill::PartitionLog& partition = **opened;

  // Read's contract: within one read, batches increase; the first holds the
  // offset asked for or follows it. (Across reads that straddle a damaged
  // batch, a later read may repeat offsets of an earlier one; consumers
  // never yield a record below their position.)
  int64_t offset = partition.start_offset();
  for (int reads = 0; offset < partition.end_offset() && reads < 10000; ++reads) {
    auto result = partition.Read(offset, 4096);
    if (!result.ok()) break;  // kDataLoss for damage found on reading is fine.
    std::span<const char> bytes = result->batches;
    if (bytes.empty()) break;
    int64_t last = -1;
    bool first = true;
    while (!bytes.empty()) {
      rill::BatchHeader h;
      Check(rill::CheckBatch(bytes, &h).ok());
      if (first) Check(h.last_offset() >= offset);
      Check(h.base_offset > last);
      first = false;
      last = h.last_offset();
      bytes = bytes.subspan(h.size());
    }
    offset = last + 1;
  }
  // The log takes appends again, at its end offset.
  rill::BatchBuilder builder;
  builder.Add({.key = "k", .value = "v"}, 1);
  auto batch = builder.Finish();
  Check(batch.ok());
  const int64_t end = partition.end_offset();
  auto appended = partition.Append(*batch);
  if (appended.ok()) Check(appended->base_offset == end);
  return 0;
}

}  // namespace rill::fuzz
