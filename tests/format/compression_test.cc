// Tests of the codecs of batch records: round trips, the frames Kafka
// expects on the wire, refusal of corrupt and oversized input, and frames
// that other LZ4 writers (Kafka clients) may produce.
#include "format/compression.h"

#include <lz4.h>
#include <lz4frame.h>
#include <zstd.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "testutil/batch_util.h"
#include "testutil/random_records.h"

namespace rill {
namespace {

using testing::kWrittenCodecs;

std::string Compress(Compression c, std::string_view in, int level = 0) {
  Compressor compressor;
  Buffer out;
  const absl::Status s = compressor.Compress(c, in, level, &out);
  REQUIRE(s.ok());
  return std::string(out.view());
}

// Decompress(c, in, max_size, &out): decompresses `in` (copied to an
// allocation of its exact size) into `out`.
absl::Status Decompress(Compression c, std::string_view in, size_t max_size, std::string* out) {
  Decompressor decompressor;
  Buffer buffer;
  const testing::ExactBytes exact(in);
  const absl::Status s = decompressor.Decompress(
      c, std::string_view(exact.span().data(), exact.size()), max_size, &buffer);
  out->assign(buffer.view());
  return s;
}

// Lines of JSON such as producers send: compressible, as real payloads are.
std::string JsonLike(std::mt19937_64& rng, size_t n) {
  std::string s;
  while (s.size() < n) {
    s += R"({"user":)" + std::to_string(rng() % 100000) + R"(,"event":"page_view","path":"/p/)" +
         std::to_string(rng() % 500) + R"(","ms":)" + std::to_string(rng() % 2000) + "}\n";
  }
  s.resize(n);
  return s;
}

// Load32Le(p): the little-endian 32-bit integer at p, as LZ4 and zstd write.
uint32_t Load32Le(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// CompressLz4Frame(in, prefs): a frame written by liblz4 itself with the
// given preferences, as another Kafka client may write it.
std::string CompressLz4Frame(std::string_view in, const LZ4F_preferences_t& prefs) {
  std::string out(LZ4F_compressFrameBound(in.size(), &prefs), '\0');
  const size_t n = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), &prefs);
  REQUIRE_FALSE(LZ4F_isError(n));
  out.resize(n);
  return out;
}

// Lz4Blocks(frame): the decompressed contents of each block of an LZ4 frame
// with no options beyond independent blocks, each block decoded on its own
// (no dictionary), or an empty vector if a block cannot be decoded alone.
std::vector<std::string> Lz4Blocks(const std::string& frame) {
  std::vector<std::string> blocks;
  size_t pos = 7;  // Magic, FLG, BD, header checksum.
  while (true) {
    REQUIRE(pos + 4 <= frame.size());
    const uint32_t word = Load32Le(frame.data() + pos);
    pos += 4;
    if (word == 0) break;  // EndMark.
    const uint32_t size = word & 0x7fffffffu;
    REQUIRE(pos + size <= frame.size());
    if ((word & 0x80000000u) != 0) {  // Stored uncompressed.
      blocks.emplace_back(frame.data() + pos, size);
    } else {
      std::string block(64 << 10, '\0');
      const int n = LZ4_decompress_safe(frame.data() + pos, block.data(), static_cast<int>(size),
                                        static_cast<int>(block.size()));
      if (n < 0) return {};
      block.resize(static_cast<size_t>(n));
      blocks.push_back(std::move(block));
    }
    pos += size;
  }
  CHECK(pos == frame.size());
  return blocks;
}

TEST_CASE("Every codec round trips inputs of every size", "[compression]") {
  std::mt19937_64 rng(1);
  for (size_t n : {0, 1, 100, 65535, 65536, 65537, (1 << 20) + 3}) {
    for (const std::string& data : {testing::RandomBytes(rng, n), JsonLike(rng, n)}) {
      for (Compression c : kWrittenCodecs) {
        CAPTURE(CompressionName(c), n);
        const std::string compressed = Compress(c, data);
        std::string out;
        REQUIRE(Decompress(c, compressed, data.size(), &out).ok());
        REQUIRE(out == data);
      }
    }
  }
}

TEST_CASE("Decompress appends to what the buffer holds", "[compression]") {
  std::mt19937_64 rng(2);
  const std::string data = JsonLike(rng, 200000);
  for (Compression c : kWrittenCodecs) {
    CAPTURE(CompressionName(c));
    Decompressor decompressor;
    Buffer out;
    out.Append("prefix");
    REQUIRE(decompressor.Decompress(c, Compress(c, data), data.size(), &out).ok());
    CHECK(out.view() == "prefix" + data);
  }
}

