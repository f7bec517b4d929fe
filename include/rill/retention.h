// What retention, disk limits and compaction remove from a log, as counted
// for a partition, a topic (Log::DescribeTopic) or one maintenance pass
// (Log::RunMaintenance).
//
//   rill::MaintenanceReport report = log->RunMaintenance();
//   if (report.removed.dropped_records > 0) { ... the disk budget cost data ... }
//
// Thread-safety: plain values.
#ifndef RILL_RETENTION_H_
#define RILL_RETENTION_H_

#include <cstdint>
#include <string>
#include <vector>

namespace rill {

// RemovalCounts: records and bytes removed, by cause. Bytes are bytes of
// record batches (as PartitionDescription::bytes counts them), not of files.
struct RemovalCounts {
  // Whole segments deleted because they were older than retention.ms, or
  // because the partition held more than retention.bytes.
  int64_t expired_segments = 0;
  int64_t expired_records = 0;
  uint64_t expired_bytes = 0;
  // Whole segments deleted, oldest first, to keep a topic within its
  // quota.bytes or the log within LogOptions::disk_budget_bytes
  // (quota.policy = drop-oldest). Data lost to make room.
  int64_t dropped_segments = 0;
  int64_t dropped_records = 0;
  uint64_t dropped_bytes = 0;
  // Compaction: segments rewritten, and the records (superseded values,
  // expired tombstones, records without a key) and batch bytes it removed.
  int64_t compacted_segments = 0;
  int64_t compacted_records = 0;
  uint64_t compacted_bytes = 0;

  RemovalCounts& operator+=(const RemovalCounts& o) {
    expired_segments += o.expired_segments;
    expired_records += o.expired_records;
    expired_bytes += o.expired_bytes;
    dropped_segments += o.dropped_segments;
    dropped_records += o.dropped_records;
    dropped_bytes += o.dropped_bytes;
    compacted_segments += o.compacted_segments;
    compacted_records += o.compacted_records;
    compacted_bytes += o.compacted_bytes;
    return *this;
  }
  friend bool operator==(const RemovalCounts&, const RemovalCounts&) = default;
};

// MaintenanceReport: what one maintenance pass did.
struct MaintenanceReport {
  // Background tasks (prefaulting, syncs of sealed segments) run by the
  // call, with background_threads = 0.
  int tasks_run = 0;
  // Active segments sealed because they reached segment.ms, or because
  // everything in them was past retention.ms.
  int64_t segments_rolled = 0;
  // What the pass removed.
  RemovalCounts removed = {};
  // Bytes of batches the cleaner read.
  uint64_t compaction_bytes_read = 0;
  // Bytes the log's files take on the device after the pass, as measured
  // (st_blocks), and the disk budget (0: none).
  uint64_t disk_bytes = 0;
  uint64_t disk_budget_bytes = 0;
  // Problems met; the pass went on with the rest. Also sent to the log sink.
  std::vector<std::string> errors = {};
};

}  // namespace rill

#endif  // RILL_RETENTION_H_
