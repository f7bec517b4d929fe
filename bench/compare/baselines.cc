#include "baselines.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "env.h"
#include "stats.h"

namespace rill::bench {
namespace {

absl::Status Errno(const char* what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// A file descriptor closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::vector<char> RandomBytes(size_t n) {
  std::vector<char> v(n);
  std::mt19937_64 rng(3);
  for (size_t i = 0; i + 8 <= n; i += 8) {
    const uint64_t w = rng();
    std::memcpy(v.data() + i, &w, 8);
  }
  return v;
}

}  // namespace

absl::StatusOr<Metrics> RunFreshMappingCopy(const RunEnv& env, uint64_t bytes, FreshMapping how) {
  constexpr size_t kStep = 1 << 20;
  bytes = (bytes + kStep - 1) / kStep * kStep;
  const std::vector<char> source = RandomBytes(kStep);
  const std::string path = env.dir + "/fresh";

  const int64_t start = NowNs();
  Fd fd(open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) return Errno("open");
  const int rc = how == FreshMapping::kFtruncate
                     ? ftruncate(fd.get(), static_cast<off_t>(bytes))
                     : fallocate(fd.get(), 0, 0, static_cast<off_t>(bytes));
  if (rc != 0) return Errno(how == FreshMapping::kFtruncate ? "ftruncate" : "fallocate");
  void* map = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (map == MAP_FAILED) return Errno("mmap");
  char* data = static_cast<char*>(map);
  std::atomic<uint64_t> populated{how == FreshMapping::kPrefaultThread ? 0 : bytes};
  std::atomic<bool> populate_failed{false};
  std::thread prefaulter;
  if (how == FreshMapping::kPrefaultThread) {
    prefaulter = std::thread([&] {
      for (uint64_t off = 0; off < bytes; off += kStep) {
        if (madvise(data + off, kStep, MADV_POPULATE_WRITE) != 0) populate_failed = true;
        populated.store(off + kStep, std::memory_order_release);
      }
    });
  }
  for (uint64_t off = 0; off < bytes; off += kStep) {
    while (populated.load(std::memory_order_acquire) < off + kStep) CpuRelax();
    std::memcpy(data + off, source.data(), kStep);
  }
  const int64_t copied = NowNs();
  if (prefaulter.joinable()) prefaulter.join();
  if (populate_failed) return Errno("madvise(MADV_POPULATE_WRITE)");

  uint64_t a = 0, b = 0;
  for (uint64_t off = 0; off < bytes; off += 8) {
    uint64_t w;
    std::memcpy(&w, data + off, 8);
    a += w;
    b += a;
  }
  const int64_t read = NowNs();
  munmap(map, bytes);
  if (a == 0 && b == 0) return absl::InternalError("the copy read back as zeros");
  return Metrics{
      {kWriteBytesRate, static_cast<double>(bytes) * 1e9 / static_cast<double>(copied - start)},
      {kReadBytesRate, static_cast<double>(bytes) * 1e9 / static_cast<double>(read - copied)}};
}

absl::StatusOr<Metrics> RunFreshFileWrites(const RunEnv& env, uint64_t bytes) {
  constexpr size_t kStep = 1 << 20;
  const std::vector<char> source = RandomBytes(kStep);
  const std::string path = env.dir + "/written";
  const int64_t start = NowNs();
  Fd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) return Errno("open");
  for (uint64_t done = 0; done < bytes;) {
    const ssize_t n = write(fd.get(), source.data(), kStep);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("write");
    done += static_cast<uint64_t>(n);
  }
  const int64_t end = NowNs();
  return Metrics{
      {kWriteBytesRate, static_cast<double>(bytes) * 1e9 / static_cast<double>(end - start)}};
}

