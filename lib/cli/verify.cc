// rill verify: checks every batch of every segment and every index of the
// log at --dir, reading the files with plain reads -- no lock, no mapping,
// nothing written -- so it works while another process has the log open.
// Exits 0 when all is well, 1 with a report naming each file and byte
// position otherwise. A torn tail in a partition's newest segment (what the
// next open cuts off) is reported but is not an error.
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/file_reader.h"
#include "cli/index_check.h"
#include "cli/log_files.h"
#include "cli/progress.h"
#include "cli/segment_walk.h"
#include "core/metadata.h"
#include "storage/file_system.h"
#include "storage/segment_format.h"
#include "util/strings.h"

namespace rill::cli {
namespace {

class Verifier {
 public:
  explicit Verifier(uint64_t total_bytes)
      : bar_("verify", total_bytes, ProgressBar::Unit::kBytes) {}

  // Run(dir): verifies the log in `dir`; returns the exit code.
  int Run(const std::string& dir);

 private:
  void Report(Severity severity, const std::string& path, std::optional<uint64_t> position,
              std::string_view message);
  void Partition(const std::string& dir);
  // Segment(dir, base, options): the segment's .log, then its indexes.
  void Segment(const std::string& dir, int64_t base, const WalkOptions& options);
  void CheckMeta(const std::string& dir);

