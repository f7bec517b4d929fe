// The FileSystem contract, checked on both implementations: every test case
// runs once over PosixFileSystem (in a temporary directory) and once over
// MemFileSystem, so that the in-memory one stays a faithful stand-in.
#include "storage/file_system.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "storage/posix_file_system.h"
#include "testutil/random_records.h"
#include "testutil/status.h"
#include "testutil/temp_dir.h"
#include "testutil/test_fs.h"

namespace rill {
namespace {

using Catch::Matchers::Contains;
using testing::FsKind;
using testing::TestFs;
using testing::Unwrap;

std::string ReadAll(File& file) {
  std::string data(Unwrap(file.Size()), '\0');
  data.resize(Unwrap(file.ReadAt(0, data.size(), data.data())));
  return data;
}

std::vector<std::string> Sorted(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  return names;
}

TEST_CASE("FileSystem: open modes", "[file_system]") {
  TestFs t(GENERATE(FsKind::kPosix, FsKind::kMem));
  INFO(t.name());
  FileSystem& fs = t.fs();
  const std::string path = t.Join("f");

  CHECK(fs.OpenFile(path, OpenMode::kRead).status().code() == absl::StatusCode::kNotFound);
  CHECK(fs.OpenFile(path, OpenMode::kReadWrite).status().code() == absl::StatusCode::kNotFound);
  {
    auto file = Unwrap(fs.OpenFile(path, OpenMode::kCreateExclusive));
    CHECK(file->path() == path);
    REQUIRE_OK(file->WriteAt(0, "abc"));
  }
  CHECK(fs.OpenFile(path, OpenMode::kCreateExclusive).status().code() ==
        absl::StatusCode::kAlreadyExists);
  CHECK(ReadAll(*Unwrap(fs.OpenFile(path, OpenMode::kCreate))) == "abc");
  CHECK(ReadAll(*Unwrap(fs.OpenFile(path, OpenMode::kReadWrite))) == "abc");

  auto reader = Unwrap(fs.OpenFile(path, OpenMode::kRead));
  CHECK(ReadAll(*reader) == "abc");
  // A file opened for reading cannot be written (EBADF).
  CHECK(reader->WriteAt(0, "x").code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ReadAll(*reader) == "abc");

  auto truncated = Unwrap(fs.OpenFile(path, OpenMode::kTruncate));
  CHECK(Unwrap(truncated->Size()) == 0);
  CHECK(Unwrap(reader->Size()) == 0);  // Same file, seen through another handle.
  // kTruncate creates a missing file too.
  CHECK(Unwrap(Unwrap(fs.OpenFile(t.Join("g"), OpenMode::kTruncate))->Size()) == 0);
  // A directory is not a file.
  CHECK_FALSE(fs.OpenFile(t.root(), OpenMode::kReadWrite).ok());
}

TEST_CASE("FileSystem: WriteAt and ReadAt, with holes and short reads", "[file_system]") {
  TestFs t(GENERATE(FsKind::kPosix, FsKind::kMem));
  INFO(t.name());
  auto file = Unwrap(t.fs().OpenFile(t.Join("f"), OpenMode::kCreate));

  REQUIRE_OK(file->WriteAt(0, "hello"));
  REQUIRE_OK(file->WriteAt(10, "world"));
  CHECK(Unwrap(file->Size()) == 15);

  std::string buf(32, 'x');
  CHECK(Unwrap(file->ReadAt(0, buf.size(), buf.data())) == 15);  // Short: the end of the file.
  CHECK(buf.substr(0, 15) == std::string("hello\0\0\0\0\0world", 15));
  CHECK(buf.substr(15) == std::string(17, 'x'));  // Nothing written past what was read.
  CHECK(Unwrap(file->ReadAt(12, 8, buf.data())) == 3);
  CHECK(buf.substr(0, 3) == "rld");
  CHECK(Unwrap(file->ReadAt(15, 8, buf.data())) == 0);
  CHECK(Unwrap(file->ReadAt(1000, 8, buf.data())) == 0);

  REQUIRE_OK(file->WriteAt(3, "LOWO"));  // Overwrites in place; the size stays.
  CHECK(ReadAll(*file) == std::string("helLOWO\0\0\0world", 15));
  REQUIRE_OK(file->WriteAt(15, ""));
  CHECK(Unwrap(file->Size()) == 15);
}

TEST_CASE("FileSystem: WritevAt writes its pieces back to back, and a mapping sees them",
          "[file_system]") {
  TestFs t(GENERATE(FsKind::kPosix, FsKind::kMem));
  INFO(t.name());
  auto file = Unwrap(t.fs().OpenFile(t.Join("f"), OpenMode::kCreate));
  REQUIRE_OK(file->Allocate(0, 4096));
  auto mapping = Unwrap(file->Map(1 << 20, /*writable=*/false));
  // Empty pieces, and more pieces than one system call takes here.
  std::vector<std::string> texts;
  for (int i = 0; i < 20; ++i) texts.push_back(i % 3 == 0 ? "" : std::string(i, 'a' + i));
  std::vector<std::string_view> pieces(texts.begin(), texts.end());
  std::string expected;
  for (const std::string& text : texts) expected += text;
  REQUIRE_OK(file->WritevAt(100, pieces));
  CHECK(std::string(mapping->data() + 100, expected.size()) == expected);
  CHECK(std::string(mapping->data(), 100) == std::string(100, '\0'));
  // Past the end, the file grows.
  REQUIRE_OK(file->WritevAt(5000, pieces));
  CHECK(Unwrap(file->Size()) == 5000 + expected.size());
  std::string back(expected.size(), '?');
  CHECK(Unwrap(file->ReadAt(5000, back.size(), back.data())) == back.size());
  CHECK(back == expected);
}

TEST_CASE("FileSystem: Truncate shrinks, and grows with zeros", "[file_system]") {
  TestFs t(GENERATE(FsKind::kPosix, FsKind::kMem));
  INFO(t.name());
  auto file = Unwrap(t.fs().OpenFile(t.Join("f"), OpenMode::kCreate));
  REQUIRE_OK(file->WriteAt(0, "0123456789"));

  REQUIRE_OK(file->Truncate(4));
  CHECK(Unwrap(file->Size()) == 4);
  CHECK(ReadAll(*file) == "0123");
  // Growing again reads zeros, not the bytes that were cut off.
  REQUIRE_OK(file->Truncate(8));
  CHECK(ReadAll(*file) == std::string("0123\0\0\0\0", 8));
  REQUIRE_OK(file->Truncate(0));
  CHECK(ReadAll(*file).empty());
}

TEST_CASE("FileSystem: a file keeps its bytes as it grows from a few bytes to megabytes",
          "[file_system]") {
  // The in-memory file system keeps small files on the heap and moves them
  // to a mapping as they grow; the bytes and the zeros past them must follow.
  TestFs t(GENERATE(FsKind::kPosix, FsKind::kMem));
  INFO(t.name());
  auto file = Unwrap(t.fs().OpenFile(t.Join("f"), OpenMode::kCreate));
  std::mt19937_64 rng(7);
  std::string expected;
  for (uint64_t size = 10; size <= (4 << 20); size = size * 3 + 7) {
    INFO("size " << size);
    // Write the new size's worth, then cut the last third and grow back:
    // the cut bytes must read as zeros.
    const std::string piece = testing::RandomBytes(rng, size - expected.size());
    REQUIRE_OK(file->WriteAt(expected.size(), piece));
    expected += piece;
    const uint64_t cut = size - size / 3;
    REQUIRE_OK(file->Truncate(cut));
    REQUIRE_OK(file->Truncate(size));
    std::fill(expected.begin() + static_cast<ptrdiff_t>(cut), expected.end(), '\0');
    REQUIRE(ReadAll(*file) == expected);
  }
  auto mapping = Unwrap(file->Map(expected.size(), /*writable=*/false));
  CHECK(std::string_view(mapping->data(), expected.size()) == expected);
}

// Pages of [p, p+n) in memory (p page-aligned), by mincore(): a file's pages
// in the page cache, an anonymous mapping's pages faulted in.
size_t ResidentPages(const char* p, uint64_t n) {
  std::vector<unsigned char> in_core((n + PageSize() - 1) / PageSize());
  if (mincore(const_cast<char*>(p), n, in_core.data()) != 0) return SIZE_MAX;
  return static_cast<size_t>(
      std::count_if(in_core.begin(), in_core.end(), [](unsigned char c) { return c & 1; }));
}

TEST_CASE("FileSystem: Truncate cuts a mapped tail without faulting it in; it grows back as zeros",
          "[file_system]") {
  TestFs t(GENERATE(FsKind::kPosix, FsKind::kMem));
  INFO(t.name());
  const uint64_t page = PageSize();
  const uint64_t length = 2048 * page;
  auto file = Unwrap(t.fs().OpenFile(t.Join("f"), OpenMode::kCreate));
  REQUIRE_OK(file->Allocate(0, length));
  auto mapping = Unwrap(file->Map(length, /*writable=*/true));
  // Written: three pages and a bit at the start, and a few bytes far into
  // what will be cut off. The rest was never touched, as in a segment
  // preallocated and then trimmed.
  std::memset(mapping->data(), 'x', 3 * page + 100);
  std::memset(mapping->data() + length / 2, 'y', 10);
  // (A file system may hold a file's allocated pages in memory: tmpfs does.
  // Transparent huge pages may bring in more than were written.)
  if (t.kind() == FsKind::kMem) CHECK(ResidentPages(mapping->data(), length) >= 5);

  const uint64_t cut = page + 10;  // Inside the second page.
  REQUIRE_OK(file->Truncate(cut));
  CHECK(Unwrap(file->Size()) == cut);
  // Clearing the tail brought none of its pages in.
  CHECK(ResidentPages(mapping->data(), length) <= 2);

  // Grown again, the file reads zeros past the cut, by ReadAt and through
  // the mapping.
  REQUIRE_OK(file->Truncate(length));
  std::string expected(length, '\0');
  std::memset(expected.data(), 'x', cut);
  CHECK(ReadAll(*file) == expected);
  CHECK(std::string_view(mapping->data(), length) == expected);
}

TEST_CASE("FileSystem: Allocate grows the size and the space held", "[file_system]") {
  TestFs t(GENERATE(FsKind::kPosix, FsKind::kMem));
  INFO(t.name());
  const std::string path = t.Join("f");
  auto file = Unwrap(t.fs().OpenFile(path, OpenMode::kCreate));
  REQUIRE_OK(file->WriteAt(0, "abc"));

  REQUIRE_OK(file->Allocate(0, 64 << 10));
  CHECK(Unwrap(file->Size()) == 64 << 10);
  CHECK(Unwrap(file->AllocatedBytes()) >= 64 << 10);
  const std::string data = ReadAll(*file);
  CHECK(data.substr(0, 3) == "abc");
  CHECK(data.find_first_not_of('\0', 3) == std::string::npos);

  REQUIRE_OK(file->Allocate(0, 10));  // Never shrinks.
  CHECK(Unwrap(file->Size()) == 64 << 10);
  REQUIRE_OK(file->Allocate(64 << 10, 8 << 10));
  CHECK(Unwrap(file->Size()) == 72 << 10);
  const FileInfo info = Unwrap(t.fs().Stat(path));
  CHECK_FALSE(info.is_directory);
  CHECK(info.size == 72 << 10);
  CHECK(info.allocated_bytes >= 72 << 10);
}

TEST_CASE("FileSystem: writes through a mapping are the file's bytes", "[file_system]") {
  TestFs t(GENERATE(FsKind::kPosix, FsKind::kMem));
  INFO(t.name());
  const std::string path = t.Join("f");
  {
    auto file = Unwrap(t.fs().OpenFile(path, OpenMode::kCreate));
    REQUIRE_OK(file->Allocate(0, 16 << 10));
    auto mapping = Unwrap(file->Map(16 << 10, /*writable=*/true));
    CHECK(mapping->length() == 16 << 10);
    mapping->Populate(0, 16 << 10);
    std::memcpy(mapping->data() + 5000, "mapped", 6);
    REQUIRE_OK(mapping->Sync(5000, 6));  // Not page-aligned.

    std::string buf(6, '\0');
    CHECK(Unwrap(file->ReadAt(5000, 6, buf.data())) == 6);
    CHECK(buf == "mapped");
    // And the other way: WriteAt is seen through the mapping.
    REQUIRE_OK(file->WriteAt(9000, "written"));
    CHECK(std::string(mapping->data() + 9000, 7) == "written");
    REQUIRE_OK(mapping->Sync(0, 16 << 10));
  }
  // After reopening, by ReadAt and through a read-only mapping.
  auto file = Unwrap(t.fs().OpenFile(path, OpenMode::kRead));
  const std::string data = ReadAll(*file);
  CHECK(data.substr(5000, 6) == "mapped");
  CHECK(data.substr(9000, 7) == "written");
  auto mapping = Unwrap(file->Map(16 << 10, /*writable=*/false));
  CHECK(std::string(mapping->data() + 5000, 6) == "mapped");

  // A read-only file cannot be mapped for writing; nothing cannot be mapped.
  CHECK(file->Map(16 << 10, /*writable=*/true).status().code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(file->Map(0, /*writable=*/false).status().code() == absl::StatusCode::kInvalidArgument);
}

// Resident kB of the mapping that starts at `start`, from /proc/self/smaps.
int64_t ResidentKb(const void* start) {
  std::FILE* f = std::fopen("/proc/self/smaps", "r");
  if (f == nullptr) return -1;
  char line[512];
  bool in_mapping = false;
  int64_t rss = -1;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    unsigned long from = 0;
    unsigned long to = 0;
    if (std::sscanf(line, "%lx-%lx ", &from, &to) == 2) {
      in_mapping = from == reinterpret_cast<uintptr_t>(start);
    } else if (in_mapping && std::sscanf(line, "Rss: %ld kB", &rss) == 1) {
      break;
    }
  }
  std::fclose(f);
  return rss;
}

TEST_CASE("FileSystem: Discard drops a mapping's pages but keeps their bytes; PopulateRead maps them",
          "[file_system]") {
  TestFs t(GENERATE(FsKind::kPosix, FsKind::kMem));
  INFO(t.name());
  const std::string path = t.Join("f");
  constexpr uint64_t kLength = 64 << 10;
  std::string expected(kLength, '\0');
  for (size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<char>('a' + i % 23);
  {
    auto file = Unwrap(t.fs().OpenFile(path, OpenMode::kCreate));
    REQUIRE_OK(file->Allocate(0, kLength));
    auto mapping = Unwrap(file->Map(kLength, /*writable=*/true));
    std::memcpy(mapping->data(), expected.data(), kLength);  // Dirty, not synced.
    if (t.kind() == FsKind::kPosix) CHECK(ResidentKb(mapping->data()) == kLength >> 10);

    // A range that starts inside a page keeps that page mapped.
    mapping->Discard(100, 8 << 10);
    if (t.kind() == FsKind::kPosix) CHECK(ResidentKb(mapping->data()) == (kLength >> 10) - 4);
    mapping->Discard(0, kLength);
    if (t.kind() == FsKind::kPosix) CHECK(ResidentKb(mapping->data()) == 0);

    // Mapped again for reading, ahead of any read.
    mapping->PopulateRead(0, kLength);
    if (t.kind() == FsKind::kPosix) CHECK(ResidentKb(mapping->data()) == kLength >> 10);

    // The bytes are still the file's: through the mapping and by ReadAt.
    CHECK(std::string(mapping->data(), kLength) == expected);
    CHECK(ReadAll(*file) == expected);
    // And writable again.
    std::memcpy(mapping->data() + 10, "again", 5);
    expected.replace(10, 5, "again");
    REQUIRE_OK(file->Sync());
  }
  auto file = Unwrap(t.fs().OpenFile(path, OpenMode::kRead));
  CHECK(ReadAll(*file) == expected);
}

TEST_CASE("FileSystem: Sync and SyncDir", "[file_system]") {
  TestFs t(GENERATE(FsKind::kPosix, FsKind::kMem));
  INFO(t.name());
  auto file = Unwrap(t.fs().OpenFile(t.Join("f"), OpenMode::kCreate));
  REQUIRE_OK(file->WriteAt(0, "data"));
  CHECK_OK(file->Sync());
  CHECK_OK(t.fs().SyncDir(t.root()));
  CHECK(t.fs().SyncDir(t.Join("missing")).code() == absl::StatusCode::kNotFound);
}

TEST_CASE("FileSystem: directories, Stat, RemoveFile, RemoveDir, Rename", "[file_system]") {
  TestFs t(GENERATE(FsKind::kPosix, FsKind::kMem));
  INFO(t.name());
  FileSystem& fs = t.fs();
  const std::string dir = t.Join("sub");
  REQUIRE_OK(fs.CreateDir(dir));
  REQUIRE_OK(fs.CreateDir(dir));  // Already there: fine.
  CHECK(Unwrap(fs.ListDir(dir)).empty());
  REQUIRE_OK(Unwrap(fs.OpenFile(JoinPath(dir, "a"), OpenMode::kCreate))->WriteAt(0, "A"));
  REQUIRE_OK(Unwrap(fs.OpenFile(JoinPath(dir, "b"), OpenMode::kCreate))->WriteAt(0, "BB"));

  CHECK(Sorted(Unwrap(fs.ListDir(dir))) == std::vector<std::string>{"a", "b"});
  CHECK(Sorted(Unwrap(fs.ListDir(t.root()))) == std::vector<std::string>{"sub"});
  CHECK(Unwrap(fs.Stat(dir)).is_directory);
  const FileInfo b = Unwrap(fs.Stat(JoinPath(dir, "b")));
  CHECK_FALSE(b.is_directory);
  CHECK(b.size == 2);
  CHECK(fs.Stat(JoinPath(dir, "c")).status().code() == absl::StatusCode::kNotFound);
  CHECK(fs.ListDir(t.Join("missing")).status().code() == absl::StatusCode::kNotFound);
  // A file is in the way of a directory.
  CHECK_FALSE(fs.CreateDir(JoinPath(dir, "a")).ok());

  // Not empty (ENOTEMPTY).
  CHECK(fs.RemoveDir(dir).code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Unwrap(fs.Stat(dir)).is_directory);

  // Rename replaces its target.
  REQUIRE_OK(fs.Rename(JoinPath(dir, "a"), JoinPath(dir, "b")));
  CHECK(Unwrap(fs.ListDir(dir)) == std::vector<std::string>{"b"});
  CHECK(ReadAll(*Unwrap(fs.OpenFile(JoinPath(dir, "b"), OpenMode::kRead))) == "A");
  CHECK(fs.Stat(JoinPath(dir, "a")).status().code() == absl::StatusCode::kNotFound);
  CHECK(fs.Rename(JoinPath(dir, "a"), JoinPath(dir, "c")).code() == absl::StatusCode::kNotFound);

  REQUIRE_OK(fs.RemoveFile(JoinPath(dir, "b")));
  CHECK(fs.RemoveFile(JoinPath(dir, "b")).code() == absl::StatusCode::kNotFound);
  CHECK(Unwrap(fs.ListDir(dir)).empty());
  REQUIRE_OK(fs.RemoveDir(dir));
  CHECK(fs.Stat(dir).status().code() == absl::StatusCode::kNotFound);
  CHECK(fs.RemoveDir(dir).code() == absl::StatusCode::kNotFound);
}

TEST_CASE("FileSystem: ReadFileToString and WriteFileAtomically", "[file_system]") {
  TestFs t(GENERATE(FsKind::kPosix, FsKind::kMem));
  INFO(t.name());
  REQUIRE_OK(WriteFileAtomically(t.fs(), t.root(), "point", "first"));
  REQUIRE_OK(WriteFileAtomically(t.fs(), t.root(), "point", "second"));
  CHECK(Unwrap(ReadFileToString(t.fs(), t.Join("point"))) == "second");
  // The temporary is gone.
  CHECK(Unwrap(t.fs().ListDir(t.root())) == std::vector<std::string>{"point"});
  CHECK(ReadFileToString(t.fs(), t.Join("none")).status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("FileSystem: LockFile excludes a second lock until the first is released",
          "[file_system]") {
  TestFs t(GENERATE(FsKind::kPosix, FsKind::kMem));
  INFO(t.name());
  FileSystem& fs = t.fs();
  const std::string path = t.Join("lock");

  auto lock = Unwrap(fs.LockFile(path));
  CHECK(Unwrap(ReadFileToString(fs, path)) == std::to_string(getpid()) + "\n");

  const absl::Status second = fs.LockFile(path).status();
  CHECK(second.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(second.message()), Contains(std::to_string(getpid())));
  // Another path is another lock.
  auto other = Unwrap(fs.LockFile(t.Join("other-lock")));

  lock.reset();
  auto again = fs.LockFile(path);
  CHECK_OK(again);
}

// Kills and reaps a child process when the test leaves, whatever happens.
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ~ChildGuard() { Reap(); }
  void Reap() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_;
};

TEST_CASE("PosixFileSystem: a lock held by another process names that process", "[file_system]") {
  testing::TempDir tmp;
  PosixFileSystem fs;
  const std::string path = tmp.Join("lock");
  int ready[2];
  int release[2];
  REQUIRE(pipe(ready) == 0);
  REQUIRE(pipe(release) == 0);

  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child takes the lock, says so, and holds it until the parent
    // closes its end of `release` (or kills it).
    close(ready[0]);
    close(release[1]);
    auto lock = fs.LockFile(path);
    const char c = lock.ok() ? 'y' : 'n';
    if (write(ready[1], &c, 1) != 1) _exit(2);
    char ignored;
    while (read(release[0], &ignored, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  ChildGuard guard(child);
  close(ready[1]);
  close(release[0]);
  char c = 0;
  REQUIRE(read(ready[0], &c, 1) == 1);
  REQUIRE(c == 'y');

  const absl::Status held = fs.LockFile(path).status();
  CHECK(held.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(held.message()), Contains(std::to_string(child)));
  CHECK_THAT(std::string(held.message()), !Contains("this process"));

  // A dead holder holds nothing.
  guard.Reap();
  close(ready[0]);
  close(release[1]);
  auto lock = fs.LockFile(path);
  CHECK_OK(lock);
}

}  // namespace
}  // namespace rill
