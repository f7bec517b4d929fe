// rill repair: mends a damaged log so that it verifies again and consumers
// read every record it keeps. It holds the log's lock (no process may have
// the log open), reads each segment with ScanSegment, and then, as asked:
//
//   --truncate  cuts each damaged partition at its first damaged batch, as
//               recovery cuts a torn tail: that segment is truncated there
//               and every later segment is deleted.
//   --skip      rewrites each damaged segment without its damaged batches,
//               keeping every intact batch at its offsets; the offsets of
//               what was dropped become a gap (an empty batch holds them
//               when the gap is at a segment's end, so that segments still
//               follow each other).
//
// Either way a batch whose only damage is its partitionLeaderEpoch (outside
// the CRC, always -1 in rill's logs) is restored in place, damaged index
// files are removed (the next open rebuilds them), and a recovery point
// that pointed into what changed is moved back to the start of it, so the
// next open checks it. A torn tail -- the unfinished last write of the
// newest segment -- is left to the next open, which cuts it. With
// --dry-run, says what it would do and changes nothing.
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/file_reader.h"
#include "cli/index_check.h"
#include "cli/log_files.h"
#include "cli/segment_scan.h"
#include "core/metadata.h"
#include "format/batch_format.h"
#include "storage/file_system.h"
#include "storage/recovery_point.h"
#include "storage/segment_format.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace rill::cli {
namespace {

struct RepairArgs {
  bool truncate = false;
  bool skip = false;
  bool dry_run = false;
};

// A segment as scanned, and what of it is damage (a torn tail is not).
struct Scanned {
  int64_t base = 0;
  int64_t limit = 0;  // The next segment's base offset, or the largest int64.
  bool newest = false;
  SegmentScan scan;
  std::vector<const ScanItem*> damaged;  // Not counting a torn tail.
  bool epoch_damaged = false;
};

class Repairer {
 public:
  explicit Repairer(const RepairArgs& args) : args_(args) {}
  int Run(const std::string& dir);

 private:
  absl::Status Partition(const std::string& dir);
  absl::StatusOr<Scanned> Scan(const std::string& dir, int64_t base, int64_t limit, bool newest,
                               uint64_t trusted);
  // What each change does; with --dry-run, what it would do.
  void Say(const std::string& path, const std::string& what);
  absl::Status Truncate(const std::string& dir, const Scanned& s, uint64_t at);
  absl::Status Rewrite(const std::string& dir, const Scanned& s);
  absl::Status FixEpochs(const std::string& dir, const Scanned& s, uint64_t before);
  absl::Status RemoveFile(const std::string& path, const std::string& why);
  absl::Status CheckIndexes(const std::string& dir, const Scanned& s);
  void ReportDropped(const std::string& path, const Scanned& s, uint64_t from);

