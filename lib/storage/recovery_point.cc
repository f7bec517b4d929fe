#include "storage/recovery_point.h"

#include <cstring>

#include "format/crc32c.h"
#include "storage/segment_format.h"
#include "util/endian.h"

namespace rill {

std::optional<RecoveryPoint> ReadRecoveryPoint(FileSystem& fs, const std::string& dir) {
  auto data = ReadFileToString(fs, JoinPath(dir, std::string(segment::kRecoveryPointFile)));
  if (!data.ok() || data->size() != segment::kRecoveryPointSize) return std::nullopt;
  const char* p = data->data();
  if (std::memcmp(p, segment::kRecoveryPointMagic, 4) != 0) return std::nullopt;
  if (LoadBigEndian<uint16_t>(p + 4) != segment::kRecoveryPointVersion) return std::nullopt;
  if (LoadBigEndian<uint32_t>(p + 22) != crc32c::Value(p, 22)) return std::nullopt;
  return RecoveryPoint{LoadBigEndian<int64_t>(p + 6), LoadBigEndian<uint64_t>(p + 14)};
}

absl::Status WriteRecoveryPoint(FileSystem& fs, const std::string& dir, const RecoveryPoint& point) {
  char buf[segment::kRecoveryPointSize];
  std::memcpy(buf, segment::kRecoveryPointMagic, 4);
  StoreBigEndian(buf + 4, segment::kRecoveryPointVersion);
  StoreBigEndian(buf + 6, point.segment_base);
  StoreBigEndian(buf + 14, point.position);
  StoreBigEndian(buf + 22, crc32c::Value(buf, 22));
  return WriteFileAtomically(fs, dir, std::string(segment::kRecoveryPointFile),
                             std::string_view(buf, sizeof(buf)));
}

}  // namespace rill
