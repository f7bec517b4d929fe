#include "cli/segment_scan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/offset_check.h"
#include "format/batch_format.h"
#include "format/crc32c.h"
#include "util/endian.h"
#include "util/strings.h"

namespace rill::cli {
namespace {

// IntactAt(reader, p, &h, &why): whether a whole batch whose CRC holds
// starts at p.
absl::StatusOr<bool> IntactAt(FileReader& reader, uint64_t p, BatchHeader* h, std::string* why) {
  absl::StatusOr<std::span<const char>> head = reader.Read(p, batch::kHeaderSize);
  if (!head.ok()) return head.status();
  absl::Status s = CheckBatchHeader(*head, h);
  if (s.ok() || (absl::IsOutOfRange(s) && head->size() == batch::kHeaderSize)) {
    if (h->size() > reader.size() - p) {
      *why = absl::StrFormat("batch truncated: %d of its %d bytes are in the file",
                             reader.size() - p, h->size());
      return false;
    }
    absl::StatusOr<std::span<const char>> bytes = reader.Read(p, h->size());
    if (!bytes.ok()) return bytes.status();
    const uint32_t crc = ComputeBatchCrc(*bytes);
    if (crc == h->crc) return true;
    *why = absl::StrFormat("batch CRC-32C mismatch: stored 0x%08x, computed 0x%08x", h->crc, crc);
    return false;
  }
  *why = std::string(ToStd(s.message()));
  return false;
}

}  // namespace

uint64_t SegmentScan::FirstDamage() const {
  for (const ScanItem& item : items) {
    if (!item.damage.empty()) return item.position;
  }
  return size;
}

bool SegmentScan::IntactAfter(uint64_t position) const {
  return std::any_of(items.begin(), items.end(), [position](const ScanItem& item) {
    return item.position > position && item.damage.empty();
  });
}

absl::StatusOr<SegmentScan> ScanSegment(FileReader& reader, int64_t base_offset,
                                        int64_t limit_offset) {
  SegmentScan scan;
  scan.size = reader.size();
  uint64_t p = 0;
  while (p < scan.size) {
    ScanItem item;
    item.position = p;
    absl::StatusOr<bool> intact = IntactAt(reader, p, &item.header, &item.damage);
    if (!intact.ok()) return intact.status();
    if (*intact) {
      item.is_batch = true;
      item.size = item.header.size();
      item.epoch_damaged = item.header.partition_leader_epoch != -1;
      scan.items.push_back(item);
      p += item.size;
      continue;
    }
    absl::StatusOr<bool> zeros = reader.AllZero(p);
    if (!zeros.ok()) return zeros.status();
    if (*zeros) break;
    // Damage: the next intact batch is where the damaged one says it ends,
    // if its header is sound, or else wherever one is found next.
    uint64_t next = scan.size;
    BatchHeader h;
    std::string unused;
    const uint64_t claimed = item.header.size();
    if (claimed >= batch::kHeaderSize && claimed <= scan.size - p) {
      absl::StatusOr<bool> at = IntactAt(reader, p + claimed, &h, &unused);
      if (!at.ok()) return at.status();
      if (*at) next = p + claimed;
    }
    for (uint64_t q = p + 1; next == scan.size && q + batch::kHeaderSize <= scan.size; ++q) {
      absl::StatusOr<std::span<const char>> magic = reader.Read(q + batch::kMagicPos, 1);
      if (!magic.ok()) return magic.status();
      if (magic->empty() || (*magic)[0] != batch::kMagic) continue;
      absl::StatusOr<bool> at = IntactAt(reader, q, &h, &unused);
      if (!at.ok()) return at.status();
      if (*at) next = q;
    }
    item.is_batch = claimed >= batch::kHeaderSize && p + claimed == next;
    item.size = next - p;
    scan.items.push_back(item);
    p = next;
  }
  scan.end = p;

  // Offsets, from the intact batches.
  std::vector<OffsetSpan> spans;
  std::vector<ScanItem*> batches;
  for (ScanItem& item : scan.items) {
    if (!item.damage.empty()) continue;
    spans.push_back({item.header.base_offset, item.header.last_offset()});
    batches.push_back(&item);
  }
  const std::vector<std::string> why = FindOffsetDamage(spans, base_offset, limit_offset);
  for (size_t i = 0; i < batches.size(); ++i) {
    if (!why[i].empty()) batches[i]->damage = "batch " + why[i];
  }
  return scan;
}

std::string EmptyBatch(int64_t base, int64_t last, int64_t timestamp) {
  std::string b(batch::kHeaderSize, '\0');
  char* p = b.data();
  StoreBigEndian(p + batch::kBaseOffsetPos, base);
  StoreBigEndian(p + batch::kBatchLengthPos,
                 static_cast<int32_t>(batch::kHeaderSize - batch::kLogOverhead));
  StoreBigEndian(p + batch::kPartitionLeaderEpochPos, int32_t{-1});
  p[batch::kMagicPos] = batch::kMagic;
  StoreBigEndian(p + batch::kAttributesPos, int16_t{0});
  StoreBigEndian(p + batch::kLastOffsetDeltaPos, static_cast<int32_t>(last - base));
  StoreBigEndian(p + batch::kBaseTimestampPos, timestamp);
  StoreBigEndian(p + batch::kMaxTimestampPos, timestamp);
  StoreBigEndian(p + batch::kProducerIdPos, int64_t{-1});
  StoreBigEndian(p + batch::kProducerEpochPos, int16_t{-1});
  StoreBigEndian(p + batch::kBaseSequencePos, int32_t{-1});
  StoreBigEndian(p + batch::kRecordsCountPos, int32_t{0});
  StoreBigEndian(p + batch::kCrcPos, ComputeBatchCrc({b.data(), b.size()}));
  return b;
}

}  // namespace rill::cli
