#include "cli/segment_walk.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/offset_check.h"
#include "format/batch_format.h"
#include "util/strings.h"

namespace rill::cli {

const char* SeverityName(Severity s) {
  switch (s) {
    case Severity::kError:
      return "error";
    case Severity::kTornTail:
      return "torn tail";
    case Severity::kNote:
      return "note";
  }
  return "?";
}

int WalkResult::errors() const {
  return static_cast<int>(std::count_if(findings.begin(), findings.end(), [](const Finding& f) {
    return f.severity == Severity::kError;
  }));
}

namespace {

// Walker: the state of one WalkSegment call.
class Walker {
 public:
  Walker(FileReader& reader, const WalkOptions& options) : reader_(reader), options_(options) {
    result_.size = reader.size();
  }

  absl::StatusOr<WalkResult> Run(const std::function<void(const WalkedBatch&)>& on_batch);

 private:
  // Failure(position, why): a batch at `position` that the next open would
  // not keep.
  void Failure(uint64_t position, std::string why) {
    if (!options_.newest || position < options_.trusted) {
      result_.findings.push_back({Severity::kError, position, std::move(why)});
    } else if (!torn_) {
      torn_ = Finding{Severity::kTornTail, position, std::move(why)};
    }
  }
  // Zeros(position): only zeros from `position` to the end of the file.
  void Zeros(uint64_t position) {
    const uint64_t n = result_.size - position;
    if (options_.trusted != std::numeric_limits<uint64_t>::max() && position < options_.trusted) {
      result_.findings.push_back(
          {Severity::kError, position,
           absl::StrFormat("%d bytes of zeros where the recovery point promises batches up to "
                           "byte %d",
                           n, options_.trusted)});
    } else if (!torn_) {
      result_.findings.push_back(
          {Severity::kNote, position,
           absl::StrFormat("%d bytes of zeros after the last batch: space allocated ahead of the "
                           "writer%s",
                           n,
                           options_.newest ? "" : " (the segment was not trimmed when sealed)")});
    }
  }

  FileReader& reader_;
  const WalkOptions options_;
  WalkResult result_;
  std::optional<Finding> torn_;
  bool intact_after_torn_ = false;
};

absl::StatusOr<WalkResult> Walker::Run(const std::function<void(const WalkedBatch&)>& on_batch) {
  // Every batch with a sound header, for the checks that need its
  // neighbours; then the problems of each, in file order.
  struct Seen {
    uint64_t position;
    BatchHeader header;
    bool crc_ok;
    uint32_t computed_crc;
  };
  std::vector<Seen> seen;
  std::optional<std::pair<uint64_t, std::string>> stop;  // Where the walk stopped, and why.
  std::optional<uint64_t> zeros_from;
  uint64_t p = 0;
  while (p < result_.size) {
    absl::StatusOr<std::span<const char>> head = reader_.Read(p, batch::kHeaderSize);
    if (!head.ok()) return head.status();
    BatchHeader h;
    absl::Status s = CheckBatchHeader(*head, &h);
    const bool header_sound =
        s.ok() || (absl::IsOutOfRange(s) && head->size() == batch::kHeaderSize);
    if (!header_sound) {
      absl::StatusOr<bool> zeros = reader_.AllZero(p);
      if (!zeros.ok()) return zeros.status();
      if (*zeros) {
        zeros_from = p;
      } else {
        stop = {p, std::string(ToStd(s.message()))};
      }
      break;
    }
    if (h.size() > result_.size - p) {
      stop = {p, absl::StrFormat("batch truncated: %d of its %d bytes are in the file",
                                 result_.size - p, h.size())};
      break;
    }
    absl::StatusOr<std::span<const char>> bytes = reader_.Read(p, h.size());
    if (!bytes.ok()) return bytes.status();
    if (bytes->size() < h.size()) {  // The file shrank while being read.
      stop = {p, absl::StrFormat("batch truncated: %d of its %d bytes could be read",
                                 bytes->size(), h.size())};
      break;
    }
    WalkedBatch batch{p, h, *bytes, ComputeBatchCrc(*bytes)};
    if (on_batch) on_batch(batch);
    seen.push_back({p, h, batch.crc_ok(), batch.computed_crc});
    ++result_.batches;
    result_.last_offset = h.last_offset();
    result_.max_timestamp = std::max(result_.max_timestamp, h.max_timestamp);
    p += h.size();
    result_.end = p;
  }

  std::vector<OffsetSpan> spans;
  for (const Seen& b : seen) {
    if (b.crc_ok) spans.push_back({b.header.base_offset, b.header.last_offset()});
  }
  const std::vector<std::string> offset_damage =
      FindOffsetDamage(spans, options_.base_offset, options_.limit_offset);
  size_t span = 0;
  for (const Seen& b : seen) {
    std::string why;
    if (!b.crc_ok) {
      why = absl::StrFormat("batch CRC-32C mismatch: stored 0x%08x, computed 0x%08x", b.header.crc,
                            b.computed_crc);
    } else if (!offset_damage[span].empty()) {
      why = "batch " + offset_damage[span];
    } else if (b.header.partition_leader_epoch != -1) {
      // Outside the CRC too, and rill always writes -1 there.
      why = absl::StrFormat(
          "batch partitionLeaderEpoch is %d, where rill writes -1: the header is damaged",
          b.header.partition_leader_epoch);
    }
    span += b.crc_ok ? 1 : 0;
    if (!why.empty()) {
      Failure(b.position, std::move(why));
    } else if (torn_) {
      intact_after_torn_ = true;
    }
  }
  if (stop) Failure(stop->first, std::move(stop->second));
  if (zeros_from) Zeros(*zeros_from);
  if (torn_) {
    result_.torn_from = torn_->position;
    if (intact_after_torn_) {
      torn_->severity = Severity::kError;
      torn_->message += "; intact batches follow it, which the next open would cut off too";
    } else {
      torn_->message += "; an interrupted write, which the next open cuts off";
    }
    result_.findings.push_back(*std::move(torn_));
  }
  return std::move(result_);
}

}  // namespace

absl::StatusOr<WalkResult> WalkSegment(FileReader& reader, const WalkOptions& options,
                                       const std::function<void(const WalkedBatch&)>& on_batch) {
  return Walker(reader, options).Run(on_batch);
}

}  // namespace rill::cli
