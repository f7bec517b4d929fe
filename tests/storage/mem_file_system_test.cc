// MemFileSystem's test doubles: injected faults, a device of limited size,
// and CrashCopy, the state a loss of power leaves behind.
#include "storage/mem_file_system.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "testutil/random_records.h"
#include "testutil/status.h"

namespace rill {
namespace {

using testing::Unwrap;

constexpr uint64_t kPage = 4096;

std::string ReadAll(FileSystem& fs, const std::string& path) {
  return Unwrap(ReadFileToString(fs, path));
}

std::unique_ptr<File> Create(FileSystem& fs, const std::string& path) {
  return Unwrap(fs.OpenFile(path, OpenMode::kCreate));
}

TEST_CASE("MemFileSystem: a fault fires after its countdown, once or until cleared",
          "[mem_file_system]") {
  MemFileSystem fs;
  REQUIRE_OK(fs.CreateDir("/d"));
  auto file = Create(fs, "/d/f");
  const int64_t writes_before = fs.OperationCount(kMemFsWrite);

  fs.InjectFault(kMemFsWrite, 2, absl::ResourceExhaustedError("injected"), /*once=*/true);
  CHECK_OK(file->WriteAt(0, "a"));
  CHECK_OK(file->WriteAt(1, "b"));
  const absl::Status failed = file->WriteAt(2, "c");
  CHECK(failed.code() == absl::StatusCode::kResourceExhausted);
  CHECK(failed.message() == "injected");
  CHECK(ReadAll(fs, "/d/f") == "ab");  // The failed write changed nothing.
  CHECK_OK(file->WriteAt(2, "c"));     // Once: the fault is spent.
  CHECK(ReadAll(fs, "/d/f") == "abc");
  // Failed operations count as attempted.
  CHECK(fs.OperationCount(kMemFsWrite) - writes_before == 4);

  // Sticky: every sync fails, file syncs and mapping syncs alike, until
  // cleared; other kinds of operation go on working.
  fs.InjectFault(kMemFsSync, 0, absl::DataLossError("sync failed"));
  REQUIRE_OK(file->Allocate(0, kPage));
  auto mapping = Unwrap(file->Map(kPage, /*writable=*/true));
  for (int i = 0; i < 3; ++i) {
    CHECK(file->Sync().code() == absl::StatusCode::kDataLoss);
    CHECK(mapping->Sync(0, 3).code() == absl::StatusCode::kDataLoss);
  }
  CHECK_OK(file->WriteAt(0, "x"));
  fs.ClearFaults();
  CHECK_OK(file->Sync());
  CHECK_OK(mapping->Sync(0, 3));
}

TEST_CASE("MemFileSystem: faults on several kinds of operation at once", "[mem_file_system]") {
  MemFileSystem fs;
  REQUIRE_OK(fs.CreateDir("/d"));
  Create(fs, "/d/f");
  const int64_t before = fs.OperationCount(kMemFsOpen | kMemFsRemove | kMemFsRename);

  fs.InjectFault(kMemFsOpen | kMemFsRemove | kMemFsRename, 1, absl::UnavailableError("down"));
  CHECK_OK(fs.OpenFile("/d/f", OpenMode::kRead));  // The countdown.
  CHECK(fs.OpenFile("/d/f", OpenMode::kRead).status().code() == absl::StatusCode::kUnavailable);
  CHECK(fs.RemoveFile("/d/f").code() == absl::StatusCode::kUnavailable);
  CHECK(fs.Rename("/d/f", "/d/g").code() == absl::StatusCode::kUnavailable);
  CHECK(fs.OpenFile("/d/new", OpenMode::kCreate).status().code() == absl::StatusCode::kUnavailable);
  // Failed operations changed nothing.
  CHECK(Unwrap(fs.ListDir("/d")) == std::vector<std::string>{"f"});
  CHECK(fs.OperationCount(kMemFsOpen | kMemFsRemove | kMemFsRename) - before == 5);
  CHECK(fs.OperationCount(kMemFsAll) >= fs.OperationCount(kMemFsOpen));

  fs.ClearFaults();
  CHECK_OK(fs.Rename("/d/f", "/d/g"));
  CHECK_OK(fs.RemoveFile("/d/g"));
}

TEST_CASE("MemFileSystem: a full device fails allocations and writes, changing nothing",
          "[mem_file_system]") {
  MemFileSystem fs;
  REQUIRE_OK(fs.CreateDir("/d"));
  fs.SetSpaceLimit(16 * kPage);

  auto a = Create(fs, "/d/a");
  REQUIRE_OK(a->WriteAt(0, std::string(10 * kPage, 'a')));
  CHECK(fs.UsedBytes() == 10 * kPage);

  auto b = Create(fs, "/d/b");
  const absl::Status allocate = b->Allocate(0, 8 * kPage);
  CHECK(allocate.code() == absl::StatusCode::kResourceExhausted);
  CHECK(Unwrap(b->Size()) == 0);
  CHECK(Unwrap(b->AllocatedBytes()) == 0);
  CHECK(b->WriteAt(0, std::string(7 * kPage, 'b')).code() == absl::StatusCode::kResourceExhausted);
  CHECK(Unwrap(b->Size()) == 0);
  // A write that grows a file past the limit leaves its old bytes alone.
  CHECK(a->WriteAt(9 * kPage, std::string(8 * kPage, 'z')).code() ==
        absl::StatusCode::kResourceExhausted);
  CHECK(ReadAll(fs, "/d/a") == std::string(10 * kPage, 'a'));
  CHECK(fs.UsedBytes() == 10 * kPage);

  // Exactly full is fine; one byte more is not.
  REQUIRE_OK(b->Allocate(0, 6 * kPage));
  CHECK(fs.UsedBytes() == 16 * kPage);
  CHECK(b->WriteAt(6 * kPage, "x").code() == absl::StatusCode::kResourceExhausted);
  CHECK(Unwrap(b->Size()) == 6 * kPage);

  // Space freed by Truncate can be used again.
  REQUIRE_OK(a->Truncate(2 * kPage));
  CHECK(fs.UsedBytes() == 8 * kPage);
  REQUIRE_OK(b->Allocate(0, 14 * kPage));

  // So can space freed by removing a file -- once nothing has it open, and
  // even after its creation was made durable.
  REQUIRE_OK(fs.SyncDir("/d"));
  a.reset();
  REQUIRE_OK(fs.RemoveFile("/d/a"));
  CHECK(fs.UsedBytes() == 14 * kPage);
  auto c = Create(fs, "/d/c");
  CHECK_OK(c->Allocate(0, 2 * kPage));

  // No limit: anything goes.
  fs.SetSpaceLimit(0);
  CHECK_OK(c->Allocate(0, 64 * kPage));
}

TEST_CASE("MemFileSystem: an open file keeps its space after removal, as on POSIX",
          "[mem_file_system]") {
  MemFileSystem fs;
  REQUIRE_OK(fs.CreateDir("/d"));
  fs.SetSpaceLimit(8 * kPage);
  auto a = Create(fs, "/d/a");
  REQUIRE_OK(a->Allocate(0, 6 * kPage));
  REQUIRE_OK(fs.RemoveFile("/d/a"));
  auto b = Create(fs, "/d/b");
  CHECK(b->Allocate(0, 4 * kPage).code() == absl::StatusCode::kResourceExhausted);
  a.reset();
  CHECK_OK(b->Allocate(0, 4 * kPage));
}

// One file, synced, then changed without a sync: `synced` is what the last
// sync saw, `current` what the file holds now.
struct UnsyncedFile {
  std::string synced;
  std::string current;
};

UnsyncedFile WriteUnsynced(MemFileSystem& fs, std::mt19937_64& rng, bool overwrite) {
  UnsyncedFile f;
  REQUIRE_OK(fs.CreateDir("/d"));
  REQUIRE_OK(fs.SyncDir("/"));
  auto file = Create(fs, "/d/f");
  REQUIRE_OK(fs.SyncDir("/d"));
  f.synced = testing::RandomBytes(rng, 10000 + rng() % 5000);
  REQUIRE_OK(file->WriteAt(0, f.synced));
  REQUIRE_OK(file->Sync());
  f.current = f.synced;
  if (overwrite) {
    // Unsynced changes inside the synced bytes.
    const size_t at = rng() % 8000;
    const std::string change = testing::RandomBytes(rng, 1 + rng() % 4000);
    REQUIRE_OK(file->WriteAt(at, change));
    f.current.replace(at, change.size(), change);
  } else {
    const std::string more = testing::RandomBytes(rng, 1 + rng() % 20000);
    REQUIRE_OK(file->WriteAt(f.synced.size(), more));
    f.current += more;
  }
  return f;
}

// Whether every 4 KiB page of `got` is that page of `a` or of `b` (each
// zero-extended to got's size).
bool EachPageFrom(const std::string& got, std::string a, std::string b) {
  a.resize(std::max(a.size(), got.size()), '\0');
  b.resize(std::max(b.size(), got.size()), '\0');
  for (size_t p = 0; p < got.size(); p += kPage) {
    const size_t n = std::min<size_t>(kPage, got.size() - p);
    if (got.compare(p, n, a, p, n) != 0 && got.compare(p, n, b, p, n) != 0) return false;
  }
  return true;
}

TEST_CASE("MemFileSystem::CrashCopy keeps synced bytes, and unsynced ones as the mode says",
          "[mem_file_system]") {
  const CrashMode mode = GENERATE(CrashMode::kDropUnsynced, CrashMode::kCutUnsynced,
                                  CrashMode::kRandomPages, CrashMode::kGarbageUnsynced);
  const bool overwrite = GENERATE(false, true);
  INFO("mode " << static_cast<int>(mode) << (overwrite ? ", overwrite" : ", append"));
  bool saw_between = false;  // Neither all of the unsynced bytes nor none.
  for (uint64_t seed = 0; seed < 40; ++seed) {
    INFO("seed " << seed);
    std::mt19937_64 rng(seed);
    MemFileSystem fs({.track_durability = true});
    const UnsyncedFile f = WriteUnsynced(fs, rng, overwrite);
    const std::string got = ReadAll(*fs.CrashCopy(mode, seed), "/d/f");
    // Taking a copy leaves the original alone.
    CHECK(ReadAll(fs, "/d/f") == f.current);
    saw_between |= got != f.synced && got != f.current;

    // Either size: the synced one or, if the growth persisted, the new one.
    CHECK((got.size() == f.synced.size() || got.size() == f.current.size() ||
           mode == CrashMode::kCutUnsynced));
    REQUIRE(got.size() >= f.synced.size());
    REQUIRE(got.size() <= f.current.size());
    std::string synced = f.synced;
    synced.resize(got.size(), '\0');
    const std::string current = f.current.substr(0, got.size());
    // Bytes no unsynced write changed are there in every mode.
    size_t changed = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      if (synced[i] == current[i]) {
        if (got[i] != synced[i]) FAIL("byte " << i << " was not changed but is not as synced");
      } else {
        ++changed;
      }
    }

    switch (mode) {
      case CrashMode::kDropUnsynced:
        CHECK(got == f.synced);
        break;
      case CrashMode::kCutUnsynced: {
        // Unsynced bytes reached the device in file order, up to a cut:
        // the new bytes before it, the synced ones after.
        size_t cut = 0;
        while (cut < got.size() && got[cut] == current[cut]) ++cut;
        CHECK(got.compare(cut, std::string::npos, synced, cut) == 0);
        if (!overwrite) CHECK(got == f.current.substr(0, got.size()));
        break;
      }
      case CrashMode::kRandomPages:
        CHECK(EachPageFrom(got, f.synced, f.current));
        break;
      case CrashMode::kGarbageUnsynced: {
        // Unsynced bytes that persisted are garbage: among many, some byte
        // differs from what was written.
        size_t garbled = 0;
        for (size_t i = 0; i < got.size(); ++i) {
          garbled += synced[i] != current[i] && got[i] != current[i];
        }
        if (changed >= 16) CHECK(garbled > 0);
        break;
      }
    }
  }
  // Across seeds, each mode makes the choices it documents.
  if (mode == CrashMode::kDropUnsynced) {
    CHECK_FALSE(saw_between);
  } else {
    CHECK(saw_between);
  }
}

TEST_CASE("MemFileSystem: a failed sync loses its pages until they are written again",
          "[mem_file_system]") {
  // As Linux after a writeback error: the pages count as written, so the
  // next sync -- which succeeds -- does not send them.
  MemFileSystem fs({.track_durability = true});
  REQUIRE_OK(fs.CreateDir("/d"));
  auto file = Create(fs, "/d/f");
  REQUIRE_OK(fs.SyncDir("/"));
  REQUIRE_OK(fs.SyncDir("/d"));
  REQUIRE_OK(file->Allocate(0, 3 * kPage));
  auto mapping = Unwrap(file->Map(3 * kPage, /*writable=*/true));
  REQUIRE_OK(file->Sync());
  const std::string zeros(3 * kPage, '\0');
  auto crashed = [&] { return ReadAll(*fs.CrashCopy(CrashMode::kDropUnsynced, 1), "/d/f"); };

  // Pages 0 and 1 written through the mapping; the sync of both fails.
  std::memset(mapping->data(), 'a', 2 * kPage);
  fs.InjectFault(kMemFsSync, 0, absl::DataLossError("injected"), /*once=*/true);
  CHECK(mapping->Sync(0, 2 * kPage).code() == absl::StatusCode::kDataLoss);
  REQUIRE_OK(mapping->Sync(0, 3 * kPage));
  REQUIRE_OK(file->Sync());
  CHECK(crashed() == zeros);  // Both syncs "succeeded"; nothing is on the device.

  // Page 1 changes, page 2 is written for the first time: they go out.
  // Page 0 is as it was: it stays lost.
  mapping->data()[kPage] = 'b';
  std::memset(mapping->data() + 2 * kPage, 'c', kPage);
  REQUIRE_OK(mapping->Sync(0, 3 * kPage));
  std::string want = zeros;
  want.replace(kPage, 2 * kPage, ReadAll(fs, "/d/f").substr(kPage, 2 * kPage));
  CHECK(crashed() == want);

  // Written again, unchanged -- through the file, or by a write fault on
  // the mapping (Populate) -- it goes out too.
  const bool through_file = GENERATE(false, true);
  INFO((through_file ? "WriteAt" : "Populate"));
  if (through_file) {
    REQUIRE_OK(file->WriteAt(0, std::string(kPage, 'a')));
  } else {
    mapping->Populate(0, kPage);
  }
  REQUIRE_OK(file->Sync());
  CHECK(crashed() == ReadAll(fs, "/d/f"));
}

TEST_CASE("MemFileSystem::CrashCopy keeps only directory entries made durable by SyncDir",
          "[mem_file_system]") {
  MemFileSystem fs({.track_durability = true});
  REQUIRE_OK(fs.CreateDir("/d"));
  REQUIRE_OK(fs.SyncDir("/"));
  auto write_synced = [&](const std::string& path, std::string_view data) {
    auto file = Create(fs, path);
    REQUIRE_OK(file->WriteAt(0, data));
    REQUIRE_OK(file->Sync());
  };
  write_synced("/d/kept", "kept");
  write_synced("/d/removed", "removed");
  write_synced("/d/renamed", "renamed");
  REQUIRE_OK(fs.CreateDir("/d/sub"));
  write_synced("/d/sub/x", "x");
  REQUIRE_OK(fs.SyncDir("/d/sub"));
  REQUIRE_OK(fs.SyncDir("/d"));
  REQUIRE_OK(fs.CreateDir("/d/late"));
  write_synced("/d/late/y", "y");
  REQUIRE_OK(fs.SyncDir("/d/late"));  // Its own entry in /d is not durable.

  write_synced("/d/unnamed", "synced, but its name never was");
  REQUIRE_OK(fs.RemoveFile("/d/removed"));
  REQUIRE_OK(fs.Rename("/d/renamed", "/d/new-name"));

  auto copy = fs.CrashCopy(CrashMode::kDropUnsynced, 1);
  std::vector<std::string> names = Unwrap(copy->ListDir("/d"));
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"kept", "removed", "renamed", "sub"});
  CHECK(ReadAll(*copy, "/d/kept") == "kept");
  CHECK(ReadAll(*copy, "/d/removed") == "removed");  // The removal was not durable.
  CHECK(ReadAll(*copy, "/d/renamed") == "renamed");
  CHECK(ReadAll(*copy, "/d/sub/x") == "x");
  CHECK(copy->Stat("/d/unnamed").status().code() == absl::StatusCode::kNotFound);
  CHECK(copy->Stat("/d/late/y").status().code() == absl::StatusCode::kNotFound);

  // Once the directory is synced, all of it is durable.
  REQUIRE_OK(fs.SyncDir("/d"));
  auto later = fs.CrashCopy(CrashMode::kDropUnsynced, 2);
  names = Unwrap(later->ListDir("/d"));
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"kept", "late", "new-name", "sub", "unnamed"});
  CHECK(ReadAll(*later, "/d/new-name") == "renamed");
  CHECK(ReadAll(*later, "/d/unnamed") == "synced, but its name never was");
  CHECK(ReadAll(*later, "/d/late/y") == "y");

  // A copy is a file system of its own.
  REQUIRE_OK(Create(*later, "/d/kept")->WriteAt(0, "KEPT"));
  CHECK(ReadAll(fs, "/d/kept") == "kept");
}

