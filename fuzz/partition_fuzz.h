// Helper of the index and recovery fuzz targets (see partition_fuzz.cc).
#ifndef RILL_FUZZ_PARTITION_FUZZ_H_
#define RILL_FUZZ_PARTITION_FUZZ_H_

#include <cstddef>
#include <cstdint>

namespace rill::fuzz {

enum class RecoveryPointMode {
  kNone,    // No recovery point: everything is recovered.
  kAtEnd,   // A clean close: indexes and log are loaded as trusted.
  kInside,  // Trusted up to the middle of the log, recovered after.
};

// OpenPartitionFromBytes(data, size, mode): the body of a fuzz target.
int OpenPartitionFromBytes(const uint8_t* data, size_t size, RecoveryPointMode mode);

}  // namespace rill::fuzz

#endif  // RILL_FUZZ_PARTITION_FUZZ_H_