TEST_CASE("Decompression refuses output one byte past max_size", "[compression]") {
  std::mt19937_64 rng(3);
  for (size_t n : {1, 1000, 65536, 65537, 300000}) {
    const std::string data = JsonLike(rng, n);
    for (Compression c : kWrittenCodecs) {
      CAPTURE(CompressionName(c), n);
      const std::string compressed = Compress(c, data);
      std::string out;
      CHECK(Decompress(c, compressed, n, &out).ok());
      const absl::Status s = Decompress(c, compressed, n - 1, &out);
      CHECK(s.code() == absl::StatusCode::kDataLoss);
      CHECK(out.empty());  // Nothing is left appended on failure.
    }
  }
}

TEST_CASE("lz4 writes an LZ4 frame of 64 KiB independent blocks", "[compression]") {
  std::mt19937_64 rng(4);
  // Repetitive text, so that a block could refer back into the one before it.
  const std::string data = JsonLike(rng, (1 << 20) + 1000);
  const std::string frame = Compress(Compression::kLz4, data);
  REQUIRE(frame.size() > 7);
  CHECK(Load32Le(frame.data()) == 0x184D2204u);
  const uint8_t flg = static_cast<uint8_t>(frame[4]);
  const uint8_t bd = static_cast<uint8_t>(frame[5]);
  CHECK((flg >> 6) == 1);          // Version 01.
  CHECK((flg & 0x20) != 0);        // Blocks are independent.
  CHECK((flg & 0x10) == 0);        // No block checksums.
  CHECK((flg & 0x08) == 0);        // No content size.
  CHECK((flg & 0x04) == 0);        // No content checksum.
  CHECK((flg & 0x03) == 0);        // Reserved bit and no dictionary ID.
  CHECK(((bd >> 4) & 0x07) == 4);  // Block maximum size: 64 KiB.
  CHECK((bd & 0x8f) == 0);         // Reserved bits.
  // Each block decodes with no dictionary, into 64 KiB but for the last.
  const std::vector<std::string> blocks = Lz4Blocks(frame);
  REQUIRE(blocks.size() == data.size() / (64 << 10) + 1);
  std::string joined;
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (i + 1 < blocks.size()) CHECK(blocks[i].size() == 64u << 10);
    joined += blocks[i];
  }
  CHECK(joined == data);
}

TEST_CASE("The block check tells linked LZ4 blocks from independent ones", "[compression]") {
  std::mt19937_64 rng(5);
  const std::string data = JsonLike(rng, 1 << 20);
  LZ4F_preferences_t prefs = LZ4F_INIT_PREFERENCES;
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockLinked;
  CHECK(Lz4Blocks(CompressLz4Frame(data, prefs)).empty());
}

TEST_CASE("zstd writes a standard zstd frame", "[compression]") {
  std::mt19937_64 rng(6);
  const std::string data = JsonLike(rng, 500000);
  const std::string frame = Compress(Compression::kZstd, data);
  CHECK(Load32Le(frame.data()) == 0xFD2FB528u);
  CHECK(ZSTD_findFrameCompressedSize(frame.data(), frame.size()) == frame.size());
  CHECK(ZSTD_getFrameContentSize(frame.data(), frame.size()) == data.size());
}

TEST_CASE("Codec levels other than the default still round trip", "[compression]") {
  std::mt19937_64 rng(7);
  const std::string data = JsonLike(rng, 300000);
  for (auto [c, level] : {std::pair{Compression::kLz4, 9}, std::pair{Compression::kLz4, -5},
                          std::pair{Compression::kZstd, 19}, std::pair{Compression::kZstd, -5}}) {
    CAPTURE(CompressionName(c), level);
    std::string out;
    REQUIRE(Decompress(c, Compress(c, data, level), data.size(), &out).ok());
    CHECK(out == data);
  }
}

TEST_CASE("Truncated frames are refused with kDataLoss", "[compression]") {
  std::mt19937_64 rng(8);
  // Two blocks, each cut inside and at its edges.
  const std::string data = JsonLike(rng, 100000);
  for (Compression c : {Compression::kLz4, Compression::kZstd}) {
    const std::string frame = Compress(c, data);
    for (size_t cut = 0; cut < frame.size(); ++cut) {
      CAPTURE(CompressionName(c), cut);
      std::string out;
      REQUIRE(Decompress(c, std::string_view(frame).substr(0, cut), data.size(), &out).code() ==
              absl::StatusCode::kDataLoss);
    }
  }
}

