// rill dump PATH: decodes segment files batch by batch (and record by
// record with --records), like Kafka's kafka-dump-log; with --indexes also
// their .index and .timeindex entries. PATH is a segment or index file, a
// partition directory, or a whole log directory. Reads the files with plain
// reads: works while another process has the log open.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/file_reader.h"
#include "cli/log_files.h"
#include "cli/progress.h"
#include "cli/segment_walk.h"
#include "cli/text.h"
#include "core/metadata.h"
#include "format/batch_reader.h"
#include "storage/file_system.h"
#include "storage/segment_format.h"
#include "util/strings.h"

namespace rill::cli {
namespace {

struct DumpArgs {
  std::string path;
  bool records = false;
  bool indexes = false;
};

// Dumper: prints files and counts the errors found in them.
class Dumper {
 public:
  Dumper(const DumpArgs& args, uint64_t total_bytes)
      : args_(args), bar_("dump", total_bytes, ProgressBar::Unit::kBytes, !StdoutIsTerminal()) {}

  // Segment(dir, base, options): dumps dir's segment `base`, then its
  // indexes if asked.
  void Segment(const std::string& dir, int64_t base, const WalkOptions& options);
  void OffsetIndex(const std::string& path, int64_t base);
  void TimeIndex(const std::string& path, int64_t base);
  // Partition(dir): every segment of a partition directory.
  void Partition(const std::string& dir);

  int errors() const { return errors_; }
  void Error(std::string_view message) {
    ++errors_;
    std::printf("error: %.*s\n", static_cast<int>(message.size()), message.data());
  }

 private:
  void Batch(const WalkedBatch& b);
  void Records(const WalkedBatch& b);

