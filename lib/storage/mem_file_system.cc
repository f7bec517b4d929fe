#include "storage/mem_file_system.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/dynamic_annotations.h"
#include "absl/strings/str_cat.h"
#include "storage/disk_usage.h"
#include "storage/posix_file_system.h"
#include "util/align.h"
#include "util/status_macros.h"

namespace rill {
namespace {

// The unit of space charges and of durability tracking, as on a disk.
constexpr uint64_t kBlock = DiskUsage::kBlock;

// For its scope, the race detector overlooks this thread's reads. Writeback
// takes a file's pages as they are while a writer may still be changing them,
// and so does a sync here: one past a segment's published end (the
// sync-ahead of Segment::SyncTo), or of a whole block around it, copies
// bytes an append is writing through a mapping. The durable copy may then
// hold a torn batch, which recovery cuts, as after a real loss of power.
class WritebackReads {
 public:
  WritebackReads() { ABSL_ANNOTATE_IGNORE_READS_BEGIN(); }
  ~WritebackReads() { ABSL_ANNOTATE_IGNORE_READS_END(); }
  WritebackReads(const WritebackReads&) = delete;
  WritebackReads& operator=(const WritebackReads&) = delete;
};

}  // namespace

// A file's content, shared by every File and Mapping open on it and by the
// namespace entries that name it. Its space is charged to the file system
// while it has users: a live name, an open File or a Mapping. The durable
// namespace may keep a node alive after that, for CrashCopy, but a device
// would have reused its space.
struct MemFileSystem::Node {
  explicit Node(MemFileSystem* owner) : fs(owner) {}
  ~Node() {
    Release();
    if (users > 0)
      (void)fs->ReserveSpace(-static_cast<int64_t>(DiskUsage::RoundUp(size)));  // Cannot fail.
  }

  void AddUser() {
    MutexLock lock(&mu);
    ++users;
  }
  // The last user gone, the node's space is free.
  void DropUser() {
    MutexLock lock(&mu);
    if (--users == 0) (void)fs->ReserveSpace(-static_cast<int64_t>(DiskUsage::RoundUp(size)));
  }

  // Content of up to kHeapCapacity bytes lives on the heap, zeroed: a log's
  // small files (its lock, metadata and checkpoints, rewritten whole on each
  // change) then cost no system call to make or drop. Larger content gets a
  // private anonymous mapping of its own, whose cut tail Zero() hands back.
  static constexpr uint64_t kHeapCapacity = 64 << 10;
  bool OnHeap() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return capacity <= kHeapCapacity; }

  // Makes room for `need` bytes. A mapped node cannot move.
  absl::Status Reserve(uint64_t need) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (need <= capacity) return absl::OkStatus();
    if (mappings > 0) {
      return absl::FailedPreconditionError("in-memory file cannot grow past its mapping");
    }
    const uint64_t cap = std::max(RoundUp(need, kBlock), capacity * 2);
    char* p;
    if (cap <= kHeapCapacity) {
      p = static_cast<char*>(std::aligned_alloc(kBlock, cap));  // As a mapping would be.
      if (p == nullptr) return ErrnoStatus(ENOMEM, "aligned_alloc", "in-memory file");
      std::memset(p, 0, cap);
    } else {
      void* m = mmap(nullptr, cap, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (m == MAP_FAILED) return ErrnoStatus(errno, "mmap", "in-memory file");
      p = static_cast<char*>(m);
    }
    if (base != nullptr) std::memcpy(p, base, size);
    Release();
    base = p;
    capacity = cap;
    return absl::OkStatus();
  }

  // Frees the content's memory.
  void Release() ABSL_NO_THREAD_SAFETY_ANALYSIS {  // Under mu, or from ~Node.
    if (base == nullptr) return;
    if (OnHeap()) {
      std::free(base);
    } else {
      munmap(base, capacity);
    }
  }

