// Fuzz target: the batch decoder. The first input byte picks a mode: even,
// the rest is checked as it is; odd, batchLength and the CRC are first made
// to match, so that mutations reach the decompressors and the record decoder.
// Whatever is accepted must decode to consistent records.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "format/batch_format.h"
#include "format/batch_header.h"
#include "format/batch_reader.h"
#include "util/endian.h"

namespace {

// Check(ok): aborts, saying which check failed, so libFuzzer keeps the input.
#define Check(ok) CheckAt(ok, #ok, __LINE__)
void CheckAt(bool ok, const char* what, int line) {
  if (ok) return;
  std::fprintf(stderr, "check failed at line %d: %s\n", line, what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool fix_up = (data[0] & 1) != 0;
  // An exact-size copy, so that any read past the end is caught by ASan.
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  if (fix_up && bytes.size() >= rill::batch::kHeaderSize) {
    rill::StoreBigEndian(bytes.data() + rill::batch::kBatchLengthPos,
                         static_cast<int32_t>(bytes.size() - rill::batch::kLogOverhead));
    rill::StoreBigEndian(bytes.data() + rill::batch::kCrcPos,
                         rill::ComputeBatchCrc({bytes.data(), bytes.size()}));
  }
  char* exact = static_cast<char*>(std::malloc(bytes.size() + 1));
  std::memcpy(exact, bytes.data(), bytes.size());
  const std::span<const char> batch(exact, bytes.size());

  rill::BatchHeader h;
  if (rill::CheckBatch(batch, &h).ok()) {
    Check(h.size() <= batch.size());
    rill::BatchReader reader(1 << 20);
    rill::detail::RecordDecoder decoder;
    if (reader.Open(batch.first(h.size()), h, &decoder).ok()) {
      rill::RecordView r;
      int64_t last = -1;
      int32_t count = 0;
      uint64_t sum = 0;
      while (decoder.Next(&r)) {
        Check(r.offset() > last && r.offset() <= h.last_offset() && r.offset() >= h.base_offset);
        last = r.offset();
        ++count;
        for (char c : r.key()) sum += static_cast<uint8_t>(c);
        for (char c : r.value()) sum += static_cast<uint8_t>(c);
        for (const rill::Header& header : r.headers()) {
          sum += header.key.size() + (header.value ? header.value->size() : 0);
        }
      }
      if (decoder.error() == nullptr) Check(count == h.records_count);
      (void)sum;
    }
  }
  std::free(exact);
  return 0;
}
