// RecoveryReport: what opening a log found and did after an unclean
// shutdown. A log closed cleanly reports nothing to recover.
//
// Thread-safety: a plain value.
#ifndef RILL_RECOVERY_H_
#define RILL_RECOVERY_H_

#include <cstdint>
#include <string>
#include <vector>

namespace rill {

struct RecoveryReport {
  // Partitions whose tail was checked because they were not closed cleanly.
  int64_t partitions_recovered = 0;
  // Segments whose batches were checked (CRC, lengths, offsets).
  int64_t segments_checked = 0;
  uint64_t bytes_checked = 0;
  int64_t batches_checked = 0;
  // What was cut off: bytes after the last intact batch (not counting
  // preallocated zeros, but counting every byte of a batch dropped whole),
  // how many batch headers they held, and segments deleted whole because an
  // earlier one was cut short.
  uint64_t bytes_dropped = 0;
  int64_t batches_dropped = 0;
  int64_t segments_dropped = 0;
  // One line per cut: the file, the byte position and the reason.
  std::vector<std::string> details;

  bool dropped_anything() const { return bytes_dropped > 0 || segments_dropped > 0; }
};

}  // namespace rill

#endif  // RILL_RECOVERY_H_
