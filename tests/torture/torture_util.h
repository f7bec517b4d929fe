// What the reliability tests of tests/torture/ share: their length (short in
// CI, long on demand), the summary line each prints, records whose content
// follows from a number, a check that a partition holds only such records,
// and snapshots of a directory tree.
#ifndef RILL_TESTS_TORTURE_TORTURE_UTIL_H_
#define RILL_TESTS_TORTURE_TORTURE_UTIL_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "rill/rill.h"
#include "testutil/random_records.h"
#include "util/mutex.h"

namespace rill::testing {

// LongMode(): whether RILL_TEST_MODE=long asks for the long runs.
bool LongMode();
// ByMode(short_n, long_n): the count for this mode.
int ByMode(int short_n, int long_n);

// PrintSummary(test, fields): one line on stdout, e.g.
//   RELIABILITY torture kills=1000 lost=0 wrong=0 failed_reopens=0
// for docs/RELIABILITY.md and scripts/reliability_report.sh.
void PrintSummary(std::string_view test,
                  std::initializer_list<std::pair<std::string_view, int64_t>> fields);

// SeqRecord(seq): the record numbered `seq`. Its key, value, headers and
// timestamp follow from the number alone (the first header is "seq" with the
// number in decimal), so any process can tell whether a record it reads is
// one that was built, and intact.
OwnedRecord SeqRecord(uint64_t seq);
// SeqOf(r): the number in a record's first header, if it is "seq".
std::optional<uint64_t> SeqOf(const RecordView& r);
// Checksum(r): CRC-32C of a record's key, value, headers and timestamp.
uint32_t Checksum(const RecordView& r);
uint32_t Checksum(const OwnedRecord& r);

// An acknowledged record: Send returned its position, or its callback did.
struct Ack {
  int32_t partition = 0;
  int64_t offset = 0;
  uint64_t seq = 0;
  bool power = false;  // Sent at kPowerLoss.
};

// AckLog: acknowledgements, from any thread.
class AckLog {
 public:
  void Add(const Ack& ack) {
    MutexLock lock(&mu_);
    acks_.push_back(ack);
  }
  std::vector<Ack> Copy() const {
    MutexLock lock(&mu_);
    return acks_;
  }

 private:
  mutable Mutex mu_;
  std::vector<Ack> acks_ ABSL_GUARDED_BY(mu_);
};

// A record read back: where it was, and which one it is.
struct ReadBack {
  int64_t offset = -1;
  uint64_t seq = 0;
  uint32_t checksum = 0;
};

// What ReadPartition found.
struct PartitionRead {
  int64_t end = 0;                // The partition's end offset.
  std::vector<ReadBack> records;  // In offset order.
  // Records that were no SeqRecord, or not intact, or at an offset out of
  // turn (offsets must follow each other without gaps), each described.
  std::vector<std::string> wrong;
  // A Poll that failed (the status), which ended the read.
  std::string error;
};

// ReadPartition(log, tp, from): every record of [from, end) of the
// partition, read through a Consumer and checked against SeqRecord.
PartitionRead ReadPartition(Log& log, const TopicPartition& tp, int64_t from);

// What CheckLog found.
struct LogCheck {
  std::map<int32_t, int64_t> ends;  // Each partition's end offset.
  int64_t records = 0;              // Records read.
  int64_t lost = 0;                 // Acknowledgements that had to survive, and did not.
  int64_t unsynced_lost = 0;        // Acknowledgements that could be lost, and were.
  int64_t wrong = 0;                // Records not as sent, and failed reads.
  std::vector<std::string> problems;
};

// CheckLog(log, topic, partitions, sent, acks, durable): reads every
// partition of `topic` from its start. Every record must be a SeqRecord
// whose number is in `sent`, found once, at consecutive offsets; the place
// of each ack must hold that ack's record, and must exist if durable(ack).
LogCheck CheckLog(Log& log, const std::string& topic, int32_t partitions,
                  const std::set<uint64_t>& sent, const std::vector<Ack>& acks,
                  const std::function<bool(size_t)>& durable);

// A batch's identity: its offsets and CRC (which covers all of it but the
// base offset).
struct BatchId {
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  uint32_t crc = 0;
  friend bool operator==(const BatchId&, const BatchId&) = default;
};

// Batches(log, tp, end): the batches of a partition before offset `end`,
// read through the library's internals (batch boundaries are not part of
// the public API).
absl::StatusOr<std::vector<BatchId>> Batches(Log& log, const TopicPartition& tp, int64_t end);

// Snapshot(dir): every entry under `dir` -- its path, type, size and
// CRC-32C -- for comparing a tree before and after a call that must change
// nothing. The lock file's content (the pid of the last process that
// opened the log) is left out; its presence is not.
std::map<std::string, std::string> Snapshot(const std::string& dir);
// Describe(a, b): the entries in which two snapshots differ, one a line.
std::string Describe(const std::map<std::string, std::string>& a,
                     const std::map<std::string, std::string>& b);

}  // namespace rill::testing

#endif  // RILL_TESTS_TORTURE_TORTURE_UTIL_H_