TEST_CASE("Corrupt frames are refused with kDataLoss", "[compression]") {
  std::mt19937_64 rng(9);
  const std::string data = JsonLike(rng, 100000);
  for (Compression c : {Compression::kLz4, Compression::kZstd}) {
    CAPTURE(CompressionName(c));
    const std::string frame = Compress(c, data);
    std::string out;
    std::string bad = frame;
    bad[0] ^= 1;  // Magic.
    CHECK(Decompress(c, bad, data.size(), &out).code() == absl::StatusCode::kDataLoss);
    bad = frame;
    bad[4] ^= 0x40;  // Frame descriptor: lz4's FLG version, zstd's frame header.
    CHECK(Decompress(c, bad, data.size(), &out).code() == absl::StatusCode::kDataLoss);
    CHECK(Decompress(c, frame + "trailing", data.size(), &out).code() ==
          absl::StatusCode::kDataLoss);
    for (int i = 0; i < 50; ++i) {
      CHECK(Decompress(c, testing::RandomBytes(rng, 1 + rng() % 3000), data.size(), &out).code() ==
            absl::StatusCode::kDataLoss);
    }
  }
  // lz4's header checksum and a block size past the frame's maximum.
  const std::string frame = Compress(Compression::kLz4, data);
  std::string out;
  std::string bad = frame;
  bad[6] ^= 1;
  CHECK(Decompress(Compression::kLz4, bad, data.size(), &out).code() ==
        absl::StatusCode::kDataLoss);
  bad = frame;
  bad[7 + 2] = 0x10;  // First block's size: 1 MiB and more.
  CHECK(Decompress(Compression::kLz4, bad, data.size(), &out).code() ==
        absl::StatusCode::kDataLoss);
}

TEST_CASE("Checksummed frames with corrupt contents are refused with kDataLoss", "[compression]") {
  std::mt19937_64 rng(10);
  const std::string data = testing::RandomBytes(rng, 10000);  // Stored as literals.
  std::string out;
  LZ4F_preferences_t prefs = LZ4F_INIT_PREFERENCES;
  prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
  std::string lz4 = CompressLz4Frame(data, prefs);
  lz4[lz4.size() / 2] ^= 0x01;
  CHECK(Decompress(Compression::kLz4, lz4, data.size(), &out).code() ==
        absl::StatusCode::kDataLoss);
  prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
  prefs.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled;
  lz4 = CompressLz4Frame(data, prefs);
  lz4[lz4.size() / 2] ^= 0x01;
  CHECK(Decompress(Compression::kLz4, lz4, data.size(), &out).code() ==
        absl::StatusCode::kDataLoss);

  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  REQUIRE(cctx != nullptr);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  std::string zstd(ZSTD_compressBound(data.size()), '\0');
  const size_t n = ZSTD_compress2(cctx, zstd.data(), zstd.size(), data.data(), data.size());
  ZSTD_freeCCtx(cctx);
  REQUIRE_FALSE(ZSTD_isError(n));
  zstd.resize(n);
  zstd[zstd.size() / 2] ^= 0x01;
  CHECK(Decompress(Compression::kZstd, zstd, data.size(), &out).code() ==
        absl::StatusCode::kDataLoss);
}

TEST_CASE("A decompression bomb stops at max_size with kDataLoss", "[compression]") {
  const std::string zeros(10 << 20, '\0');
  const size_t max_size = 1 << 20;
  for (Compression c : {Compression::kLz4, Compression::kZstd}) {
    CAPTURE(CompressionName(c));
    const std::string bomb = Compress(c, zeros);
    CHECK(bomb.size() < (100u << 10));
    Decompressor decompressor;
    Buffer out;
    out.Append("x");
    const absl::Status s = decompressor.Decompress(c, bomb, max_size, &out);
    CHECK(s.code() == absl::StatusCode::kDataLoss);
    CHECK_THAT(std::string(s.message()), Catch::Contains("limit"));
    // What was there is kept, nothing is appended, and no memory was
    // reserved for output past the limit.
    CHECK(out.view() == "x");
    CHECK(out.capacity() <= 2 * max_size);
  }
}

TEST_CASE("A Decompressor decodes again after refusing corrupt input", "[compression]") {
  std::mt19937_64 rng(11);
  const std::string data = JsonLike(rng, 150000);
  for (Compression c : {Compression::kLz4, Compression::kZstd}) {
    CAPTURE(CompressionName(c));
    const std::string frame = Compress(c, data);
    Decompressor decompressor;
    for (const std::string& bad : {frame.substr(0, frame.size() / 2), "x" + frame}) {
      Buffer out;
      REQUIRE_FALSE(decompressor.Decompress(c, bad, data.size(), &out).ok());
      out.clear();
      REQUIRE(decompressor.Decompress(c, frame, data.size(), &out).ok());
      CHECK(out.view() == data);
    }
  }
}