  const RepairArgs args_;
  FileSystem& fs_ = *FileSystem::Default();
  int64_t partitions_ = 0, repaired_ = 0, dropped_ = 0, deleted_ = 0, indexes_ = 0, epochs_ = 0;
  bool changed_ = false;  // In the current partition.
};

void Repairer::Say(const std::string& path, const std::string& what) {
  changed_ = true;
  std::printf("%s%s: %s\n", args_.dry_run ? "would repair: " : "repair: ", path.c_str(),
              what.c_str());
}

absl::StatusOr<Scanned> Repairer::Scan(const std::string& dir, int64_t base, int64_t limit,
                                       bool newest, uint64_t trusted) {
  Scanned s{base, limit, newest, {}, {}, false};
  ASSIGN_OR_RETURN(std::unique_ptr<FileReader> reader,
                   FileReader::Open(SegmentPath(dir, base, segment::kLogSuffix)));
  ASSIGN_OR_RETURN(s.scan, ScanSegment(*reader, base, limit));
  for (const ScanItem& item : s.scan.items) {
    // The newest segment's damage past the trusted bytes, with nothing
    // intact after it, is a torn tail: the next open cuts it.
    const bool torn = newest && item.position >= trusted && !s.scan.IntactAfter(item.position);
    if (!item.damage.empty() && !torn) s.damaged.push_back(&item);
    if (item.damage.empty() && item.epoch_damaged) s.epoch_damaged = true;
  }
  return s;
}

void Repairer::ReportDropped(const std::string& path, const Scanned& s, uint64_t from) {
  for (const ScanItem* item : s.damaged) {
    if (item->position < from) continue;
    ++dropped_;
    Say(path, item->is_batch
                  ? absl::StrFormat("dropped the batch at byte %d (%d bytes): %s", item->position,
                                    item->size, item->damage)
                  : absl::StrFormat("dropped bytes %d-%d, which hold no intact batch: %s",
                                    item->position, item->position + item->size - 1, item->damage));
  }
}

absl::Status Repairer::RemoveFile(const std::string& path, const std::string& why) {
  if (!fs_.Stat(path).ok()) return absl::OkStatus();
  Say(path, why);
  if (args_.dry_run) return absl::OkStatus();
  return fs_.RemoveFile(path);
}

absl::Status Repairer::FixEpochs(const std::string& dir, const Scanned& s, uint64_t before) {
  const std::string path = SegmentPath(dir, s.base, segment::kLogSuffix);
  std::unique_ptr<File> file;
  for (const ScanItem& item : s.scan.items) {
    if (item.position >= before || !item.damage.empty() || !item.epoch_damaged) continue;
    ++epochs_;
    Say(path, absl::StrFormat("restored partitionLeaderEpoch (%d) of the batch at byte %d to -1",
                              item.header.partition_leader_epoch, item.position));
    if (args_.dry_run) continue;
    if (file == nullptr) {
      ASSIGN_OR_RETURN(file, fs_.OpenFile(path, OpenMode::kReadWrite));
    }
    RETURN_IF_ERROR(
        file->WriteAt(item.position + batch::kPartitionLeaderEpochPos, "\xff\xff\xff\xff"));
  }
  return file != nullptr ? file->Sync() : absl::OkStatus();
}

absl::Status Repairer::Truncate(const std::string& dir, const Scanned& s, uint64_t at) {
  const std::string path = SegmentPath(dir, s.base, segment::kLogSuffix);
  ReportDropped(path, s, at);
  Say(path, absl::StrFormat("truncated at byte %d, the first damaged batch", at));
  RETURN_IF_ERROR(FixEpochs(dir, s, at));
  for (std::string_view suffix : {segment::kIndexSuffix, segment::kTimeIndexSuffix}) {
    RETURN_IF_ERROR(RemoveFile(SegmentPath(dir, s.base, suffix),
                               "removed: the next open rebuilds it for the truncated segment"));
  }
  if (args_.dry_run) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::unique_ptr<File> file, fs_.OpenFile(path, OpenMode::kReadWrite));
  RETURN_IF_ERROR(file->Truncate(at));
  return file->Sync();
}

absl::Status Repairer::Rewrite(const std::string& dir, const Scanned& s) {
  const std::string path = SegmentPath(dir, s.base, segment::kLogSuffix);
  ReportDropped(path, s, 0);
  std::string out;
  int64_t last = s.base - 1;
  int64_t timestamp = -1;
  {
    ASSIGN_OR_RETURN(std::unique_ptr<FileReader> reader, FileReader::Open(path));
    for (const ScanItem& item : s.scan.items) {
      if (!item.damage.empty()) continue;
      ASSIGN_OR_RETURN(std::span<const char> bytes, reader->Read(item.position, item.size));
      if (bytes.size() != item.size) return absl::DataLossError(path + " changed while repaired");
      const size_t at = out.size();
      out.append(bytes.data(), bytes.size());
      if (item.epoch_damaged) {
        ++epochs_;
        out.replace(at + batch::kPartitionLeaderEpochPos, 4, "\xff\xff\xff\xff");
      }
      last = item.header.last_offset();
      timestamp = item.header.max_timestamp;
    }
  }
  if (!s.newest && last + 1 < s.limit) {
    // The dropped batches were the last: an empty batch keeps their offsets,
    // so that the segment still ends where the next one begins.
    out += EmptyBatch(last + 1, s.limit - 1, timestamp);
    Say(path, absl::StrFormat("an empty batch holds offsets %d-%d, which were dropped", last + 1,
                              s.limit - 1));
  }
  Say(path, absl::StrFormat("rewritten with its intact batches: %d bytes", out.size()));
  for (std::string_view suffix : {segment::kIndexSuffix, segment::kTimeIndexSuffix}) {
    RETURN_IF_ERROR(RemoveFile(SegmentPath(dir, s.base, suffix),
                               "removed: the next open rebuilds it for the rewritten segment"));
  }
  if (args_.dry_run) return absl::OkStatus();
  // A ".tmp" left by a crash is deleted by the next open; the rename makes
  // the new content appear whole.
  const std::string name = segment::FileName(s.base, segment::kLogSuffix);
  return WriteFileAtomically(fs_, dir, name, out, ".tmp");
}

