#include "testutil/log_records.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "format/batch_header.h"
#include "format/batch_reader.h"
#include "util/status_macros.h"

namespace rill::testing {
namespace {

constexpr int64_t kBaseTimestamp = 1'700'000'000'000;

// splitmix64's finaliser: a well-mixed hash of x.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

PartitionLogOptions TestLogOptions(uint64_t segment_bytes) {
  PartitionLogOptions options;
  options.segment = SegmentOptions{.max_bytes = segment_bytes,
                                   .index_interval_bytes = 1024,
                                   .max_index_bytes = 64 << 10,
                                   .allocation_chunk = 16 << 10,
                                   .populate_ahead = 0};
  options.segment_ms = 0;
  options.log_sink = [](LogSeverity, std::string_view) {};
  return options;
}

OwnedRecord RecordAt(int64_t offset) {
  const uint64_t h = Mix(static_cast<uint64_t>(offset));
  OwnedRecord r;
  if (offset % 13 != 7) r.key = absl::StrCat("key-", offset);
  if (offset % 29 != 11) {
    const size_t n = (h >> 8) % 61 == 0 ? 1000 + h % 3000 : h % 200;
    std::string value(n, '\0');
    uint64_t x = h;
    for (size_t i = 0; i < n; ++i) {
      if (i % 8 == 0) x = Mix(x);
      value[i] = static_cast<char>(x >> (8 * (i % 8)));
    }
    r.value = std::move(value);
  }
  if (offset % 4 == 0) r.headers.emplace_back("h", absl::StrCat(offset));
  if (offset % 31 == 3) r.headers.emplace_back("null", std::nullopt);
  r.timestamp = kBaseTimestamp + offset * 10 + static_cast<int64_t>((h >> 16) % 20001) - 10000;
  return r;
}

absl::StatusOr<std::span<const char>> BuildBatch(BatchBuilder& builder, int64_t first, int count) {
  builder.Reset();
  for (int64_t o = first; o < first + count; ++o) {
    const OwnedRecord record = RecordAt(o);
    builder.Add(record.view(), record.timestamp);
  }
  return builder.Finish();
}

absl::Status AppendRecords(PartitionLog& log, int64_t count, std::mt19937_64& rng,
                           int max_batch_records) {
  BatchBuilder builder;
  int64_t next = log.end_offset();
  const int64_t end = next + count;
  while (next < end) {
    int n = static_cast<int>(
        std::min<int64_t>(end - next, 1 + static_cast<int64_t>(rng() % max_batch_records)));
    ASSIGN_OR_RETURN(std::span<const char> batch, BuildBatch(builder, next, n));
    while (batch.size() > kMaxTestBatchBytes && n > 1) {
      n /= 2;
      ASSIGN_OR_RETURN(batch, BuildBatch(builder, next, n));
    }
    ASSIGN_OR_RETURN(const AppendResult result, log.Append(batch));
    if (result.base_offset != next || result.last_offset != next + n - 1) {
      return absl::InternalError(absl::StrFormat("appending [%d, %d] got offsets [%d, %d]", next,
                                                 next + n - 1, result.base_offset,
                                                 result.last_offset));
    }
    next += n;
  }
  return absl::OkStatus();
}

absl::Status VerifyLog(const PartitionLog& log, int64_t from, int64_t end,
                       const VerifyOptions& options) {
  if (options.at_end && log.end_offset() != end) {
    return absl::InternalError(
        absl::StrFormat("end_offset() is %d, expected %d", log.end_offset(), end));
  }
  BatchReader reader;
  int64_t next = from;
  while (next < end) {
    absl::StatusOr<ReadResult> read = log.Read(next, 256 << 10);
    if (!read.ok()) {
      return absl::Status(read.status().code(),
                          absl::StrCat("Read(", next, "): ", read.status().message()));
    }
    if (read->batches.empty()) {
      return absl::InternalError(
          absl::StrFormat("Read(%d) found nothing before end %d", next, end));
    }
    std::span<const char> rest = read->batches;
    while (!rest.empty() && next < end) {
      BatchHeader h;
      if (absl::Status s = CheckBatch(rest, &h); !s.ok()) {
        return absl::Status(s.code(),
                            absl::StrCat("batch read at offset ", next, ": ", s.message()));
      }
      if (h.base_offset > next || h.last_offset() < next) {
        return absl::InternalError(
            absl::StrFormat("expected the batch holding offset %d, got one of [%d, %d]", next,
                            h.base_offset, h.last_offset()));
      }
      reader.Clear();
      detail::RecordDecoder decoder;
      RETURN_IF_ERROR(reader.Open(rest.first(h.size()), h, &decoder));
      RecordView record;
      while (decoder.Next(&record)) {
        if (record.offset() < next) continue;  // Before `from`, in the first batch.
        if (record.offset() >= end) break;     // Appended since `end` was taken.
        if (record.offset() != next) {
          return absl::InternalError(
              absl::StrFormat("expected offset %d, found %d", next, record.offset()));
        }
        OwnedRecord expected = RecordAt(next);
        if (!options.timestamps) expected.timestamp = record.timestamp();
        if (!Matches(record, expected)) {
          return absl::InternalError(absl::StrFormat("record at offset %d differs", next));
        }
        ++next;
      }
      if (decoder.error() != nullptr) return RecordError(decoder, h);
      rest = rest.subspan(h.size());
    }
  }
  if (next != end) {
    return absl::InternalError(absl::StrFormat("read up to offset %d, expected %d", next, end));
  }
  if (!options.at_end) return absl::OkStatus();
  absl::StatusOr<ReadResult> tail = log.Read(end, 1);
  if (!tail.ok() || !tail->batches.empty()) {
    return absl::InternalError(absl::StrCat("Read(end) is not empty: ", tail.status().ToString()));
  }
  return absl::OkStatus();
}

int64_t ExpectedOffsetForTimestamp(int64_t from, int64_t end, int64_t ts) {
  for (int64_t o = from; o < end; ++o) {
    if (RecordAt(o).timestamp >= ts) return o;
  }
  return end;
}

}  // namespace rill::testing
