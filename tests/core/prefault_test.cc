// LogOptions::prefault: who faults in segment pages ahead of a writer, and
// LogOptions::append_by_write, with which nobody does. Seen
// from outside, through /proc/self/smaps: how much of the active segment's
// mapping is resident compared with what was appended.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "rill/rill.h"
#include "storage/fast_writers.h"
#include "testutil/fake_clock.h"
#include "testutil/status.h"
#include "testutil/temp_dir.h"

namespace rill {
namespace {

// The permissions ("rw-s", "r--s") of the first mapping of a file whose
// path ends in `suffix`; "" if none.
std::string MappingPermissions(const std::string& suffix) {
  std::FILE* f = std::fopen("/proc/self/maps", "r");
  REQUIRE(f != nullptr);
  char line[1024];
  std::string found;
  while (found.empty() && std::fgets(line, sizeof(line), f) != nullptr) {
    std::string s(line);
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    char perms[8] = {};
    if (s.size() >= suffix.size() &&
        s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0 &&
        std::sscanf(line, "%*s %7s", perms) == 1) {
      found = perms;
    }
  }
  std::fclose(f);
  return found;
}

// Resident bytes of the mappings of files whose path ends in `suffix`.
int64_t ResidentBytes(const std::string& suffix) {
  std::FILE* f = std::fopen("/proc/self/smaps", "r");
  REQUIRE(f != nullptr);
  char line[1024];
  bool in_mapping = false;
  int64_t total = 0;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    std::string s(line);
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    unsigned long from = 0, to = 0;
    if (std::sscanf(line, "%lx-%lx ", &from, &to) == 2) {
      in_mapping = s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(),
                                                          suffix) == 0;
      continue;
    }
    long kb = 0;
    if (in_mapping && std::sscanf(line, "Rss: %ld kB", &kb) == 1) total += int64_t{kb} << 10;
  }
  std::fclose(f);
  return total;
}

constexpr char kActiveLog[] = "/t-0/00000000000000000000.log";

// What an append left behind: bytes of the active segment resident, and
// bytes of batches in it.
struct Residency {
  int64_t resident = 0;
  int64_t data = 0;
  // ahead(): resident bytes past the data.
  int64_t ahead() const { return resident - data; }
};

// Values of the records appended: a small record, short of
// kLargeRecordBytes with its batch's overhead, so that it is copied through
// the mapping.
constexpr size_t kValueBytes = 400;

// Appends `records` records of `value_bytes` bytes to partition 0 of topic
// "t", one batch each. `each` runs before each record is sent. With
// `until`, waits up to 30 s for it to hold of the residency (a background
// thread faulting pages in). The permissions of the mapping go to
// *permissions if not null.
Residency ResidentAfterAppending(const LogOptions& options, int records,
                                 const std::function<void()>& each = nullptr,
                                 const std::function<bool(const Residency&)>& until = nullptr,
                                 std::string* permissions = nullptr,
                                 size_t value_bytes = kValueBytes) {
  testing::TempDir dir;
  auto log = testing::Unwrap(Log::Open(dir.Join("log"), options));
  REQUIRE_OK(log->CreateTopic("t"));
  Producer producer(*log);
  const std::string value(value_bytes, 'v');
  for (int i = 0; i < records; ++i) {
    if (each) each();
    REQUIRE_OK(producer.Send("t", {.value = value, .partition = 0}).status());
  }
  Residency r;
  r.data = static_cast<int64_t>(testing::Unwrap(log->DescribeTopic("t")).partitions[0].bytes);
  r.resident = ResidentBytes(kActiveLog);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (until && !until(r) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    r.resident = ResidentBytes(kActiveLog);
  }
  if (permissions != nullptr) *permissions = MappingPermissions(kActiveLog);
  REQUIRE_OK(log->Close());
  INFO("resident " << r.resident << ", data " << r.data);
  return r;
}

// The writer's lead: 256 KiB, less at most one step of 8 KiB, plus the
// rounding of either end to a page.
void CheckWriterLead(const Residency& r) {
  INFO("resident " << r.resident << ", data " << r.data);
  CHECK(r.ahead() >= (248 << 10) - 4096);
  CHECK(r.ahead() <= (256 << 10) + 4096);
}

TEST_CASE("Prefault::kWriter: the writer faults in pages ahead of itself", "[prefault]") {
  // With a background thread too, which must stay out of it.
  const int threads = GENERATE(0, 1);
  INFO("background threads " << threads);
  CheckWriterLead(
      ResidentAfterAppending({.background_threads = threads, .prefault = Prefault::kWriter}, 2500));
}