absl::StatusOr<Metrics> RunSyncedWrites(const RunEnv& env, int64_t count, size_t size) {
  const std::vector<char> block = RandomBytes(size);
  const std::string path = env.dir + "/synced";
  Fd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644));
  if (fd.get() < 0) return Errno("open");
  std::vector<int64_t> latencies;
  latencies.reserve(static_cast<size_t>(count));
  const int64_t start = NowNs();
  for (int64_t i = 0; i < count; ++i) {
    const int64_t t0 = NowNs();
    for (size_t done = 0; done < size;) {
      const ssize_t n = write(fd.get(), block.data() + done, size - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Errno("write");
      done += static_cast<size_t>(n);
    }
    if (fdatasync(fd.get()) != 0) return Errno("fdatasync");
    latencies.push_back(NowNs() - t0);
  }
  const double seconds = static_cast<double>(NowNs() - start) / 1e9;
  Metrics m = LatencyMetrics(latencies);
  m[kRate] = static_cast<double>(count) / seconds;
  m[kWriteBytesRate] = static_cast<double>(count) * static_cast<double>(size) / seconds;
  return m;
}

namespace {

// A bounded single-producer single-consumer ring of fixed-size slots.
class SpscRing : public Queue {
 public:
  absl::Status Send(std::string_view message) override {
    if (message.size() > kSlotBytes - sizeof(uint32_t)) {
      return absl::InvalidArgumentError("message larger than a ring slot");
    }
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    while (tail - head_.load(std::memory_order_acquire) == kSlots) CpuRelax();
    char* slot = slots_[tail % kSlots];
    const uint32_t size = static_cast<uint32_t>(message.size());
    std::memcpy(slot, &size, sizeof(size));
    std::memcpy(slot + sizeof(size), message.data(), size);
    tail_.store(tail + 1, std::memory_order_release);
    return absl::OkStatus();
  }

  absl::Status Receive(absl::FunctionRef<void(std::string_view)> on_message) override {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    uint64_t tail = tail_.load(std::memory_order_acquire);
    for (uint32_t spins = 0; tail == head; tail = tail_.load(std::memory_order_acquire)) {
      CpuRelax();
      if ((++spins & 0xffff) == 0 && spins > (1u << 28)) {
        return absl::DeadlineExceededError("nothing arrived");
      }
    }
    for (uint64_t i = head; i < tail; ++i) {
      const char* slot = slots_[i % kSlots];
      uint32_t size;
      std::memcpy(&size, slot, sizeof(size));
      on_message({slot + sizeof(size), size});
    }
    head_.store(tail, std::memory_order_release);
    return absl::OkStatus();
  }

 private:
  static constexpr size_t kSlots = 4096;
  static constexpr size_t kSlotBytes = 128;
  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) std::atomic<uint64_t> tail_{0};
  alignas(64) char slots_[kSlots][kSlotBytes];
};

void FutexWait(std::atomic<uint32_t>* word, uint32_t expected) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected, nullptr,
          nullptr, 0);
}

void FutexWake(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
          nullptr, 0);
}

}  // namespace

absl::StatusOr<Metrics> RunSpscLatency(const LatencyPlan& plan) {
  auto ring = std::make_unique<SpscRing>();
  return RunLatency(*ring, plan);
}

absl::StatusOr<Metrics> RunFutexRoundTrip(int64_t round_trips) {
  std::atomic<uint32_t> ping{0}, pong{0};
  std::thread responder([&] {
    for (uint32_t i = 1; i <= static_cast<uint32_t>(round_trips); ++i) {
      while (ping.load(std::memory_order_acquire) < i) FutexWait(&ping, i - 1);
      pong.store(i, std::memory_order_release);
      FutexWake(&pong);
    }
  });
  std::vector<int64_t> latencies;
  latencies.reserve(static_cast<size_t>(round_trips));
  for (uint32_t i = 1; i <= static_cast<uint32_t>(round_trips); ++i) {
    const int64_t t0 = NowNs();
    ping.store(i, std::memory_order_release);
    FutexWake(&ping);
    while (pong.load(std::memory_order_acquire) < i) FutexWait(&pong, i - 1);
    latencies.push_back(NowNs() - t0);
  }
  responder.join();
  return LatencyMetrics(latencies);
}

}  // namespace rill::bench
