// IndexChecker: checks a segment's .index and .timeindex against its batches
// as `rill verify` walks them: entries in increasing order, each offset-index
// entry at a batch boundary and naming that batch's last offset, each
// time-index entry at a batch's last offset with a timestamp no lower than
// any batch's up to it (docs/FORMAT.md).
//
// An index has no checksum and the log rebuilds a damaged one, but a reader
// trusts it until then: an entry that points inside a batch makes reads of
// that segment fail, so a bad entry is an error. Entries past the last whole
// batch of the newest segment are not: the next open cuts that tail and
// rebuilds the index.
//
//   IndexChecker index(index_path, time_index_path, base);  // reads both
//   WalkSegment(reader, options, [&](const WalkedBatch& b) { index.OnBatch(b); });
//   index.Finish(walk, newest);
//   for (const IndexFinding& f : index.findings()) ...
#ifndef RILL_LIB_CLI_INDEX_CHECK_H_
#define RILL_LIB_CLI_INDEX_CHECK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/log_files.h"
#include "cli/segment_walk.h"

namespace rill::cli {

struct IndexFinding {
  Severity severity = Severity::kError;
  std::string path;
  std::string message;
};

class IndexChecker {
 public:
  // Reads both index files of the segment `base` now.
  IndexChecker(std::string index_path, std::string time_index_path, int64_t base);

  // OnBatch(b): the walk met batch `b`; batches come in file order.
  void OnBatch(const WalkedBatch& b);
  // Finish(walk, newest): after the walk; fills findings().
  void Finish(const WalkResult& walk, bool newest);
  const std::vector<IndexFinding>& findings() const { return findings_; }

 private:
  // An index file and what was found in it so far.
  template <typename Entry>
  struct File {
    std::string path;
    std::optional<IndexContents<Entry>> contents;  // Unset: missing or unreadable.
    bool ordered = true;
    size_t next = 0;  // The next entry to meet in the walk.
    // Problems found during the walk, with the log position they concern:
    // those in a torn tail are dropped at Finish.
    std::vector<std::pair<uint64_t, std::string>> issues;
  };

  template <typename Entry, typename Read>
  void Load(File<Entry>* file, Read read, int64_t base);
  template <typename Entry>
  void Report(const File<Entry>& file, const WalkResult& walk, bool newest, size_t past_end);

  File<OffsetEntry> index_;
  File<TimeEntry> time_index_;
  int64_t max_timestamp_ = -1;  // Greatest maxTimestamp of the intact batches so far.
  std::vector<IndexFinding> findings_;
};

}  // namespace rill::cli

#endif  // RILL_LIB_CLI_INDEX_CHECK_H_
