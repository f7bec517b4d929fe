// LogOptions::prefault: who faults in segment pages ahead of a writer, and
// LogOptions::append_by_write, with which nobody does. Seen
// from outside, through /proc/self/smaps: how much of the active segment's
// mapping is resident compared with what was appended.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include <catch2/catch.hpp>

#include "rill/rill.h"
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

// Appends about `bytes` of records to partition 0 of topic "t" and returns
// the bytes of its active segment that are resident. The permissions of its
// mapping go to *permissions if not null.
int64_t ResidentAfterAppending(const LogOptions& options, int64_t bytes,
                               std::string* permissions = nullptr) {
  testing::TempDir dir;
  auto log = testing::Unwrap(Log::Open(dir.Join("log"), options));
  REQUIRE_OK(log->CreateTopic("t"));
  Producer producer(*log);
  const std::string value(1000, 'v');
  for (int64_t written = 0; written < bytes; written += 1000) {
    REQUIRE_OK(producer.SendAsync("t", {.value = value, .partition = 0}));
  }
  REQUIRE_OK(producer.Flush());
  const int64_t resident = ResidentBytes(kActiveLog);
  if (permissions != nullptr) *permissions = MappingPermissions(kActiveLog);
  REQUIRE_OK(log->Close());
  return resident;
}

TEST_CASE("Prefault::kWriter: the writer faults in pages ahead of itself", "[prefault]") {
  constexpr int64_t kAppended = 1 << 20;
  const int64_t resident =
      ResidentAfterAppending({.background_threads = 0, .prefault = Prefault::kWriter}, kAppended);
  INFO("resident " << resident);
  // Between 128 and 256 KiB ahead of the end, in steps of 128 KiB.
  CHECK(resident >= kAppended + (128 << 10));
  CHECK(resident <= kAppended + (512 << 10));
}

TEST_CASE("Prefault::kBackground with no background thread: nothing ahead", "[prefault]") {
  constexpr int64_t kAppended = 1 << 20;
  const int64_t resident = ResidentAfterAppending(
      {.background_threads = 0, .prefault = Prefault::kBackground}, kAppended);
  INFO("resident " << resident);
  CHECK(resident >= kAppended);
  CHECK(resident < kAppended + (64 << 10));  // The batch being written, at most.
}

TEST_CASE("append_by_write: the active segment is mapped read-only, nothing faulted in",
          "[prefault]") {
  constexpr int64_t kAppended = 1 << 20;
  std::string permissions;
  // With the background thread that would prefault a mapped writer's pages.
  const int64_t resident = ResidentAfterAppending(
      {.background_threads = 1, .append_by_write = true}, kAppended, &permissions);
  INFO("resident " << resident << ", permissions " << permissions);
  CHECK(permissions == "r--s");
  CHECK(resident == 0);  // No reader has touched it.

  // Mapped writes, for contrast: a writable mapping.
  ResidentAfterAppending({.background_threads = 0}, kAppended, &permissions);
  CHECK(permissions == "rw-s");
}

}  // namespace
}  // namespace rill
