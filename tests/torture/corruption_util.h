// The corruption test's tools: a pristine log on disk and where each of its
// batches lies, copies of it with one byte flipped, a check that reads a
// copy through a Consumer, and a way to run the rill command on it.
#ifndef RILL_TESTS_TORTURE_CORRUPTION_UTIL_H_
#define RILL_TESTS_TORTURE_CORRUPTION_UTIL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "testutil/temp_dir.h"

namespace rill::testing {

// Where a batch of the pristine log lies.
struct BatchPlace {
  std::string file;  // Name of its .log file in the partition directory.
  uint64_t position = 0;
  uint64_t size = 0;
  int64_t base_offset = 0;
  int64_t last_offset = 0;
};

// LogLayout: a log of one topic "t" with one partition, closed cleanly,
// and what is where in it.
class LogLayout {
 public:
  static LogLayout Make();

  const std::string& dir() const { return dir_; }              // The pristine log.
  const std::string& scratch() const { return tmp_->path(); }  // Room for copies.
  const std::vector<BatchPlace>& batches() const { return batches_; }
  // Files a flip may hit: the .log of every sealed segment, and every
  // index file, with their sizes.
  const std::map<std::string, uint64_t>& targets() const { return targets_; }
  // seq_at(): the record at each offset, by its SeqRecord number.
  const std::map<int64_t, uint64_t>& seq_at() const { return seq_at_; }
  int64_t records() const { return static_cast<int64_t>(seq_at_.size()); }
  // BatchAt(file, byte): the batch holding a byte of a .log; null if none.
  const BatchPlace* BatchAt(const std::string& file, uint64_t byte) const;
  // BatchHolding(offset): the batch holding an offset; null if none.
  const BatchPlace* BatchHolding(int64_t offset) const;

 private:
  std::shared_ptr<TempDir> tmp_;
  std::string dir_;
  std::vector<BatchPlace> batches_;
  std::map<std::string, uint64_t> targets_;
  std::map<int64_t, uint64_t> seq_at_;
};

// A flipped byte.
struct Flip {
  std::string path;  // Of the file.
  uint64_t byte = 0;
  uint8_t mask = 0;                   // XORed into it.
  const BatchPlace* batch = nullptr;  // The batch hit, if in a .log.

  std::string file_name() const;
  // InLeaderEpoch(): the flip hit partitionLeaderEpoch, which no CRC covers
  // and no reader uses.
  bool InLeaderEpoch() const;
  std::string Describe() const;
};

struct ReadOutcome {
  int64_t returned = 0;  // Records read, each the one written at its offset.
  int64_t errors = 0;    // Polls that failed with kDataLoss.
  int64_t wrong = 0;     // Records that were not as written, or skipped unannounced.
  std::vector<std::string> problems;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr.
};

// CorruptLog: a copy of the pristine log to damage and check.
class CorruptLog {
 public:
  CorruptLog(const LogLayout& pristine, int trial);

  const std::string& dir() const { return dir_; }
  // FlipRandomByte(rng): flips one byte of one of the pristine's targets.
  Flip FlipRandomByte(std::mt19937_64& rng);
  // ReadAll(gaps): reads the partition from its start through a Consumer,
  // comparing every record with the one written at its offset; after a
  // kDataLoss, goes on from the next batch. Offsets skipped without an error
  // count as wrong, unless they are in `gaps`.
  ReadOutcome ReadAll(const std::set<int64_t>& gaps = {}) const;
  // End(): the partition's end offset.
  int64_t End() const;
  // Append(): whether the log opens and takes a record at its end.
  bool Append() const;
  // LookUpTimes(rng, n): n lookups of Log::OffsetForTime for timestamps of
  // the log's records, each compared with the answer a scan of every
  // record gives; kDataLoss counts as an error, a different answer as wrong.
  ReadOutcome LookUpTimes(std::mt19937_64& rng, int n) const;
  // Rill(args): runs the rill command (RILL_BINARY) on this log.
  CommandResult Rill(const std::vector<std::string>& args) const;

 private:
  const LogLayout& pristine_;
  std::string dir_;
};

}  // namespace rill::testing

#endif  // RILL_TESTS_TORTURE_CORRUPTION_UTIL_H_
