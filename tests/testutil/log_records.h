// Records whose content is a function of their offset, and helpers that
// append them to a PartitionLog and check a log holds exactly them. Any
// process can check any offset of such a log without knowing how the records
// were batched -- what crash tests need.
#ifndef RILL_TESTS_TESTUTIL_LOG_RECORDS_H_
#define RILL_TESTS_TESTUTIL_LOG_RECORDS_H_

#include <cstdint>
#include <random>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "format/batch_builder.h"
#include "storage/partition_log.h"
#include "testutil/random_records.h"

namespace rill::testing {

// TestLogOptions(segment_bytes): options for a test's log: small segments
// (so that tests roll often), small indexes and chunks, no roll by age, no
// background work, and a log sink that keeps quiet.
PartitionLogOptions TestLogOptions(uint64_t segment_bytes = 64 << 10);

// RecordAt(offset): the record the tests put at `offset`. Keys, values and
// headers are sometimes null, values sometimes a few KiB, and timestamps
// rise with the offset but wander around it, so neighbours are out of order.
OwnedRecord RecordAt(int64_t offset);

// BuildBatch(builder, first, count): a batch (uncompressed unless the
// builder says otherwise) of the records at offsets [first, first + count).
// Valid until the builder's next use.
absl::StatusOr<std::span<const char>> BuildBatch(BatchBuilder& builder, int64_t first, int count);

// AppendRecords(log, count, rng, max_batch_records): appends the records
// at [end, end + count) of `log` in batches of 1..max_batch_records records
// and at most kMaxTestBatchBytes (halving the count until it fits), checking
// the offsets the log gives them.
absl::Status AppendRecords(PartitionLog& log, int64_t count, std::mt19937_64& rng,
                           int max_batch_records = 40);

// Batches AppendRecords makes fit in segments of this size or more.
inline constexpr size_t kMaxTestBatchBytes = 16 << 10;

struct VerifyOptions {
  // Compare record timestamps with RecordAt's (off for LogAppendTime).
  bool timestamps = true;
  // `end` is the log's end: end_offset() is `end` and nothing follows it.
  // Off for a reader racing a writer.
  bool at_end = true;
};

// VerifyLog(log, from, end): checks that reading from `from` yields every
// offset of [from, end) once, in order, as RecordAt(offset), in batches
// whose CRCs hold, and (see VerifyOptions) that the log ends there. The
// error names the first thing that differs.
absl::Status VerifyLog(const PartitionLog& log, int64_t from, int64_t end,
                       const VerifyOptions& options = {});

// ExpectedOffsetForTimestamp(from, end, ts): by brute force over RecordAt,
// the first offset in [from, end) whose timestamp is >= ts, or `end`.
int64_t ExpectedOffsetForTimestamp(int64_t from, int64_t end, int64_t ts);

}  // namespace rill::testing

#endif  // RILL_TESTS_TESTUTIL_LOG_RECORDS_H_
