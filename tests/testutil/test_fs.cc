#include "testutil/test_fs.h"

#include "testutil/status.h"

namespace rill::testing {

TestFs::TestFs(FsKind kind, const MemFileSystem::Options& mem_options) : kind_(kind) {
  if (kind == FsKind::kMem) {
    mem_ = std::make_unique<MemFileSystem>(mem_options);
    fs_ = mem_.get();
    root_ = "/test";
    REQUIRE_OK(fs_->CreateDir(root_));
    REQUIRE_OK(fs_->SyncDir("/"));
  } else {
    tmp_.emplace();
    fs_ = &posix_;
    root_ = tmp_->path();
  }
}

}  // namespace rill::testing