absl::Status Repairer::CheckIndexes(const std::string& dir, const Scanned& s) {
  IndexChecker index(SegmentPath(dir, s.base, segment::kIndexSuffix),
                     SegmentPath(dir, s.base, segment::kTimeIndexSuffix), s.base);
  WalkResult walk;
  walk.size = s.scan.size;
  for (const ScanItem& item : s.scan.items) {
    if (!item.damage.empty()) {
      walk.torn_from = std::min(walk.torn_from, item.position);
      continue;
    }
    index.OnBatch(WalkedBatch{item.position, item.header, {}, item.header.crc});
    walk.end = item.position + item.size;
    ++walk.batches;
  }
  index.Finish(walk, s.newest);
  std::set<std::string> damaged;
  for (const IndexFinding& f : index.findings()) {
    if (f.severity == Severity::kError && damaged.insert(f.path).second) {
      ++indexes_;
      RETURN_IF_ERROR(
          RemoveFile(f.path, "removed, damaged (" + f.message + "): the next open rebuilds it"));
    }
  }
  return absl::OkStatus();
}

absl::Status Repairer::Partition(const std::string& dir) {
  ++partitions_;
  changed_ = false;
  ASSIGN_OR_RETURN(std::vector<int64_t> bases, ListSegments(dir));
  const RecoveryPointFile rp = ReadRecoveryPointFile(dir);
  std::vector<Scanned> segments;
  for (size_t i = 0; i < bases.size(); ++i) {
    const bool newest = i + 1 == bases.size();
    const int64_t limit = newest ? std::numeric_limits<int64_t>::max() : bases[i + 1];
    ASSIGN_OR_RETURN(Scanned s,
                     Scan(dir, bases[i], limit, newest, TrustedBytes(rp.point, bases[i])));
    segments.push_back(std::move(s));
  }
  std::set<int64_t> rewritten;  // Segments whose byte positions changed or went.
  bool cut = false;
  for (const Scanned& s : segments) {
    const std::string path = SegmentPath(dir, s.base, segment::kLogSuffix);
    if (cut) {
      // After a truncation: later segments follow a gap, as recovery says.
      ++deleted_;
      rewritten.insert(s.base);
      for (std::string_view suffix :
           {segment::kLogSuffix, segment::kIndexSuffix, segment::kTimeIndexSuffix}) {
        RETURN_IF_ERROR(RemoveFile(SegmentPath(dir, s.base, suffix),
                                   "deleted: it follows the truncated segment"));
      }
    } else if (!s.damaged.empty() && args_.truncate) {
      RETURN_IF_ERROR(Truncate(dir, s, s.damaged.front()->position));
      rewritten.insert(s.base);
      cut = true;
    } else if (!s.damaged.empty()) {
      RETURN_IF_ERROR(Rewrite(dir, s));
      rewritten.insert(s.base);
    } else {
      RETURN_IF_ERROR(FixEpochs(dir, s, s.scan.size));
      RETURN_IF_ERROR(CheckIndexes(dir, s));
    }
  }
  if (!rewritten.empty() && rp.point && rp.point->segment_base >= *rewritten.begin() &&
      (rewritten.count(rp.point->segment_base) > 0 || cut)) {
    // The point lay in what changed: move it to the start of the first
    // segment that changed, so that the next open checks it all.
    const int64_t from = cut ? *rewritten.begin() : rp.point->segment_base;
    Say(JoinPath(dir, segment::kRecoveryPointFile),
        absl::StrFormat("moved to the start of segment %d: the next open checks it", from));
    if (!args_.dry_run) RETURN_IF_ERROR(WriteRecoveryPoint(fs_, dir, {from, 0}));
  }
  if (changed_ && !args_.dry_run) RETURN_IF_ERROR(fs_.SyncDir(dir));
  repaired_ += changed_ ? 1 : 0;
  return absl::OkStatus();
}

