// MemFileSystem: a FileSystem held wholly in this process's memory, for logs
// that need no files (Log::OpenInMemory, test fixtures) and for tests that
// inject faults:
//
//  - InjectFault: fail chosen operations (writes, allocations, syncs, ...)
//    with a chosen status, e.g. ENOSPC, after a countdown;
//  - SetSpaceLimit: a device of limited size, full like a real one;
//  - CrashCopy: with durability tracking on, the state a loss of power would
//    leave: only what was synced -- file data, sizes and directory entries --
//    is sure to be there; the rest is dropped, cut short, half written back
//    page by page, or garbage, as the CrashMode says. A sync that fails
//    (InjectFault) is handled as Linux handles a writeback error: the pages
//    it had to write are treated as written, so a later sync skips them,
//    until they are written again (their content changes, WriteAt, or
//    Mapping::Populate).
//
// File content lives in anonymous memory reserved per file, so a mapping's
// address never moves; a mapped file cannot grow past its largest mapping.
//
// Thread-safety: as FileSystem.
#ifndef RILL_LIB_STORAGE_MEM_FILE_SYSTEM_H_
#define RILL_LIB_STORAGE_MEM_FILE_SYSTEM_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "util/mutex.h"
#include "storage/file_system.h"

namespace rill {

// Kinds of operation, for fault injection (a bit mask).
enum MemFsOp : uint32_t {
  kMemFsOpen = 1 << 0,       // OpenFile
  kMemFsWrite = 1 << 1,      // File::WriteAt, WritevAt
  kMemFsAllocate = 1 << 2,   // File::Allocate
  kMemFsTruncate = 1 << 3,   // File::Truncate
  kMemFsSync = 1 << 4,       // File::Sync and Mapping::Sync
  kMemFsSyncDir = 1 << 5,    // SyncDir
  kMemFsRename = 1 << 6,     // Rename
  kMemFsRemove = 1 << 7,     // RemoveFile, RemoveDir
  kMemFsMap = 1 << 8,        // File::Map
  kMemFsCreateDir = 1 << 9,  // CreateDir
  kMemFsRead = 1 << 10,      // File::ReadAt
  kMemFsAll = (1 << 11) - 1,
};

enum class CrashMode {
  kDropUnsynced,     // Every unsynced byte is lost.
  kCutUnsynced,      // Unsynced bytes persist in file order up to a random point.
  kRandomPages,      // Each unsynced 4 KiB page persists or not, at random.
  kGarbageUnsynced,  // Unsynced bytes become random garbage.
};

class MemFileSystem final : public FileSystem {
 public:
  struct Options {
    // Keep a copy of each file as of its last sync, for CrashCopy. Costs a
    // copy of the file at every sync; off for in-memory logs.
    bool track_durability = false;
  };

  MemFileSystem() : MemFileSystem(Options{}) {}
  explicit MemFileSystem(const Options& options);
  ~MemFileSystem() override;

  absl::StatusOr<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override;
  absl::Status CreateDir(const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) override;
  absl::StatusOr<FileInfo> Stat(const std::string& path) override;
  absl::Status RemoveFile(const std::string& path) override;
  absl::Status RemoveDir(const std::string& path) override;
  absl::Status Rename(const std::string& from, const std::string& to) override;
  absl::Status SyncDir(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;

  // InjectFault(ops, countdown, status): the next `countdown` operations of
  // the kinds in `ops` succeed, then each one after fails with `status`
  // (changing nothing) -- once if `once`, else until ClearFaults().
  void InjectFault(uint32_t ops, int64_t countdown, absl::Status status, bool once = false);
  void ClearFaults();
  // OperationCount(ops): operations of those kinds attempted so far.
  int64_t OperationCount(uint32_t ops) const;
  // SetOperationHook(ops, hook): each operation of the kinds in `ops` first
  // calls hook(op), on the thread doing it and with no lock held; if the
  // hook returns an error, the operation fails with it (changing nothing).
  // Lets a test hold an operation mid-way while other threads go on. Null:
  // none.
  void SetOperationHook(uint32_t ops, std::function<absl::Status(uint32_t)> hook);
  // SetMappingSyncObserver(observer): each Mapping::Sync(offset, n) that
  // succeeds then calls observer(offset, n), with no lock held. Lets a test
  // see which bytes a sync covered. Null: none.
  void SetMappingSyncObserver(std::function<void(uint64_t, uint64_t)> observer);
  void ObserveMappingSync(uint64_t offset, uint64_t n);  // Internal.

  // SetSpaceLimit(bytes): operations that would make the files' total size
  // exceed `bytes` fail with ENOSPC (kResourceExhausted). 0: no limit.
  void SetSpaceLimit(uint64_t bytes);
  // UsedBytes(): total size of the files that have a name or are open, each
  // rounded up to 4 KiB. A removed file's space is free once nothing has it
  // open, as on a real device, even if a crash would bring the file back.
  uint64_t UsedBytes() const;

  // CrashCopy(mode, seed): a new file system holding what a power loss at
  // this instant would leave behind. Requires track_durability. This file
  // system is unchanged and can go on being used (and then dropped).
  std::unique_ptr<MemFileSystem> CrashCopy(CrashMode mode, uint64_t seed) const;

  // Internal; public so the file and mapping classes of the .cc can use it.
  struct Node;
  absl::Status CheckFault(uint32_t op);
  absl::Status ReserveSpace(int64_t delta);
  const Options& options() const { return options_; }

 private:
  struct Entry {
    std::shared_ptr<Node> node;  // Null for a directory.
  };
  static std::string Parent(const std::string& path);
  absl::Status CheckParentLocked(const std::string& path) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool IsDirLocked(const std::string& path) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;

  mutable Mutex mu_;
  // The namespace as it is now, and as a loss of power would leave it (the
  // entries of each directory as of its last SyncDir).
  std::map<std::string, Entry> live_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Entry> durable_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> locked_ ABSL_GUARDED_BY(mu_);

  mutable Mutex fault_mu_;
  uint32_t fault_ops_ ABSL_GUARDED_BY(fault_mu_) = 0;
  int64_t fault_countdown_ ABSL_GUARDED_BY(fault_mu_) = 0;
  bool fault_once_ ABSL_GUARDED_BY(fault_mu_) = false;
  absl::Status fault_status_ ABSL_GUARDED_BY(fault_mu_);
  std::map<uint32_t, int64_t> op_counts_ ABSL_GUARDED_BY(fault_mu_);
  uint32_t hook_ops_ ABSL_GUARDED_BY(fault_mu_) = 0;
  std::shared_ptr<std::function<absl::Status(uint32_t)>> hook_ ABSL_GUARDED_BY(fault_mu_);
  std::shared_ptr<std::function<void(uint64_t, uint64_t)>> sync_observer_
      ABSL_GUARDED_BY(fault_mu_);
  uint64_t space_limit_ ABSL_GUARDED_BY(fault_mu_) = 0;
  uint64_t used_bytes_ ABSL_GUARDED_BY(fault_mu_) = 0;

  friend class MemFileLock;
};

}  // namespace rill

#endif  // RILL_LIB_STORAGE_MEM_FILE_SYSTEM_H_