  // Sets the size, charging the file system for the difference.
  absl::Status Resize(uint64_t new_size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (new_size == size) return absl::OkStatus();
    if (absl::Status s = fs->ReserveSpace(static_cast<int64_t>(DiskUsage::RoundUp(new_size)) -
                                          static_cast<int64_t>(DiskUsage::RoundUp(size)));
        !s.ok()) {
      return s;
    }
    if (absl::Status s = Reserve(new_size); !s.ok()) {
      (void)fs->ReserveSpace(
          static_cast<int64_t>(DiskUsage::RoundUp(size)) -
          static_cast<int64_t>(DiskUsage::RoundUp(new_size)));  // Undo: cannot fail.
      return s;
    }
    // Bytes past the end read as zero if the file grows again.
    if (new_size < size) Zero(new_size, size);
    size = new_size;
    return absl::OkStatus();
  }

  // Zero(from, to): zeroes the bytes [from, to). Whole pages are handed back
  // to the kernel, after which they read as zeros, rather than written: a
  // segment trimmed on seal leaves a tail of mostly untouched pages, and
  // writing zeros there would fault in every one of them.
  void Zero(uint64_t from, uint64_t to) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (OnHeap()) {
      std::memset(base + from, 0, to - from);
      return;
    }
    const uint64_t page = PageSize();
    const uint64_t pages_from = std::min(to, RoundUp(from, page));
    const uint64_t pages_to = std::max(pages_from, RoundDown(to, page));
    std::memset(base + from, 0, pages_from - from);
    // A private anonymous mapping: MADV_DONTNEED leaves zeros.
    if (pages_to > pages_from &&
        madvise(base + pages_from, pages_to - pages_from, MADV_DONTNEED) != 0) {
      std::memset(base + pages_from, 0, pages_to - pages_from);
    }
    std::memset(base + pages_to, 0, to - pages_to);
  }

  // Records [offset, offset+n) and the current size as durable -- except
  // pages lost to a failed sync and not written since (LoseUnsynced), which
  // keep what the device held.
  void MarkDurable(uint64_t offset, uint64_t n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (!fs->options().track_durability) return;
    durable.resize(size, '\0');
    const uint64_t end = std::min(offset + n, size);
    if (offset >= end) return;
    const WritebackReads reads;
    std::vector<std::pair<uint64_t, std::string>> kept;
    for (auto it = lost.lower_bound(RoundDown(offset, kBlock));
         it != lost.end() && it->first < end;) {
      const uint64_t page_end = std::min(it->first + kBlock, size);
      if (std::string_view(base + it->first, page_end - it->first) != it->second) {
        it = lost.erase(it);  // Written again since: it goes out now.
        continue;
      }
      const uint64_t from = std::max(it->first, offset);
      const uint64_t to = std::min(page_end, end);
      kept.emplace_back(from, durable.substr(from, to - from));
      ++it;
    }
    std::memcpy(durable.data() + offset, base + offset, end - offset);
    for (const auto& [at, bytes] : kept) durable.replace(at, bytes.size(), bytes);
  }

  // A failed sync of [offset, offset+n), as Linux handles a writeback
  // error: the pages it had to write are marked clean, though the device
  // did not take them, so a later sync skips them. Each keeps a copy of what
  // it held then; it is written again -- and goes out with the next sync --
  // once its content changes or Redirty touches it.
  void LoseUnsynced(uint64_t offset, uint64_t n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (!fs->options().track_durability) return;
    const uint64_t end = std::min(offset + n, size);
    const WritebackReads reads;
    for (uint64_t page = RoundDown(offset, kBlock); page < end; page += kBlock) {
      const uint64_t len = std::min(kBlock, size - page);
      const std::string_view live(base + page, len);
      const std::string_view was =
          page < durable.size() ? std::string_view(durable).substr(page, len) : "";
      if (live != was) lost.insert_or_assign(page, std::string(live));
    }
  }

  // Marks the pages of [offset, offset+n) dirty: a write through the file,
  // or a write fault on a mapping (Mapping::Populate).
  void Redirty(uint64_t offset, uint64_t n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (n == 0) return;
    lost.erase(lost.lower_bound(RoundDown(offset, kBlock)), lost.lower_bound(offset + n));
  }

  MemFileSystem* const fs;
  Mutex mu;
  char* base ABSL_GUARDED_BY(mu) = nullptr;
  uint64_t capacity ABSL_GUARDED_BY(mu) = 0;
  uint64_t size ABSL_GUARDED_BY(mu) = 0;
  int mappings ABSL_GUARDED_BY(mu) = 0;
  int users ABSL_GUARDED_BY(mu) = 0;  // Live names, open Files and Mappings.
  std::string durable ABSL_GUARDED_BY(mu);  // Content as of the last sync.
  // Pages lost to a failed sync (LoseUnsynced): position -> content then.
  std::map<uint64_t, std::string> lost ABSL_GUARDED_BY(mu);
};

