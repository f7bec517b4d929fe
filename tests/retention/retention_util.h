// Helpers for the retention tests: reading a partition back whole, a
// compaction workload whose every record is a function of its offset,
// and the figures the tests check without trusting rill's own counters --
// bytes on disk by stat(2), open descriptors and mappings from /proc.
#ifndef RILL_TESTS_RETENTION_RETENTION_UTIL_H_
#define RILL_TESTS_RETENTION_RETENTION_UTIL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/partition_log.h"

namespace rill::testing {

// A record as read back.
struct ReadRecord {
  int64_t offset = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  int64_t timestamp = 0;
};

// ReadAll(log): every record from start_offset() to end_offset(), each
// batch's CRC and header checked, offsets checked to increase. Fails on
// anything else.
absl::StatusOr<std::vector<ReadRecord>> ReadAll(const PartitionLog& log);

// BatchBytes(log): every batch from start_offset() on, byte for byte.
absl::StatusOr<std::string> BatchBytes(const PartitionLog& log);

// The compaction workload: the record at `offset` of a partition written
// with it. Keys cycle over `keys` keys at random (as a hash of the offset);
// about one record in seven is a tombstone.
struct KeyedOp {
  std::string key;
  std::optional<std::string> value;  // nullopt: a tombstone.
};
KeyedOp OpAt(int64_t offset, int keys, uint64_t seed);

// Latest(ops): for each key, the offset and value of its last record.
std::map<std::string, ReadRecord> Latest(const std::vector<ReadRecord>& records);

// CheckKeyedLog(log, keys, seed, exact): `log` holds records written with
// OpAt(offset, keys, seed) at every offset below its end, compacted or not:
// each record it holds is the one written at its offset, the latest record
// of every key is there, and each segment ends where the next one begins.
// With `exact`, it holds nothing else (one record per key). The error names
// the first thing that differs.
absl::Status CheckKeyedLog(const PartitionLog& log, int keys, uint64_t seed, bool exact);

// DiskBytesByStat(dir): st_blocks * 512 summed over `dir` and everything
// under it, directories included, by stat(2) -- not by rill.
uint64_t DiskBytesByStat(const std::string& dir);

// OpenFilesUnder(dir) / MappingsUnder(dir): this process's open file
// descriptors (/proc/self/fd) and mappings (/proc/self/maps) of files whose
// path lies under `dir`, deleted ones included.
int OpenFilesUnder(const std::string& dir);
int MappingsUnder(const std::string& dir);

}  // namespace rill::testing

#endif  // RILL_TESTS_RETENTION_RETENTION_UTIL_H_
