#include "cli/file_reader.h"

#include <algorithm>

namespace rill::cli {
namespace {
// Bytes read at a time: batches are walked in order, so most reads are
// served from the window.
constexpr size_t kWindow = 1 << 20;
}  // namespace

absl::StatusOr<std::unique_ptr<FileReader>> FileReader::Open(const std::string& path) {
  absl::StatusOr<std::unique_ptr<File>> file =
      FileSystem::Default()->OpenFile(path, OpenMode::kRead);
  if (!file.ok()) return file.status();
  absl::StatusOr<uint64_t> size = (*file)->Size();
  if (!size.ok()) return size.status();
  return std::unique_ptr<FileReader>(new FileReader(*std::move(file), *size));
}

absl::StatusOr<std::span<const char>> FileReader::Read(uint64_t position, size_t n) {
  if (position >= size_) return std::span<const char>();
  n = static_cast<size_t>(std::min<uint64_t>(n, size_ - position));
  if (position < window_start_ || position + n > window_start_ + window_size_) {
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(std::max(n, kWindow), size_ - position));
    if (window_.size() < want) window_.resize(want);
    absl::StatusOr<size_t> got = file_->ReadAt(position, want, window_.data());
    if (!got.ok()) return got.status();
    window_start_ = position;
    window_size_ = *got;
    // The file shrank under us: serve what is there.
    n = std::min(n, window_size_);
  }
  return std::span<const char>(window_.data() + (position - window_start_), n);
}

absl::StatusOr<bool> FileReader::AllZero(uint64_t from) {
  while (from < size_) {
    absl::StatusOr<std::span<const char>> bytes = Read(from, kWindow);
    if (!bytes.ok()) return bytes.status();
    if (bytes->empty()) break;
    if (std::any_of(bytes->begin(), bytes->end(), [](char c) { return c != 0; })) return false;
    from += bytes->size();
  }
  return true;
}

absl::Status FileReader::Refresh() {
  absl::StatusOr<uint64_t> size = file_->Size();
  if (!size.ok()) return size.status();
  size_ = *size;
  window_size_ = 0;
  return absl::OkStatus();
}

}  // namespace rill::cli