TEST_CASE("gzip snappy and unknown codecs are refused", "[compression]") {
  for (int code : {1, 2, 5, 7}) {
    const Compression c = static_cast<Compression>(code);
    CAPTURE(code);
    CHECK_FALSE(CompressionSupported(c));
    Compressor compressor;
    Decompressor decompressor;
    Buffer out;
    CHECK(compressor.Compress(c, "data", 0, &out).code() == absl::StatusCode::kInvalidArgument);
    CHECK(decompressor.Decompress(c, "data", 100, &out).code() == absl::StatusCode::kUnimplemented);
    CHECK(out.empty());
  }
  for (Compression c : kWrittenCodecs) CHECK(CompressionSupported(c));
}

TEST_CASE("LZ4 frames written with other settings decode", "[compression]") {
  std::mt19937_64 rng(12);
  std::string data = JsonLike(rng, 700000);
  data += testing::RandomBytes(rng, 200000);  // Incompressible: stored blocks.
  struct Settings {
    const char* name;
    LZ4F_blockSizeID_t block_size;
    LZ4F_blockMode_t mode;
    bool content_checksum;
    bool block_checksum;
    bool content_size;
    int level;
  };
  const Settings all[] = {
      {"linked 64 KiB", LZ4F_max64KB, LZ4F_blockLinked, false, false, false, 0},
      {"checksums", LZ4F_max64KB, LZ4F_blockIndependent, true, true, false, 0},
      {"linked with checksums and size", LZ4F_max256KB, LZ4F_blockLinked, true, true, true, 0},
      {"4 MiB blocks high compression", LZ4F_max4MB, LZ4F_blockLinked, true, false, true, 9},
      {"1 MiB blocks", LZ4F_max1MB, LZ4F_blockIndependent, false, true, false, 1},
  };
  for (const Settings& s : all) {
    CAPTURE(s.name);
    LZ4F_preferences_t prefs = LZ4F_INIT_PREFERENCES;
    prefs.frameInfo.blockSizeID = s.block_size;
    prefs.frameInfo.blockMode = s.mode;
    prefs.frameInfo.contentChecksumFlag =
        s.content_checksum ? LZ4F_contentChecksumEnabled : LZ4F_noContentChecksum;
    prefs.frameInfo.blockChecksumFlag =
        s.block_checksum ? LZ4F_blockChecksumEnabled : LZ4F_noBlockChecksum;
    prefs.frameInfo.contentSize = s.content_size ? data.size() : 0;
    prefs.compressionLevel = s.level;
    std::string out;
    REQUIRE(Decompress(Compression::kLz4, CompressLz4Frame(data, prefs), data.size(), &out).ok());
    CHECK(out == data);
  }
}

TEST_CASE("A streamed LZ4 frame of small flushed linked blocks decodes", "[compression]") {
  std::mt19937_64 rng(13);
  const std::string data = JsonLike(rng, 300000);
  LZ4F_cctx* cctx = nullptr;
  REQUIRE_FALSE(LZ4F_isError(LZ4F_createCompressionContext(&cctx, LZ4F_VERSION)));
  LZ4F_preferences_t prefs = LZ4F_INIT_PREFERENCES;
  prefs.frameInfo.blockMode = LZ4F_blockLinked;
  prefs.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled;
  prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
  const size_t piece = 1000;
  std::string frame(LZ4F_HEADER_SIZE_MAX + LZ4F_compressBound(piece, &prefs), '\0');
  size_t pos = LZ4F_compressBegin(cctx, frame.data(), frame.size(), &prefs);
  REQUIRE_FALSE(LZ4F_isError(pos));
  for (size_t i = 0; i < data.size(); i += piece) {
    const size_t n = std::min(piece, data.size() - i);
    frame.resize(pos + LZ4F_compressBound(n, &prefs));
    size_t w = LZ4F_compressUpdate(cctx, frame.data() + pos, frame.size() - pos, data.data() + i, n,
                                   nullptr);
    REQUIRE_FALSE(LZ4F_isError(w));
    pos += w;
    // Flush every few pieces: many small blocks, each linked to the last.
    if ((i / piece) % 7 == 0) {
      w = LZ4F_flush(cctx, frame.data() + pos, frame.size() - pos, nullptr);
      REQUIRE_FALSE(LZ4F_isError(w));
      pos += w;
    }
  }
  frame.resize(pos + LZ4F_compressBound(0, &prefs));
  const size_t w = LZ4F_compressEnd(cctx, frame.data() + pos, frame.size() - pos, nullptr);
  REQUIRE_FALSE(LZ4F_isError(w));
  frame.resize(pos + w);
  LZ4F_freeCompressionContext(cctx);
  std::string out;
  REQUIRE(Decompress(Compression::kLz4, frame, data.size(), &out).ok());
  CHECK(out == data);
}

}  // namespace
}  // namespace rill