int Repairer::Run(const std::string& dir) {
  if (absl::Status s = core::CheckLogFormat(fs_, dir); !s.ok()) return Fail(s);
  absl::StatusOr<std::unique_ptr<FileLock>> lock =
      fs_.LockFile(JoinPath(dir, std::string(core::kLockFile)));
  if (!lock.ok()) return Fail(absl::StrCat(lock.status().message(), ": close it before repairing"));
  absl::StatusOr<std::vector<TopicFile>> topics = ReadTopics(dir);
  if (!topics.ok()) return Fail(topics.status());
  absl::StatusOr<std::vector<PartitionFiles>> partitions = ListPartitions(dir);
  if (!partitions.ok()) return Fail(partitions.status());
  std::map<std::string, int32_t> counts;
  int64_t unreadable = 0;
  for (const TopicFile& t : *topics) {
    if (t.config.ok()) {
      counts[t.name] = t.config->partitions;
      continue;
    }
    // Without its settings a topic's partitions cannot be told from
    // leftovers, and guessing them (partitions, retention, quota) could
    // lose records later: the operator mends the text file by hand.
    ++unreadable;
    PrintError(absl::StrCat(t.config.status().message(),
                            "; the topic's partitions were not checked: mend the file by hand "
                            "(key=value lines, see docs/FORMAT.md) and run repair again"));
  }
  for (const PartitionFiles& p : *partitions) {
    auto it = counts.find(p.topic);
    if (it == counts.end() || p.partition >= it->second) continue;  // Not a topic's.
    if (absl::Status s = Partition(p.dir); !s.ok()) return Fail(s);
  }
  std::printf(
      "%s %lld of %lld partitions: %lld damaged batches or stretches dropped, %lld "
      "segments deleted, %lld index files removed, %lld epochs restored\n",
      args_.dry_run ? "would repair" : "repaired", static_cast<long long>(repaired_),
      static_cast<long long>(partitions_), static_cast<long long>(dropped_),
      static_cast<long long>(deleted_), static_cast<long long>(indexes_),
      static_cast<long long>(epochs_));
  if (unreadable > 0) {
    return Fail(absl::StrFormat("topics whose settings cannot be read: %d", unreadable));
  }
  return kExitOk;
}

int Repair(const Context& ctx, const RepairArgs& args) {
  if (args.truncate == args.skip) return UsageError("repair needs one of --truncate and --skip");
  if (absl::Status s = CheckExistingLog(ctx.dir); !s.ok()) return Fail(s);
  return Repairer(args).Run(ctx.dir);
}

}  // namespace

void AddRepairCommand(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<RepairArgs>();
  CLI::App* repair = app.add_subcommand(
      "repair", "Mend a damaged log (see `verify`): truncate it, or skip its damaged batches");
  CLI::Option* truncate = repair->add_flag(
      "--truncate", args->truncate,
      "Cut each damaged partition at its first damaged batch, deleting later segments");
  repair
      ->add_flag("--skip", args->skip,
                 "Rewrite each damaged segment without its damaged batches, keeping every intact "
                 "batch at its offsets (gaps where the damaged ones were)")
      ->excludes(truncate);
  repair->add_flag("--dry-run", args->dry_run, "Say what would be done; change nothing");
  repair->footer(
      "Needs the log closed: it takes the log's lock. Restores a damaged partitionLeaderEpoch, "
      "removes damaged index files (the next open rebuilds them), and moves a recovery point "
      "that pointed into what changed to its start, so that the next open checks it. A torn "
      "tail is left for the next open to cut. See docs/RELIABILITY.md.");
  repair->callback([&ctx, args] { ctx.action = [&ctx, args] { return Repair(ctx, *args); }; });
}

}  // namespace rill::cli