namespace {

using Node = MemFileSystem::Node;

class MemMapping final : public Mapping {
 public:
  // Made with node->mu held, mappings already counted.
  MemMapping(std::shared_ptr<Node> node, char* data, uint64_t length)
      : Mapping(data, length), node_(std::move(node)) {}
  ~MemMapping() override {
    {
      MutexLock lock(&node_->mu);
      --node_->mappings;
    }
    node_->DropUser();
  }

  absl::Status Sync(uint64_t offset, uint64_t n) override {
    const absl::Status s = node_->fs->CheckFault(kMemFsSync);
    {
      MutexLock lock(&node_->mu);
      if (!s.ok()) {
        node_->LoseUnsynced(offset, n);
        return s;
      }
      node_->MarkDurable(offset, n);
    }
    node_->fs->ObserveMappingSync(offset, n);
    return absl::OkStatus();
  }

  void Populate(uint64_t offset, uint64_t n) override {
    if (!node_->fs->options().track_durability) return;
    MutexLock lock(&node_->mu);
    node_->Redirty(offset, n);
  }
  void Discard(uint64_t, uint64_t) override {}
  void PopulateRead(uint64_t, uint64_t) override {}

 private:
  std::shared_ptr<Node> node_;
};

class MemFile final : public File {
 public:
  MemFile(std::string path, std::shared_ptr<Node> node, bool writable)
      : File(std::move(path)), node_(std::move(node)), writable_(writable) {
    node_->AddUser();
  }
  ~MemFile() override { node_->DropUser(); }

  absl::StatusOr<uint64_t> Size() override {
    MutexLock lock(&node_->mu);
    return node_->size;
  }

  absl::StatusOr<uint64_t> AllocatedBytes() override {
    MutexLock lock(&node_->mu);
    return DiskUsage::RoundUp(node_->size);
  }

  absl::StatusOr<size_t> ReadAt(uint64_t offset, size_t n, char* dst) override {
    if (absl::Status s = node_->fs->CheckFault(kMemFsRead); !s.ok()) return s;
    MutexLock lock(&node_->mu);
    if (offset >= node_->size) return 0;
    const size_t count = static_cast<size_t>(std::min<uint64_t>(n, node_->size - offset));
    std::memcpy(dst, node_->base + offset, count);
    return count;
  }

  absl::Status WritevAt(uint64_t offset, std::span<const std::string_view> pieces) override {
    if (!writable_) return ErrnoStatus(EBADF, "write", path());
    if (absl::Status s = node_->fs->CheckFault(kMemFsWrite); !s.ok()) return s;
    uint64_t n = 0;
    for (std::string_view piece : pieces) n += piece.size();
    MutexLock lock(&node_->mu);
    if (offset + n > node_->size) {
      if (absl::Status s = node_->Resize(offset + n); !s.ok()) return Annotate(s);
    }
    node_->Redirty(offset, n);
    for (std::string_view piece : pieces) {
      if (!piece.empty()) std::memcpy(node_->base + offset, piece.data(), piece.size());
      offset += piece.size();
    }
    return absl::OkStatus();
  }

