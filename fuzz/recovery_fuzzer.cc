// Fuzz target: recovering a segment file of arbitrary bytes after a crash,
// with no recovery point (odd first byte) or one inside the log (even).
#include "fuzz/partition_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto mode = (data[0] & 1) != 0 ? rill::fuzz::RecoveryPointMode::kNone
                                       : rill::fuzz::RecoveryPointMode::kInside;
  return rill::fuzz::OpenPartitionFromBytes(data + 1, size - 1, mode);
}
