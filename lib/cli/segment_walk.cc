#include "cli/segment_walk.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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
  uint64_t p = 0;
  int64_t expected = options_.base_offset;
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
        Zeros(p);
      } else {
        Failure(p, std::string(ToStd(s.message())));
      }
      break;
    }
    if (h.size() > result_.size - p) {
      Failure(p, absl::StrFormat("batch truncated: %d of its %d bytes are in the file",
                                 result_.size - p, h.size()));
      break;
    }
    absl::StatusOr<std::span<const char>> bytes = reader_.Read(p, h.size());
    if (!bytes.ok()) return bytes.status();
    if (bytes->size() < h.size()) {  // The file shrank while being read.
      Failure(p, absl::StrFormat("batch truncated: %d of its %d bytes could be read", bytes->size(),
                                 h.size()));
      break;
    }
    WalkedBatch batch{p, h, *bytes, ComputeBatchCrc(*bytes)};
    if (on_batch) on_batch(batch);
    bool intact = true;
    if (!batch.crc_ok()) {
      intact = false;
      Failure(p, absl::StrFormat("batch CRC-32C mismatch: stored 0x%08x, computed 0x%08x", h.crc,
                                 batch.computed_crc));
    }
    if (h.base_offset < expected) {
      intact = false;
      Failure(p, absl::StrFormat("baseOffset %d does not follow offset %d", h.base_offset,
                                 expected - 1));
    } else if (h.last_offset() >= options_.limit_offset) {
      intact = false;
      Failure(p, absl::StrFormat("lastOffset %d is not below the next segment's base offset %d",
                                 h.last_offset(), options_.limit_offset));
    }
    if (intact && torn_) intact_after_torn_ = true;
    ++result_.batches;
    result_.last_offset = h.last_offset();
    result_.max_timestamp = std::max(result_.max_timestamp, h.max_timestamp);
    expected = std::max(expected, h.last_offset() + 1);
    p += h.size();
    result_.end = p;
  }
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