TEST_CASE("Prefault::kAuto: a paced writer faults in its own pages, a fast one has help",
          "[prefault]") {
  constexpr int kRecords = 10000;  // About 4.7 MiB: four windows of pace.
  testing::FakeClock clock(1'700'000'000'000);
  SECTION("paced: the clock moves 1 ms per record, 0.5 MB/s") {
    CheckWriterLead(ResidentAfterAppending({.clock = &clock, .background_threads = 1}, kRecords,
                                           [&] { clock.Advance(1); }));
  }
  SECTION("flat out: the clock stands still") {
    const bool core_spare = FastWriters::AvailableCores() >= 2;
    INFO("cores " << FastWriters::AvailableCores());
    // With a core spare, the background thread goes 32 MiB ahead, in its
    // own time: far past the writer's 256 KiB. With one core, nobody: the
    // batches are written with pwritev.
    const Residency r = ResidentAfterAppending(
        {.clock = &clock, .background_threads = 1}, kRecords, nullptr,
        [&](const Residency& now) { return !core_spare || now.ahead() >= (8 << 20); });
    INFO("resident " << r.resident << ", data " << r.data);
    if (core_spare) {
      CHECK(r.ahead() >= (8 << 20));
    } else {
      CHECK(r.resident < (2 << 20));
    }
  }
  SECTION("no background thread: the writer, whatever its pace") {
    CheckWriterLead(ResidentAfterAppending({.clock = &clock, .background_threads = 0}, kRecords));
  }
}

TEST_CASE("Prefault::kBackground with no background thread: nothing ahead, written by pwritev",
          "[prefault]") {
  const Residency r =
      ResidentAfterAppending({.background_threads = 0, .prefault = Prefault::kBackground}, 2500);
  INFO("resident " << r.resident << ", data " << r.data);
  CHECK(r.data > (1 << 20));
  // Nothing faults pages in, so every batch that reaches past the first
  // page goes into the page cache with pwritev, not through the mapping.
  CHECK(r.resident <= 8192);
}

TEST_CASE("append_by_write: the active segment is mapped read-only, nothing faulted in",
          "[prefault]") {
  std::string permissions;
  // With the background thread that would prefault a mapped writer's pages.
  const Residency r = ResidentAfterAppending({.background_threads = 1, .append_by_write = true},
                                             2500, nullptr, nullptr, &permissions);
  INFO("resident " << r.resident << ", permissions " << permissions);
  CHECK(permissions == "r--s");
  CHECK(r.resident == 0);  // No reader has touched it.

  // Mapped writes, for contrast: a writable mapping.
  ResidentAfterAppending({.background_threads = 0}, 1000, nullptr, nullptr, &permissions);
  CHECK(permissions == "rw-s");
}

TEST_CASE("Records of 1 KiB and more: written with pwritev, mapped behind the writer for readers",
          "[prefault]") {
  // Whoever would fault pages in: the writer, or a background thread. The
  // clock stands still: a flat-out writer for kAuto.
  const Prefault prefault = GENERATE(Prefault::kWriter, Prefault::kAuto, Prefault::kBackground);
  INFO("prefault " << static_cast<int>(prefault) << ", cores " << FastWriters::AvailableCores());
  testing::FakeClock clock(1'700'000'000'000);
  // A background thread maps the written pages, unless the writer is to
  // fault its own (kWriter) or no core is spare for it (kAuto).
  const bool mapped_behind = prefault == Prefault::kBackground ||
                             (prefault == Prefault::kAuto && FastWriters::AvailableCores() >= 2);
  // It maps them 1 MiB at a time: all but the last MiB and batch at least.
  const auto behind = [&](const Residency& r) {
    return !mapped_behind || r.resident >= r.data - (1 << 20) - 4096;
  };
  std::string permissions;
  const Residency r =
      ResidentAfterAppending({.clock = &clock, .background_threads = 1, .prefault = prefault}, 4000,
                             nullptr, behind, &permissions, /*value_bytes=*/1024);
  CHECK(r.data > (4 << 20));
  CHECK(permissions == "rw-s");  // Mapped for writing, but not written through it.
  if (mapped_behind) {
    CHECK(behind(r));
    CHECK(r.ahead() < 4096);  // Nothing past the data.
  } else {
    CHECK(r.resident == 0);
  }
}

}  // namespace
}  // namespace rill
