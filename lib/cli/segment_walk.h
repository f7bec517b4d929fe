// WalkSegment: reads a segment file batch by batch -- with a FileReader, so
// it works while another process appends to the file -- checks every batch
// (header, lengths, CRC-32C, offsets) and tells apart damage from a torn
// tail, the way the next Log::Open will see them (docs/FORMAT.md, "Opening
// a partition, and recovery"):
//
//  - In bytes the recovery point vouches for, or in any segment but the
//    partition's newest, a bad batch is damage: an error.
//  - In the newest segment past the recovery point, the first bad batch
//    starts a torn tail -- an interrupted write the next open cuts off --
//    reported but not an error, unless intact batches follow it (then the
//    cut would lose them: an error).
//  - Zeros after the last batch are space allocated ahead of the writer: a
//    note.
//
// Used by `rill dump` (which prints each batch) and `rill verify`.
#ifndef RILL_LIB_CLI_SEGMENT_WALK_H_
#define RILL_LIB_CLI_SEGMENT_WALK_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/file_reader.h"
#include "format/batch_header.h"

namespace rill::cli {

enum class Severity { kError, kTornTail, kNote };

// Finding: something a walk or a check found at a byte of a file.
struct Finding {
  Severity severity = Severity::kError;
  uint64_t position = 0;
  std::string message;
};

// SeverityName(s): "error", "torn tail" or "note".
const char* SeverityName(Severity s);

// A batch met by the walk, its header sound. `bytes` (the whole batch) is
// valid during the callback only.
struct WalkedBatch {
  uint64_t position = 0;
  BatchHeader header;
  std::span<const char> bytes;
  uint32_t computed_crc = 0;
  bool crc_ok() const { return computed_crc == header.crc; }
};

struct WalkOptions {
  // Offsets must start at or after the segment's base offset...
  int64_t base_offset = 0;
  // ... and stay below the next segment's.
  int64_t limit_offset = std::numeric_limits<int64_t>::max();
  // Leading bytes the recovery point vouches for (see TrustedBytes).
  uint64_t trusted = 0;
  // Whether this is the partition's newest segment.
  bool newest = true;
};

struct WalkResult {
  uint64_t size = 0;         // The file's size when read.
  uint64_t end = 0;          // After the last batch walked.
  int64_t batches = 0;       // Batches with a sound header.
  int64_t last_offset = -1;  // Of the last batch, -1 if none.
  int64_t max_timestamp = -1;
  uint64_t torn_from = std::numeric_limits<uint64_t>::max();  // Where a torn tail starts.
  std::vector<Finding> findings;

  int errors() const;
};

// WalkSegment(reader, options, on_batch): walks the batches of the segment
// `reader` reads, calling on_batch (may be empty) for each batch whose header
// is sound, a batch with a bad CRC included. Errors only if the file cannot
// be read; what is wrong inside it is in the result's findings.
absl::StatusOr<WalkResult> WalkSegment(FileReader& reader, const WalkOptions& options,
                                       const std::function<void(const WalkedBatch&)>& on_batch);

}  // namespace rill::cli

#endif  // RILL_LIB_CLI_SEGMENT_WALK_H_
