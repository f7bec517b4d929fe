#include "format/compression.h"

#include <lz4frame.h>
#include <zstd.h>

#include "absl/strings/str_format.h"

namespace rill {

bool CompressionSupported(Compression c) {
  return c == Compression::kNone || c == Compression::kLz4 || c == Compression::kZstd;
}

struct Compressor::Contexts {
  ZSTD_CCtx* zstd = nullptr;
};

Compressor::Compressor() : contexts_(new Contexts) {}
Compressor::~Compressor() {
  ZSTD_freeCCtx(contexts_->zstd);
  delete contexts_;
}

absl::Status Compressor::Compress(Compression c, std::string_view in, int level, Buffer* out) {
  switch (c) {
    case Compression::kNone:
      out->Append(in);
      return absl::OkStatus();
    case Compression::kLz4: {
      // Kafka's framing: LZ4 frame, 64 KiB independent blocks, no checksums
      // beyond the frame header's own.
      LZ4F_preferences_t prefs = LZ4F_INIT_PREFERENCES;
      prefs.frameInfo.blockSizeID = LZ4F_max64KB;
      prefs.frameInfo.blockMode = LZ4F_blockIndependent;
      prefs.compressionLevel = level;
      const size_t bound = LZ4F_compressFrameBound(in.size(), &prefs);
      char* dst = out->Reserve(bound);
      const size_t n = LZ4F_compressFrame(dst, bound, in.data(), in.size(), &prefs);
      if (LZ4F_isError(n)) {
        return absl::InternalError(absl::StrFormat("lz4 compression failed: %s", LZ4F_getErrorName(n)));
      }
      out->Commit(n);
      return absl::OkStatus();
    }
    case Compression::kZstd: {
      if (contexts_->zstd == nullptr) contexts_->zstd = ZSTD_createCCtx();
      const size_t bound = ZSTD_compressBound(in.size());
      char* dst = out->Reserve(bound);
      const size_t n = ZSTD_compressCCtx(contexts_->zstd, dst, bound, in.data(), in.size(),
                                         level == 0 ? 3 : level);
      if (ZSTD_isError(n)) {
        return absl::InternalError(absl::StrFormat("zstd compression failed: %s", ZSTD_getErrorName(n)));
      }
      out->Commit(n);
      return absl::OkStatus();
    }
    case Compression::kGzip:
    case Compression::kSnappy:
      break;
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "rill does not write %s batches (it writes none, lz4 and zstd)", CompressionName(c)));
}

struct Decompressor::Contexts {
  LZ4F_dctx* lz4 = nullptr;
  ZSTD_DCtx* zstd = nullptr;
};

Decompressor::Decompressor() : contexts_(new Contexts) {}
Decompressor::~Decompressor() {
  if (contexts_->lz4 != nullptr) LZ4F_freeDecompressionContext(contexts_->lz4);
  ZSTD_freeDCtx(contexts_->zstd);
  delete contexts_;
}

namespace {

// Output grows in steps of this much, capped by the caller's max_size.
constexpr size_t kOutputStep = 64 << 10;

// OutputRoom(used, max_size): room to give the codec for its next output,
// `used` (at most max_size) bytes having been written. One byte past
// max_size is allowed: a codec that fills it proves the stream expands past
// the limit, while one that stops short of it has ended within the limit --
// which a full buffer alone cannot tell.
size_t OutputRoom(size_t used, size_t max_size) {
  const size_t left = max_size - used;
  return left < kOutputStep ? left + 1 : kOutputStep;
}

absl::Status TooLarge(Compression c, size_t max_size) {
  return absl::DataLossError(absl::StrFormat(
      "%s records expand past the %d-byte limit", CompressionName(c), max_size));
}

}  // namespace

absl::Status Decompressor::Decompress(Compression c, std::string_view in, size_t max_size,
                                      Buffer* out) {
  const size_t start = out->size();
  absl::Status s = DecompressAppend(c, in, max_size, out);
  if (!s.ok()) out->Resize(start);
  return s;
}

absl::Status Decompressor::DecompressAppend(Compression c, std::string_view in, size_t max_size,
                                            Buffer* out) {
  const size_t start = out->size();
  switch (c) {
    case Compression::kNone:
      if (in.size() > max_size) return TooLarge(c, max_size);
      out->Append(in);
      return absl::OkStatus();
    case Compression::kLz4: {
      if (contexts_->lz4 == nullptr &&
          LZ4F_isError(LZ4F_createDecompressionContext(&contexts_->lz4, LZ4F_VERSION))) {
        return absl::InternalError("cannot create an lz4 decompression context");
      }
      LZ4F_resetDecompressionContext(contexts_->lz4);
      const char* src = in.data();
      size_t src_left = in.size();
      size_t hint = 1;
      while (src_left > 0) {
        const size_t room = OutputRoom(out->size() - start, max_size);
        char* dst = out->Reserve(room);
        size_t dst_size = room;
        size_t src_size = src_left;
        hint = LZ4F_decompress(contexts_->lz4, dst, &dst_size, src, &src_size, nullptr);
        if (LZ4F_isError(hint)) {
          return absl::DataLossError(absl::StrFormat("lz4 records are corrupt: %s",
                                                     LZ4F_getErrorName(hint)));
        }
        out->Commit(dst_size);
        if (out->size() - start > max_size) return TooLarge(c, max_size);
        src += src_size;
        src_left -= src_size;
        if (src_size == 0 && dst_size == 0) break;  // No progress: the input is cut short.
      }
      if (hint != 0) return absl::DataLossError("lz4 records end in the middle of a frame");
      return absl::OkStatus();
    }
    case Compression::kZstd: {
      if (contexts_->zstd == nullptr) contexts_->zstd = ZSTD_createDCtx();
      ZSTD_DCtx_reset(contexts_->zstd, ZSTD_reset_session_only);
      ZSTD_inBuffer input{in.data(), in.size(), 0};
      size_t ret = 1;
      while (input.pos < input.size || ret != 0) {
        const size_t room = OutputRoom(out->size() - start, max_size);
        ZSTD_outBuffer output{out->Reserve(room), room, 0};
        const size_t in_before = input.pos;
        ret = ZSTD_decompressStream(contexts_->zstd, &output, &input);
        if (ZSTD_isError(ret)) {
          return absl::DataLossError(absl::StrFormat("zstd records are corrupt: %s",
                                                     ZSTD_getErrorName(ret)));
        }
        out->Commit(output.pos);
        if (out->size() - start > max_size) return TooLarge(c, max_size);
        if (output.pos == 0 && input.pos == in_before) {
          if (ret != 0) return absl::DataLossError("zstd records end in the middle of a frame");
          break;
        }
      }
      return absl::OkStatus();
    }
    case Compression::kGzip:
    case Compression::kSnappy:
      break;
  }
  return absl::UnimplementedError(absl::StrFormat(
      "cannot read %s batches (rill reads none, lz4 and zstd)", CompressionName(c)));
}

}  // namespace rill
