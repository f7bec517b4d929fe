// TestFs: a file system and an empty directory in it for one test, either
// the real one (PosixFileSystem, in a TempDir) or an in-memory one
// (MemFileSystem), so that one test body can run over both:
//
//   TestFs t(GENERATE(FsKind::kMem, FsKind::kPosix));
//   INFO(t.name());
//   auto file = t.fs().OpenFile(t.Join("f"), OpenMode::kCreate);
//
// Destroy everything that uses the file system before the TestFs.
#ifndef RILL_TESTS_TESTUTIL_TEST_FS_H_
#define RILL_TESTS_TESTUTIL_TEST_FS_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/file_system.h"
#include "storage/mem_file_system.h"
#include "storage/posix_file_system.h"
#include "testutil/temp_dir.h"

namespace rill::testing {

enum class FsKind { kMem, kPosix };

class TestFs {
 public:
  explicit TestFs(FsKind kind, const MemFileSystem::Options& mem_options = {});
  TestFs(const TestFs&) = delete;
  TestFs& operator=(const TestFs&) = delete;

  FileSystem& fs() { return *fs_; }
  // mem(): the MemFileSystem, or null for POSIX.
  MemFileSystem* mem() { return mem_.get(); }
  FsKind kind() const { return kind_; }
  const char* name() const { return kind_ == FsKind::kMem ? "MemFileSystem" : "PosixFileSystem"; }
  // root(): an existing, empty directory for the test.
  const std::string& root() const { return root_; }
  std::string Join(std::string_view name) const { return JoinPath(root_, name); }

 private:
  const FsKind kind_;
  std::optional<TempDir> tmp_;
  std::unique_ptr<MemFileSystem> mem_;
  PosixFileSystem posix_;
  FileSystem* fs_;
  std::string root_;
};

}  // namespace rill::testing

#endif  // RILL_TESTS_TESTUTIL_TEST_FS_H_