  absl::Status Truncate(uint64_t size) override {
    if (!writable_) return ErrnoStatus(EBADF, "ftruncate", path());
    if (absl::Status s = node_->fs->CheckFault(kMemFsTruncate); !s.ok()) return s;
    MutexLock lock(&node_->mu);
    return Annotate(node_->Resize(size));
  }

  absl::Status Allocate(uint64_t offset, uint64_t n) override {
    if (!writable_) return ErrnoStatus(EBADF, "fallocate", path());
    if (absl::Status s = node_->fs->CheckFault(kMemFsAllocate); !s.ok()) return s;
    MutexLock lock(&node_->mu);
    if (offset + n <= node_->size) return absl::OkStatus();
    return Annotate(node_->Resize(offset + n));
  }

  absl::Status Sync() override {
    const absl::Status s = node_->fs->CheckFault(kMemFsSync);
    MutexLock lock(&node_->mu);
    if (!s.ok()) {
      node_->LoseUnsynced(0, node_->size);
      return s;
    }
    node_->MarkDurable(0, node_->size);
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<Mapping>> Map(uint64_t length, bool writable) override {
    if (writable && !writable_) return ErrnoStatus(EACCES, "mmap", path());
    if (length == 0) return absl::InvalidArgumentError(absl::StrCat("mmap ", path(), ": empty"));
    if (absl::Status s = node_->fs->CheckFault(kMemFsMap); !s.ok()) return s;
    MutexLock lock(&node_->mu);
    if (absl::Status s = node_->Reserve(length); !s.ok()) return Annotate(s);
    ++node_->mappings;
    ++node_->users;
    return std::make_unique<MemMapping>(node_, node_->base, length);
  }

 private:
  absl::Status Annotate(const absl::Status& s) {
    if (s.ok()) return s;
    return absl::Status(s.code(), absl::StrCat(path(), ": ", s.message()));
  }

  std::shared_ptr<Node> node_;
  const bool writable_;
};

}  // namespace

class MemFileLock final : public FileLock {
 public:
  MemFileLock(MemFileSystem* fs, std::string path) : fs_(fs), path_(std::move(path)) {}
  ~MemFileLock() override {
    MutexLock lock(&fs_->mu_);
    fs_->locked_.erase(path_);
  }