  ProgressBar bar_;
  uint64_t done_bytes_ = 0;
  int64_t partitions_ = 0, segments_ = 0, batches_ = 0;
  int errors_ = 0, torn_ = 0, notes_ = 0;
};

void Verifier::Report(Severity severity, const std::string& path, std::optional<uint64_t> position,
                      std::string_view message) {
  switch (severity) {
    case Severity::kError:
      ++errors_;
      break;
    case Severity::kTornTail:
      ++torn_;
      break;
    case Severity::kNote:
      ++notes_;
      break;
  }
  bar_.Finish();  // Keep the report clear of the bar; it is redrawn later.
  std::string at = position ? absl::StrCat(" at byte ", *position) : "";
  std::printf("%s: %s%s: %.*s\n", SeverityName(severity), path.c_str(), at.c_str(),
              static_cast<int>(message.size()), message.data());
}

void Verifier::Segment(const std::string& dir, int64_t base, const WalkOptions& options) {
  ++segments_;
  const std::string log_path = SegmentPath(dir, base, segment::kLogSuffix);
  // The indexes are read before the log: an entry a live writer adds points
  // at a batch it wrote before it, which the log read will then see.
  IndexChecker index(SegmentPath(dir, base, segment::kIndexSuffix),
                     SegmentPath(dir, base, segment::kTimeIndexSuffix), base);
  absl::StatusOr<std::unique_ptr<FileReader>> reader = FileReader::Open(log_path);
  if (!reader.ok())
    return Report(Severity::kError, log_path, std::nullopt, ToStd(reader.status().message()));
  absl::StatusOr<WalkResult> walk = WalkSegment(**reader, options, [&](const WalkedBatch& b) {
    index.OnBatch(b);
    bar_.Update(done_bytes_ + b.position + b.bytes.size());
  });
  if (!walk.ok())
    return Report(Severity::kError, log_path, std::nullopt, ToStd(walk.status().message()));
  done_bytes_ += walk->size;
  batches_ += walk->batches;
  for (const Finding& f : walk->findings) Report(f.severity, log_path, f.position, f.message);
  index.Finish(*walk, options.newest);
  for (const IndexFinding& f : index.findings())
    Report(f.severity, f.path, std::nullopt, f.message);
}

void Verifier::Partition(const std::string& dir) {
  ++partitions_;
  absl::StatusOr<std::vector<int64_t>> bases = ListSegments(dir);
  if (!bases.ok())
    return Report(Severity::kError, dir, std::nullopt, ToStd(bases.status().message()));
  const RecoveryPointFile rp = ReadRecoveryPointFile(dir);
  const std::string rp_path = JoinPath(dir, segment::kRecoveryPointFile);
  if (rp.present && !rp.point) {
    Report(Severity::kNote, rp_path, std::nullopt,
           "damaged (bad magic, version or CRC): the next open checks every segment");
  } else if (rp.point &&
             !std::binary_search(bases->begin(), bases->end(), rp.point->segment_base)) {
    Report(Severity::kNote, rp_path, std::nullopt,
           absl::StrFormat("points into segment %d, which does not exist", rp.point->segment_base));
  }
  for (size_t i = 0; i < bases->size(); ++i) {
    WalkOptions options{.base_offset = (*bases)[i]};
    options.newest = i + 1 == bases->size();
    if (!options.newest) options.limit_offset = (*bases)[i + 1];
    options.trusted = TrustedBytes(rp.point, (*bases)[i]);
    Segment(dir, (*bases)[i], options);
  }
}

void Verifier::CheckMeta(const std::string& dir) {
  const std::string path = JoinPath(dir, core::kMetaFile);
  absl::StatusOr<std::string> text = ReadFileToString(*FileSystem::Default(), path);
  if (!text.ok())
    return Report(Severity::kError, path, std::nullopt, ToStd(text.status().message()));
  absl::StatusOr<std::map<std::string, std::string>> properties =
      core::ParseProperties(path, *text);
  int version = 0;
  if (!properties.ok() || !absl::SimpleAtoi((*properties)["version"], &version) || version < 1) {
    return Report(Severity::kError, path, std::nullopt, "has no valid version");
  }
  if (version > core::kLogFormatVersion) {
    Report(Severity::kError, path, std::nullopt,
           absl::StrFormat("format version %d is newer than this rill's (%d): verify with a "
                           "newer rill",
                           version, core::kLogFormatVersion));
  }
}

int Verifier::Run(const std::string& dir) {
  CheckMeta(dir);
  if (errors_ > 0) return kExitFailure;
  absl::StatusOr<std::vector<TopicFile>> topics = ReadTopics(dir);
  if (!topics.ok()) return Fail(topics.status());
  absl::StatusOr<std::vector<PartitionFiles>> partitions = ListPartitions(dir);
  if (!partitions.ok()) return Fail(partitions.status());

  std::map<std::string, int32_t> partition_counts;
  for (const TopicFile& t : *topics) {
    if (!t.config.ok()) {
      Report(Severity::kError, t.path, std::nullopt, ToStd(t.config.status().message()));
      continue;
    }
    partition_counts[t.name] = t.config->partitions;
  }
  std::set<std::pair<std::string, int32_t>> found;
  for (const PartitionFiles& p : *partitions) {
    auto it = partition_counts.find(p.topic);
    if (it == partition_counts.end() || p.partition >= it->second) {
      Report(Severity::kNote, p.dir, std::nullopt,
             "belongs to no topic: left by an interrupted deletion, which the next open "
             "finishes; not verified");
      continue;
    }
    found.insert({p.topic, p.partition});
    Partition(p.dir);
  }
  for (const auto& [topic, count] : partition_counts) {
    for (int32_t p = 0; p < count; ++p) {
      if (found.count({topic, p}) == 0) {
        Report(Severity::kError, JoinPath(dir, absl::StrCat(topic, "-", p)), std::nullopt,
               "missing: the topic has this partition but its directory is not there");
      }
    }
  }
  bar_.Finish();
  std::printf("verified %zu topics, %lld partitions, %lld segments, %lld batches, %llu bytes: ",
              partition_counts.size(), static_cast<long long>(partitions_),
              static_cast<long long>(segments_), static_cast<long long>(batches_),
              static_cast<unsigned long long>(done_bytes_));
  if (errors_ == 0) {
    std::printf("OK");
  } else {
    std::printf("%d error%s", errors_, errors_ == 1 ? "" : "s");
  }
  if (torn_ > 0) std::printf(", %d torn tail%s (not an error)", torn_, torn_ == 1 ? "" : "s");
  if (notes_ > 0) std::printf(", %d note%s", notes_, notes_ == 1 ? "" : "s");
  std::printf("\n");
  return errors_ > 0 ? kExitFailure : kExitOk;
}

// TotalBytes(dir): bytes of every segment of the log, for the progress bar.
uint64_t TotalBytes(const std::string& dir) {
  uint64_t total = 0;
  absl::StatusOr<std::vector<PartitionFiles>> partitions = ListPartitions(dir);
  if (!partitions.ok()) return 0;
  for (const PartitionFiles& p : *partitions) {
    absl::StatusOr<std::vector<int64_t>> bases = ListSegments(p.dir);
    if (!bases.ok()) continue;
    for (const int64_t base : *bases) {
      auto info = FileSystem::Default()->Stat(SegmentPath(p.dir, base, segment::kLogSuffix));
      if (info.ok()) total += info->size;
    }
  }
  return total;
}

int Verify(const Context& ctx) {
  if (absl::Status s = CheckExistingLog(ctx.dir); !s.ok()) return Fail(s);
  return Verifier(TotalBytes(ctx.dir)).Run(ctx.dir);
}

}  // namespace

void AddVerifyCommand(CLI::App& app, Context& ctx) {
  app.add_subcommand("verify", "Check every batch and index of the log (read-only, no lock)")
      ->footer(
          "Checks every batch of every segment (header, lengths, CRC-32C, offsets increasing "
          "within and across segments) and every index (entries in order, at batch boundaries, "
          "at valid offsets), reading the files without locking or mapping them: this works "
          "while another process has the log open. Prints one line per finding, naming the file "
          "and byte, then a summary. Exits 0 when all is well, 1 otherwise. A torn tail -- the "
          "unfinished last write in a partition's newest segment, which the next open cuts "
          "off -- and zeros after the last batch (space allocated ahead of the writer) are "
          "reported but are not errors.")
      ->callback([&ctx] { ctx.action = [&ctx] { return Verify(ctx); }; });
}

}  // namespace rill::cli