TEST_CASE("MemFileSystem::CrashCopy: a file never synced is empty, whatever was written",
          "[mem_file_system]") {
  MemFileSystem fs({.track_durability = true});
  REQUIRE_OK(fs.CreateDir("/d"));
  REQUIRE_OK(fs.SyncDir("/"));
  auto file = Create(fs, "/d/f");
  REQUIRE_OK(fs.SyncDir("/d"));
  REQUIRE_OK(file->WriteAt(0, std::string(3 * kPage, 'u')));
  CHECK(ReadAll(*fs.CrashCopy(CrashMode::kDropUnsynced, 3), "/d/f").empty());
  // A mapping's sync makes its range durable (and the size with it).
  REQUIRE_OK(file->Allocate(0, 4 * kPage));
  auto mapping = Unwrap(file->Map(4 * kPage, /*writable=*/true));
  std::memset(mapping->data() + kPage, 'm', kPage);
  REQUIRE_OK(mapping->Sync(kPage, kPage));
  const std::string got = ReadAll(*fs.CrashCopy(CrashMode::kDropUnsynced, 4), "/d/f");
  CHECK(got == std::string(kPage, '\0') + std::string(kPage, 'm') + std::string(2 * kPage, '\0'));
}

}  // namespace
}  // namespace rill