 private:
  MemFileSystem* const fs_;
  const std::string path_;
};

MemFileSystem::MemFileSystem(const Options& options) : options_(options) {
  live_["/"] = Entry{};
  durable_["/"] = Entry{};
}

MemFileSystem::~MemFileSystem() {
  // Nodes release their space into this object as they go.
  MutexLock lock(&mu_);
  live_.clear();
  durable_.clear();
}

std::string MemFileSystem::Parent(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool MemFileSystem::IsDirLocked(const std::string& path) const {
  if (path == "." || path == "/") return true;
  auto it = live_.find(path);
  return it != live_.end() && it->second.node == nullptr;
}

absl::Status MemFileSystem::CheckParentLocked(const std::string& path) {
  const std::string parent = Parent(path);
  if (IsDirLocked(parent)) return absl::OkStatus();
  if (live_.count(parent) > 0) return ErrnoStatus(ENOTDIR, "open", path);
  return ErrnoStatus(ENOENT, "open", path);
}

absl::Status MemFileSystem::CheckFault(uint32_t op) {
  std::shared_ptr<std::function<absl::Status(uint32_t)>> hook;
  {
    MutexLock lock(&fault_mu_);
    if ((hook_ops_ & op) != 0) hook = hook_;
  }
  if (hook != nullptr) RETURN_IF_ERROR((*hook)(op));
  MutexLock lock(&fault_mu_);
  ++op_counts_[op];
  if ((fault_ops_ & op) == 0) return absl::OkStatus();
  if (fault_countdown_ > 0) {
    --fault_countdown_;
    return absl::OkStatus();
  }
  absl::Status s = fault_status_;
  if (fault_once_) fault_ops_ = 0;
  return s;
}

absl::Status MemFileSystem::ReserveSpace(int64_t delta) {
  MutexLock lock(&fault_mu_);
  if (delta > 0 && space_limit_ > 0 && used_bytes_ + static_cast<uint64_t>(delta) > space_limit_) {
    return ErrnoStatus(ENOSPC, "write", "in-memory file system");
  }
  used_bytes_ = static_cast<uint64_t>(static_cast<int64_t>(used_bytes_) + delta);
  return absl::OkStatus();
}

void MemFileSystem::SetOperationHook(uint32_t ops,
                                     std::function<absl::Status(uint32_t)> hook) {
  MutexLock lock(&fault_mu_);
  hook_ops_ = hook != nullptr ? ops : 0;
  hook_ = hook != nullptr
              ? std::make_shared<std::function<absl::Status(uint32_t)>>(std::move(hook))
              : nullptr;
}

void MemFileSystem::SetMappingSyncObserver(std::function<void(uint64_t, uint64_t)> observer) {
  MutexLock lock(&fault_mu_);
  sync_observer_ =
      observer != nullptr
          ? std::make_shared<std::function<void(uint64_t, uint64_t)>>(std::move(observer))
          : nullptr;
}

void MemFileSystem::ObserveMappingSync(uint64_t offset, uint64_t n) {
  std::shared_ptr<std::function<void(uint64_t, uint64_t)>> observer;
  {
    MutexLock lock(&fault_mu_);
    observer = sync_observer_;
  }
  if (observer != nullptr) (*observer)(offset, n);
}

void MemFileSystem::InjectFault(uint32_t ops, int64_t countdown, absl::Status status, bool once) {
  MutexLock lock(&fault_mu_);
  fault_ops_ = ops;
  fault_countdown_ = countdown;
  fault_status_ = std::move(status);
  fault_once_ = once;
}

void MemFileSystem::ClearFaults() {
  MutexLock lock(&fault_mu_);
  fault_ops_ = 0;
}

int64_t MemFileSystem::OperationCount(uint32_t ops) const {
  MutexLock lock(&fault_mu_);
  int64_t n = 0;
  for (const auto& [op, count] : op_counts_) {
    if ((op & ops) != 0) n += count;
  }
  return n;
}

void MemFileSystem::SetSpaceLimit(uint64_t bytes) {
  MutexLock lock(&fault_mu_);
  space_limit_ = bytes;
}

uint64_t MemFileSystem::UsedBytes() const {
  MutexLock lock(&fault_mu_);
  return used_bytes_;
}

absl::StatusOr<std::unique_ptr<File>> MemFileSystem::OpenFile(const std::string& path,
                                                              OpenMode mode) {
  if (absl::Status s = CheckFault(kMemFsOpen); !s.ok()) return s;
  MutexLock lock(&mu_);
  auto it = live_.find(path);
  if (it != live_.end() && it->second.node == nullptr) return ErrnoStatus(EISDIR, "open", path);
  if (it == live_.end()) {
    if (mode == OpenMode::kRead || mode == OpenMode::kReadWrite) {
      return ErrnoStatus(ENOENT, "open", path);
    }
    if (absl::Status s = CheckParentLocked(path); !s.ok()) return s;
    it = live_.emplace(path, Entry{std::make_shared<Node>(this)}).first;
    it->second.node->AddUser();
  } else if (mode == OpenMode::kCreateExclusive) {
    return ErrnoStatus(EEXIST, "open", path);
  } else if (mode == OpenMode::kTruncate) {
    MutexLock node_lock(&it->second.node->mu);
    if (absl::Status s = it->second.node->Resize(0); !s.ok()) return s;
  }
  return std::make_unique<MemFile>(path, it->second.node, mode != OpenMode::kRead);
}

absl::Status MemFileSystem::CreateDir(const std::string& path) {
  if (absl::Status s = CheckFault(kMemFsCreateDir); !s.ok()) return s;
  MutexLock lock(&mu_);
  auto it = live_.find(path);
  if (it != live_.end()) {
    return it->second.node == nullptr ? absl::OkStatus() : ErrnoStatus(EEXIST, "mkdir", path);
  }
  if (absl::Status s = CheckParentLocked(path); !s.ok()) return s;
  live_.emplace(path, Entry{});
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> MemFileSystem::ListDir(const std::string& path) {
  MutexLock lock(&mu_);
  if (!IsDirLocked(path)) {
    return ErrnoStatus(live_.count(path) > 0 ? ENOTDIR : ENOENT, "opendir", path);
  }
  std::vector<std::string> names;
  const std::string prefix = path == "/" ? "/" : path + "/";
  for (auto it = live_.lower_bound(prefix); it != live_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    const std::string rest = it->first.substr(prefix.size());
    if (!rest.empty() && rest.find('/') == std::string::npos) names.push_back(rest);
  }
  return names;
}

absl::StatusOr<FileInfo> MemFileSystem::Stat(const std::string& path) {
  MutexLock lock(&mu_);
  if (IsDirLocked(path)) return FileInfo{.is_directory = true};
  auto it = live_.find(path);
  if (it == live_.end()) return ErrnoStatus(ENOENT, "stat", path);
  MutexLock node_lock(&it->second.node->mu);
  return FileInfo{.size = it->second.node->size,
                  .allocated_bytes = DiskUsage::RoundUp(it->second.node->size)};
}

absl::Status MemFileSystem::RemoveFile(const std::string& path) {
  if (absl::Status s = CheckFault(kMemFsRemove); !s.ok()) return s;
  MutexLock lock(&mu_);
  auto it = live_.find(path);
  if (it == live_.end()) return ErrnoStatus(ENOENT, "unlink", path);
  if (it->second.node == nullptr) return ErrnoStatus(EISDIR, "unlink", path);
  it->second.node->DropUser();
  live_.erase(it);
  return absl::OkStatus();
}

absl::Status MemFileSystem::RemoveDir(const std::string& path) {
  if (absl::Status s = CheckFault(kMemFsRemove); !s.ok()) return s;
  MutexLock lock(&mu_);
  auto it = live_.find(path);
  if (it == live_.end()) return ErrnoStatus(ENOENT, "rmdir", path);
  if (it->second.node != nullptr) return ErrnoStatus(ENOTDIR, "rmdir", path);
  const std::string prefix = path + "/";
  auto child = live_.lower_bound(prefix);
  if (child != live_.end() && child->first.compare(0, prefix.size(), prefix) == 0) {
    return ErrnoStatus(ENOTEMPTY, "rmdir", path);
  }
  live_.erase(it);
  return absl::OkStatus();
}

absl::Status MemFileSystem::Rename(const std::string& from, const std::string& to) {
  if (absl::Status s = CheckFault(kMemFsRename); !s.ok()) return s;
  MutexLock lock(&mu_);
  auto it = live_.find(from);
  if (it == live_.end()) return ErrnoStatus(ENOENT, "rename", from);
  if (it->second.node == nullptr) {
    return absl::UnimplementedError("in-memory file system renames files only");
  }
  if (absl::Status s = CheckParentLocked(to); !s.ok()) return s;
  auto target = live_.find(to);
  if (target != live_.end() && target->second.node == nullptr) {
    return ErrnoStatus(EISDIR, "rename", to);
  }
  if (target != live_.end() && target->second.node == it->second.node) return absl::OkStatus();
  if (target != live_.end()) target->second.node->DropUser();  // Replaced.
  Entry entry = it->second;
  live_.erase(it);
  live_[to] = std::move(entry);
  return absl::OkStatus();
}

absl::Status MemFileSystem::SyncDir(const std::string& path) {
  if (absl::Status s = CheckFault(kMemFsSyncDir); !s.ok()) return s;
  MutexLock lock(&mu_);
  if (!IsDirLocked(path)) return ErrnoStatus(ENOENT, "fsync", path);
  // The durable entries of `path` become its live entries.
  auto in_dir = [&](const std::string& p) { return p != path && Parent(p) == path; };
  for (auto it = durable_.begin(); it != durable_.end();) {
    it = in_dir(it->first) ? durable_.erase(it) : std::next(it);
  }
  for (const auto& [p, entry] : live_) {
    if (in_dir(p)) durable_[p] = entry;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<FileLock>> MemFileSystem::LockFile(const std::string& path) {
  {
    MutexLock lock(&mu_);
    if (locked_.count(path) > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, " is locked by this process (pid ", getpid(), "): the log is open for writing there"));
    }
  }
  auto file = OpenFile(path, OpenMode::kCreate);
  if (!file.ok()) return file.status();
  const std::string pid = absl::StrCat(getpid(), "\n");
  if (absl::Status s = (*file)->Truncate(0); !s.ok()) return s;
  if (absl::Status s = (*file)->WriteAt(0, pid); !s.ok()) return s;
  MutexLock lock(&mu_);
  if (!locked_.insert(path).second) {
    return absl::FailedPreconditionError(absl::StrCat(path, " is locked by this process"));
  }
  return std::make_unique<MemFileLock>(this, path);
}

std::unique_ptr<MemFileSystem> MemFileSystem::CrashCopy(CrashMode mode, uint64_t seed) const {
  auto copy = std::make_unique<MemFileSystem>(options_);
  std::mt19937_64 rng(seed);
  MutexLock lock(&mu_);
  MutexLock copy_lock(&copy->mu_);  // Not shared yet; the lock keeps the analysis exact.
  for (const auto& [path, entry] : durable_) {
    if (path == "/") continue;
    // A directory whose own entry was never made durable is gone, and with
    // it everything below it.
    bool reachable = true;
    for (std::string p = Parent(path); p != "/" && p != "."; p = Parent(p)) {
      if (durable_.count(p) == 0) reachable = false;
    }
    if (!reachable) continue;
    if (entry.node == nullptr) {
      copy->live_[path] = Entry{};
      continue;
    }
    std::string content;
    {
      MutexLock node_lock(&entry.node->mu);
      const std::string current(entry.node->base == nullptr ? "" : std::string(entry.node->base,
                                                                               entry.node->size));
      content = entry.node->durable;
      const size_t common = std::min(content.size(), current.size());
      switch (mode) {
        case CrashMode::kDropUnsynced:
          break;
        case CrashMode::kCutUnsynced: {
          // Unsynced bytes reach the device in file order, up to a cut.
          size_t first = 0;
          while (first < common && content[first] == current[first]) ++first;
          if (first < current.size()) {
            const size_t cut = first + rng() % (current.size() - first + 1);
            if (content.size() < cut) content.resize(cut, '\0');
            std::memcpy(content.data() + first, current.data() + first, cut - first);
          }
          break;
        }
        case CrashMode::kRandomPages: {
          if (content.size() < current.size() && rng() % 2 == 0) content.resize(current.size(), '\0');
          for (size_t page = 0; page < content.size(); page += kBlock) {
            const size_t end = std::min({page + kBlock, content.size(), current.size()});
            if (page >= end || std::memcmp(content.data() + page, current.data() + page, end - page) == 0) {
              continue;
            }
            if (rng() % 2 == 0) std::memcpy(content.data() + page, current.data() + page, end - page);
          }
          break;
        }
        case CrashMode::kGarbageUnsynced: {
          if (content.size() < current.size() && rng() % 2 == 0) content.resize(current.size(), '\0');
          for (size_t i = 0; i < content.size(); ++i) {
            if (i >= current.size() || content[i] != current[i]) {
              content[i] = static_cast<char>(rng());
            }
          }
          break;
        }
      }
    }
    auto node = std::make_shared<Node>(copy.get());
    node->AddUser();  // Its name in the copy.
    {
      MutexLock node_lock(&node->mu);
      if (!node->Resize(content.size()).ok()) continue;
      if (!content.empty()) std::memcpy(node->base, content.data(), content.size());
      node->durable = content;
    }
    copy->live_[path] = Entry{node};
  }
  copy->durable_ = copy->live_;
  return copy;
}

}  // namespace rill
