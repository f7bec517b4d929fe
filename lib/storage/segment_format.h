// On-disk layout of a partition's directory: file names, index entries and
// the recovery checkpoint. docs/FORMAT.md is the prose version of this file.
//
//   <topic>-<partition>/
//     00000000000000000000.log        record batches, back to back
//     00000000000000000000.index      sparse offset index
//     00000000000000000000.timeindex  sparse time index
//     recovery-point                  checkpoint (see below)
//     00000000000000000000.log.cleaned   a compacted copy being written
//     00000000000000000000.log.swap      a compacted copy committed, not yet
//                                        in place (also .index, .timeindex)
//
// A segment is named by its base offset, zero-padded to 20 digits.
//
// .index entry (8 bytes, big-endian):
//   0  int32  relativeOffset  last offset of the batch - segment base offset
//   4  int32  position        byte position of the batch in the .log
//
// .timeindex entry (12 bytes, big-endian):
//   0  int64  timestamp       greatest timestamp of the segment so far
//   8  int32  relativeOffset  offset of the batch holding it - base offset
//
// recovery-point (26 bytes, big-endian), replaced atomically (rename):
//   0   4  magic "rlrp"
//   4   2  version (1)
//   6   8  baseOffset of a segment
//   14  8  position: every byte of the log before it -- earlier segments and
//          this one up to `position` -- was synced and checked
//   22  4  CRC-32C of bytes [0, 22)
#ifndef RILL_LIB_STORAGE_SEGMENT_FORMAT_H_
#define RILL_LIB_STORAGE_SEGMENT_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rill::segment {

inline constexpr std::string_view kLogSuffix = ".log";
inline constexpr std::string_view kIndexSuffix = ".index";
inline constexpr std::string_view kTimeIndexSuffix = ".timeindex";
inline constexpr std::string_view kRecoveryPointFile = "recovery-point";
// Left in a partition's directory when a sync of its data failed, and not
// synced: the next open in the same boot rewrites the unsynced tail.
inline constexpr std::string_view kSyncFailedFile = "sync-failed";
// Appended to a segment's three file names while the cleaner writes its
// replacement, then while the replacement is committed but not yet in place.
// See docs/FORMAT.md, "Compaction".
inline constexpr std::string_view kCleanedSuffix = ".cleaned";
inline constexpr std::string_view kSwapSuffix = ".swap";
inline constexpr int kNameDigits = 20;

inline constexpr size_t kOffsetEntrySize = 8;
inline constexpr size_t kTimeEntrySize = 12;

inline constexpr char kRecoveryPointMagic[4] = {'r', 'l', 'r', 'p'};
inline constexpr uint16_t kRecoveryPointVersion = 1;
inline constexpr size_t kRecoveryPointSize = 26;

// FileName(base_offset, suffix): "00000000000000000042.log" for (42, ".log").
std::string FileName(int64_t base_offset, std::string_view suffix);

// ParseFileName(name, suffix): the base offset of a segment file name with
// that suffix, or nullopt if `name` is not one.
std::optional<int64_t> ParseFileName(std::string_view name, std::string_view suffix);

}  // namespace rill::segment

#endif  // RILL_LIB_STORAGE_SEGMENT_FORMAT_H_
