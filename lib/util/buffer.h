// Buffer: a growable byte buffer that never zero-fills, for encoders that
// reuse one allocation across many batches. Not thread-safe.
#ifndef RILL_LIB_UTIL_BUFFER_H_
#define RILL_LIB_UTIL_BUFFER_H_

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace rill {

class Buffer {
 public:
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& other) noexcept { *this = std::move(other); }
  Buffer& operator=(Buffer&& other) noexcept {
    data_ = std::move(other.data_);
    size_ = other.size_;
    capacity_ = other.capacity_;
    other.size_ = other.capacity_ = 0;
    return *this;
  }

  char* data() { return data_.get(); }
  const char* data() const { return data_.get(); }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  std::span<const char> span() const { return {data_.get(), size_}; }
  std::string_view view() const { return {data_.get(), size_}; }

  // clear(): size becomes 0; the allocation is kept.
  void clear() { size_ = 0; }

  // Reserve(n): makes room for n more bytes and returns where they go. The
  // bytes count only after Commit(n). Pointers into the buffer are invalidated.
  char* Reserve(size_t n) {
    if (capacity_ - size_ < n) Grow(size_ + n);
    return data_.get() + size_;
  }
  void Commit(size_t n) { size_ += n; }

  // Append(p, n): copies n bytes to the end.
  void Append(const void* p, size_t n) {
    if (n == 0) return;
    std::memcpy(Reserve(n), p, n);
    size_ += n;
  }
  void Append(std::string_view s) { Append(s.data(), s.size()); }

  // Resize(n): sets the size; new bytes are left uninitialised.
  void Resize(size_t n) {
    if (n > capacity_) Grow(n);
    size_ = n;
  }

 private:
  void Grow(size_t need) {
    size_t cap = capacity_ < 256 ? 256 : capacity_;
    while (cap < need) cap *= 2;
    std::unique_ptr<char[]> bigger(new char[cap]);
    if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    capacity_ = cap;
  }

  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace rill

#endif  // RILL_LIB_UTIL_BUFFER_H_