  const DumpArgs& args_;
  ProgressBar bar_;
  uint64_t done_bytes_ = 0;
  int errors_ = 0;
  BatchReader reader_;
  std::string line_;
};

void Dumper::Batch(const WalkedBatch& b) {
  const BatchHeader& h = b.header;
  std::printf(
      "baseOffset: %lld lastOffset: %lld count: %d position: %llu size: %zu batchLength: %d "
      "magic: %d partitionLeaderEpoch: %d compression: %s crc: 0x%08x crcValid: %s "
      "attributes: 0x%04x timestampType: %s transactional: %s control: %s baseTimestamp: %lld "
      "maxTimestamp: %lld producerId: %lld producerEpoch: %d baseSequence: %d\n",
      static_cast<long long>(h.base_offset), static_cast<long long>(h.last_offset()),
      h.records_count, static_cast<unsigned long long>(b.position), h.size(), h.batch_length,
      h.magic, h.partition_leader_epoch, std::string(CompressionName(h.compression())).c_str(),
      h.crc, b.crc_ok() ? "true" : "false",
      static_cast<unsigned>(static_cast<uint16_t>(h.attributes)),
      h.log_append_time() ? "LogAppendTime" : "CreateTime", h.transactional() ? "true" : "false",
      h.control() ? "true" : "false", static_cast<long long>(h.base_timestamp),
      static_cast<long long>(h.max_timestamp), static_cast<long long>(h.producer_id),
      h.producer_epoch, h.base_sequence);
  if (args_.records) Records(b);
  bar_.Update(done_bytes_ + b.position + b.bytes.size());
}

void Dumper::Records(const WalkedBatch& b) {
  if (!b.crc_ok()) {
    std::printf("| records not decoded: the batch's CRC does not match\n");
    return;
  }
  detail::RecordDecoder decoder;
  reader_.Clear();
  if (absl::Status s = reader_.Open(b.bytes, b.header, &decoder); !s.ok()) {
    Error(absl::StrFormat("at byte %d: %s", b.position, s.message()));
    return;
  }
  RecordView r;
  while (decoder.Next(&r)) {
    line_ =
        absl::StrFormat("| offset: %d timestamp: %d keySize: %d valueSize: %d key: ", r.offset(),
                        r.timestamp(), r.has_key() ? static_cast<int64_t>(r.key().size()) : -1,
                        r.has_value() ? static_cast<int64_t>(r.value().size()) : -1);
    AppendQuotedOrNull(r.has_key() ? std::optional(r.key()) : std::nullopt, &line_);
    line_ += " value: ";
    AppendQuotedOrNull(r.has_value() ? std::optional(r.value()) : std::nullopt, &line_);
    line_ += " headers: [";
    bool first = true;
    for (const Header& header : r.headers()) {
      if (!first) line_ += ", ";
      first = false;
      AppendQuoted(header.key, &line_);
      line_ += "=";
      AppendQuotedOrNull(header.value, &line_);
    }
    line_ += "]\n";
    std::fputs(line_.c_str(), stdout);
  }
  if (decoder.error() != nullptr) {
    Error(absl::StrFormat("at byte %d: %s", b.position, RecordError(decoder, b.header).message()));
  }
}

void Dumper::Segment(const std::string& dir, int64_t base, const WalkOptions& options) {
  const std::string path = SegmentPath(dir, base, segment::kLogSuffix);
  std::printf("Dumping %s\n", path.c_str());
  absl::StatusOr<std::unique_ptr<FileReader>> reader = FileReader::Open(path);
  if (!reader.ok()) return Error(ToStd(reader.status().message()));
  absl::StatusOr<WalkResult> walk =
      WalkSegment(**reader, options, [this](const WalkedBatch& b) { Batch(b); });
  if (!walk.ok()) return Error(ToStd(walk.status().message()));
  done_bytes_ += walk->size;
  for (const Finding& f : walk->findings) {
    if (f.severity == Severity::kError) ++errors_;
    std::printf("%s at byte %llu: %s\n", SeverityName(f.severity),
                static_cast<unsigned long long>(f.position), f.message.c_str());
  }
  if (args_.indexes) {
    OffsetIndex(SegmentPath(dir, base, segment::kIndexSuffix), base);
    TimeIndex(SegmentPath(dir, base, segment::kTimeIndexSuffix), base);
  }
}

template <typename Contents>
void PrintIndexTail(const Contents& contents) {
  if (contents.zero_entries > 0) {
    std::printf("(%zu zero entries follow: space allocated ahead of the writer)\n",
                contents.zero_entries);
  }
  if (contents.partial_bytes > 0) {
    std::printf("(%zu bytes of a partial entry follow)\n", contents.partial_bytes);
  }
}

void Dumper::OffsetIndex(const std::string& path, int64_t base) {
  std::printf("Dumping %s\n", path.c_str());
  absl::StatusOr<IndexContents<OffsetEntry>> index = ReadOffsetIndex(path, base);
  if (!index.ok()) return Error(ToStd(index.status().message()));
  for (const OffsetEntry& e : index->entries) {
    std::printf("offset: %lld position: %llu\n", static_cast<long long>(e.offset),
                static_cast<unsigned long long>(e.position));
  }
  PrintIndexTail(*index);
}

void Dumper::TimeIndex(const std::string& path, int64_t base) {
  std::printf("Dumping %s\n", path.c_str());
  absl::StatusOr<IndexContents<TimeEntry>> index = ReadTimeIndex(path, base);
  if (!index.ok()) return Error(ToStd(index.status().message()));
  for (const TimeEntry& e : index->entries) {
    std::printf("timestamp: %lld offset: %lld\n", static_cast<long long>(e.timestamp),
                static_cast<long long>(e.offset));
  }
  PrintIndexTail(*index);
}

// SegmentContext(dir, base, bases): how segment `base` of a partition whose
// segments are `bases` is to be judged.
WalkOptions SegmentContext(const std::string& dir, int64_t base,
                           const std::vector<int64_t>& bases) {
  WalkOptions options{.base_offset = base};
  auto next = std::upper_bound(bases.begin(), bases.end(), base);
  options.newest = next == bases.end();
  if (!options.newest) options.limit_offset = *next;
  options.trusted = TrustedBytes(ReadRecoveryPointFile(dir).point, base);
  return options;
}

void Dumper::Partition(const std::string& dir) {
  absl::StatusOr<std::vector<int64_t>> bases = ListSegments(dir);
  if (!bases.ok()) return Error(ToStd(bases.status().message()));
  for (const int64_t base : *bases) Segment(dir, base, SegmentContext(dir, base, *bases));
}

// TotalBytes(dirs): the bytes of the segments of these partition directories.
uint64_t TotalBytes(const std::vector<std::string>& dirs) {
  uint64_t total = 0;
  for (const std::string& dir : dirs) {
    absl::StatusOr<std::vector<int64_t>> bases = ListSegments(dir);
    if (!bases.ok()) continue;
    for (const int64_t base : *bases) {
      auto info = FileSystem::Default()->Stat(SegmentPath(dir, base, segment::kLogSuffix));
      if (info.ok()) total += info->size;
    }
  }
  return total;
}

// DumpFile(args, path): a single segment or index file.
int DumpFile(const DumpArgs& args, const std::string& path, uint64_t size) {
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  Dumper dumper(args, size);
  if (auto base = segment::ParseFileName(name, segment::kLogSuffix)) {
    absl::StatusOr<std::vector<int64_t>> bases = ListSegments(dir);
    if (!bases.ok()) return Fail(bases.status());
    dumper.Segment(dir, *base, SegmentContext(dir, *base, *bases));
  } else if (auto index_base = segment::ParseFileName(name, segment::kIndexSuffix)) {
    dumper.OffsetIndex(path, *index_base);
  } else if (auto time_base = segment::ParseFileName(name, segment::kTimeIndexSuffix)) {
    dumper.TimeIndex(path, *time_base);
  } else {
    return Fail(path +
                " is not a segment (00000000000000000000.log) or an index file "
                "(.index, .timeindex)");
  }
  return dumper.errors() > 0 ? kExitFailure : kExitOk;
}

int Dump(const DumpArgs& args) {
  FileSystem& fs = *FileSystem::Default();
  absl::StatusOr<FileInfo> info = fs.Stat(args.path);
  if (!info.ok()) return Fail(info.status());
  if (!info->is_directory) return DumpFile(args, args.path, info->size);

  std::vector<std::string> dirs;
  if (fs.Stat(JoinPath(args.path, core::kMetaFile)).ok()) {
    absl::StatusOr<std::vector<PartitionFiles>> partitions = ListPartitions(args.path);
    if (!partitions.ok()) return Fail(partitions.status());
    for (const PartitionFiles& p : *partitions) dirs.push_back(p.dir);
  } else {
    absl::StatusOr<std::vector<int64_t>> bases = ListSegments(args.path);
    if (!bases.ok()) return Fail(bases.status());
    if (bases->empty()) {
      return Fail(args.path +
                  " is neither a log directory (no meta.properties) nor a partition "
                  "directory (no segment files)");
    }
    dirs.push_back(args.path);
  }
  Dumper dumper(args, TotalBytes(dirs));
  for (const std::string& dir : dirs) dumper.Partition(dir);
  return dumper.errors() > 0 ? kExitFailure : kExitOk;
}

}  // namespace

void AddDumpCommand(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<DumpArgs>();
  CLI::App* cmd = app.add_subcommand("dump", "Decode segment and index files, like kafka-dump-log");
  cmd->footer(
      "PATH is a segment (.log) or index (.index, .timeindex) file, a partition directory, or a "
      "whole log directory. Files are read, never locked or mapped: this works while another "
      "process has the log open. Exits 1 if a batch is damaged; a torn tail in a partition's "
      "newest segment is reported but is not an error (see rill verify --help).");
  cmd->add_option("path", args->path, "File or directory to dump")->required();
  cmd->add_flag("--records,-r", args->records,
                "Also print every record: offset, timestamp, key, value, headers (printable "
                "bytes as they are, others as \\xNN)");
  cmd->add_flag("--indexes,-i", args->indexes, "Also print each segment's .index and .timeindex");
  cmd->callback([&ctx, args] {
    (void)ctx;
    ctx.action = [args] { return Dump(*args); };
  });
}

}  // namespace rill::cli
