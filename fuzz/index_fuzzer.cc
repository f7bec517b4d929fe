// Fuzz target: loading the indexes of a segment the recovery point says was
// closed cleanly -- arbitrary .index and .timeindex bytes beside an arbitrary
// .log. Damaged indexes must be detected and rebuilt, never trusted into a
// wrong read.
#include "fuzz/partition_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return rill::fuzz::OpenPartitionFromBytes(data, size, rill::fuzz::RecoveryPointMode::kAtEnd);
}
