#include "storage/posix_file_system.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "util/align.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace rill {

absl::Status ErrnoStatus(int err, std::string_view op, std::string_view path) {
  return absl::Status(absl::ErrnoToStatusCode(err),
                      absl::StrFormat("%s %s: %s", ToAbsl(op), ToAbsl(path), std::strerror(err)));
}

uint64_t PageSize() {
  static const uint64_t page_size = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return page_size;
}

namespace {

const uint64_t kPageSize = PageSize();

// Retries a system call interrupted by a signal.
template <typename F>
auto RetryEintr(F f) {
  decltype(f()) r;
  do {
    r = f();
  } while (r == -1 && errno == EINTR);
  return r;
}

class PosixMapping final : public Mapping {
 public:
  PosixMapping(char* data, uint64_t length, std::string path)
      : Mapping(data, length), path_(std::move(path)) {}
  ~PosixMapping() override { munmap(data(), length()); }

  absl::Status Sync(uint64_t offset, uint64_t n) override {
    if (n == 0) return absl::OkStatus();
    const uint64_t start = RoundDown(offset, kPageSize);
    if (RetryEintr([&] { return msync(data() + start, offset + n - start, MS_SYNC); }) != 0) {
      return ErrnoStatus(errno, "msync", path_);
    }
    return absl::OkStatus();
  }

  void Populate(uint64_t offset, uint64_t n) override {
    const uint64_t start = RoundDown(offset, kPageSize);
    const uint64_t end = offset + n;
    if (end <= start) return;
#ifdef MADV_POPULATE_WRITE
    if (madvise(data() + start, end - start, MADV_POPULATE_WRITE) == 0) return;
#endif
    // Older kernels: fault each page with an atomic add of zero, which keeps
    // whatever a concurrent writer stores there.
    for (uint64_t p = start; p < end; p += kPageSize) {
      __atomic_fetch_add(reinterpret_cast<unsigned char*>(data() + p), 0, __ATOMIC_RELAXED);
    }
  }

  void Discard(uint64_t offset, uint64_t n) override {
    // Whole pages only: the pages at either end may hold bytes still written.
    const uint64_t start = RoundUp(offset, kPageSize);
    const uint64_t end = RoundDown(std::min(offset + n, length()), kPageSize);
    if (end <= start) return;
    // On a shared file mapping MADV_DONTNEED keeps the data: dirty entries
    // pass their dirty bit to the page cache, which writes them back.
    madvise(data() + start, end - start, MADV_DONTNEED);
  }

  void PopulateRead(uint64_t offset, uint64_t n) override {
#ifdef MADV_POPULATE_READ
    const uint64_t start = RoundDown(offset, kPageSize);
    const uint64_t end = std::min(offset + n, length());
    if (end > start) madvise(data() + start, end - start, MADV_POPULATE_READ);
#else
    (void)offset;
    (void)n;  // Reads fault the pages in as they come.
#endif
  }

 private:
  const std::string path_;
};

class PosixFile final : public File {
 public:
  PosixFile(std::string path, int fd) : File(std::move(path)), fd_(fd) {}
  ~PosixFile() override { close(fd_); }

  absl::StatusOr<uint64_t> Size() override {
    struct stat st;
    if (fstat(fd_, &st) != 0) return ErrnoStatus(errno, "fstat", path());
    return static_cast<uint64_t>(st.st_size);
  }

  absl::StatusOr<uint64_t> AllocatedBytes() override {
    struct stat st;
    if (fstat(fd_, &st) != 0) return ErrnoStatus(errno, "fstat", path());
    return static_cast<uint64_t>(st.st_blocks) * 512;
  }

  absl::StatusOr<size_t> ReadAt(uint64_t offset, size_t n, char* dst) override {
    size_t done = 0;
    while (done < n) {
      const ssize_t r = RetryEintr(
          [&] { return pread(fd_, dst + done, n - done, static_cast<off_t>(offset + done)); });
      if (r < 0) return ErrnoStatus(errno, "pread", path());
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    return done;
  }

  absl::Status WritevAt(uint64_t offset, std::span<const std::string_view> pieces) override {
    constexpr size_t kMaxPieces = 8;
    if (pieces.size() > kMaxPieces) {
      for (std::string_view piece : pieces) {
        RETURN_IF_ERROR(WritevAt(offset, std::span<const std::string_view>(&piece, 1)));
        offset += piece.size();
      }
      return absl::OkStatus();
    }
    iovec iov[kMaxPieces];
    size_t count = 0;
    for (std::string_view piece : pieces) {
      if (piece.empty()) continue;
      iov[count++] = {const_cast<char*>(piece.data()), piece.size()};
    }
    iovec* next = iov;
    while (count > 0) {
      const ssize_t r = RetryEintr(
          [&] { return pwritev(fd_, next, static_cast<int>(count), static_cast<off_t>(offset)); });
      if (r < 0) return ErrnoStatus(errno, "pwrite", path());
      // A short write: skip what was written and go on.
      size_t done = static_cast<size_t>(r);
      offset += done;
      while (count > 0 && done >= next->iov_len) {
        done -= next->iov_len;
        ++next;
        --count;
      }
      if (count > 0) {
        next->iov_base = static_cast<char*>(next->iov_base) + done;
        next->iov_len -= done;
      }
    }
    return absl::OkStatus();
  }

  absl::Status Truncate(uint64_t size) override {
    if (RetryEintr([&] { return ftruncate(fd_, static_cast<off_t>(size)); }) != 0) {
      return ErrnoStatus(errno, "ftruncate", path());
    }
    return absl::OkStatus();
  }

  absl::Status Allocate(uint64_t offset, uint64_t n) override {
    if (n == 0) return absl::OkStatus();
    const int r = RetryEintr(
        [&] { return fallocate(fd_, 0, static_cast<off_t>(offset), static_cast<off_t>(n)); });
    if (r == 0) return absl::OkStatus();
    if (errno != EOPNOTSUPP) return ErrnoStatus(errno, "fallocate", path());
    // A file system without fallocate: posix_fallocate writes zeros instead.
    const int err = posix_fallocate(fd_, static_cast<off_t>(offset), static_cast<off_t>(n));
    if (err != 0) return ErrnoStatus(err, "posix_fallocate", path());
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    if (RetryEintr([&] { return fdatasync(fd_); }) != 0) {
      return ErrnoStatus(errno, "fdatasync", path());
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<Mapping>> Map(uint64_t length, bool writable) override {
    if (length == 0) return absl::InvalidArgumentError(absl::StrCat("mmap ", path(), ": empty"));
    const int prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;
    void* p = mmap(nullptr, length, prot, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) return ErrnoStatus(errno, "mmap", path());
    return std::make_unique<PosixMapping>(static_cast<char*>(p), length, path());
  }

 private:
  const int fd_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override { close(fd_); }  // Closing releases the lock.

 private:
  const int fd_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<File>> PosixFileSystem::OpenFile(const std::string& path,
                                                                OpenMode mode) {
  int flags = O_CLOEXEC;
  switch (mode) {
    case OpenMode::kRead: flags |= O_RDONLY; break;
    case OpenMode::kReadWrite: flags |= O_RDWR; break;
    case OpenMode::kCreate: flags |= O_RDWR | O_CREAT; break;
    case OpenMode::kCreateExclusive: flags |= O_RDWR | O_CREAT | O_EXCL; break;
    case OpenMode::kTruncate: flags |= O_RDWR | O_CREAT | O_TRUNC; break;
  }
  const int fd = RetryEintr([&] { return open(path.c_str(), flags, 0644); });
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  return std::make_unique<PosixFile>(path, fd);
}

absl::Status PosixFileSystem::CreateDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) == 0) return absl::OkStatus();
  const int err = errno;
  struct stat st;
  if (err == EEXIST && stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return absl::OkStatus();
  }
  return ErrnoStatus(err, "mkdir", path);
}

absl::StatusOr<std::vector<std::string>> PosixFileSystem::ListDir(const std::string& path) {
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return ErrnoStatus(errno, "opendir", path);
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = readdir(dir)) {
    const std::string_view name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int err = errno;
  closedir(dir);
  if (err != 0) return ErrnoStatus(err, "readdir", path);
  return names;
}

absl::StatusOr<FileInfo> PosixFileSystem::Stat(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "stat", path);
  return FileInfo{.is_directory = S_ISDIR(st.st_mode),
                  .size = static_cast<uint64_t>(st.st_size),
                  .allocated_bytes = static_cast<uint64_t>(st.st_blocks) * 512};
}

absl::Status PosixFileSystem::RemoveFile(const std::string& path) {
  if (unlink(path.c_str()) != 0) return ErrnoStatus(errno, "unlink", path);
  return absl::OkStatus();
}

absl::Status PosixFileSystem::RemoveDir(const std::string& path) {
  if (rmdir(path.c_str()) != 0) return ErrnoStatus(errno, "rmdir", path);
  return absl::OkStatus();
}

absl::Status PosixFileSystem::Rename(const std::string& from, const std::string& to) {
  if (rename(from.c_str(), to.c_str()) != 0) {
    return ErrnoStatus(errno, "rename", absl::StrCat(from, " to ", to));
  }
  return absl::OkStatus();
}

absl::Status PosixFileSystem::SyncDir(const std::string& path) {
  const int fd = RetryEintr([&] { return open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  const int r = RetryEintr([&] { return fsync(fd); });
  const int err = errno;
  close(fd);
  if (r != 0) return ErrnoStatus(err, "fsync", path);
  return absl::OkStatus();
}

namespace {

// LockHolder(fd): the pid a held lock file names, once it names a live
// process. The holder writes its pid just after taking the lock, so for a
// moment the file may still name the previous holder, long gone, or be half
// rewritten: look again for a little while before giving up.
std::optional<int64_t> LockHolder(int fd) {
  constexpr int kAttempts = 20;
  constexpr useconds_t kPause = 5000;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    char buf[32] = {};
    const ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    int64_t pid = 0;
    if (n > 0 &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::string_view(buf, n)), &pid) &&
        pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM)) {
      return pid;
    }
    usleep(kPause);
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FileLock>> PosixFileSystem::LockFile(const std::string& path) {
  const int fd = RetryEintr([&] { return open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644); });
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  // An open-file-description lock conflicts with every other open of the
  // file, in this process too, unlike a classic POSIX record lock.
  struct flock lock = {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  if (RetryEintr([&] { return fcntl(fd, F_OFD_SETLK, &lock); }) != 0) {
    const int err = errno;
    if (err != EAGAIN && err != EACCES) {
      close(fd);
      return ErrnoStatus(err, "lock", path);
    }
    const std::optional<int64_t> pid = LockHolder(fd);
    close(fd);
    std::string holder = "another process";
    if (pid) {
      holder = *pid == getpid() ? absl::StrCat("this process (pid ", *pid, ")")
                                : absl::StrCat("process ", *pid);
    }
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is locked by ", holder, ": the log is open for writing there"));
  }
  // Overwrite, then cut what is left of a longer pid: the file is never
  // empty for a contender to read.
  const std::string pid = absl::StrCat(getpid(), "\n");
  if (pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()) ||
      ftruncate(fd, static_cast<off_t>(pid.size())) != 0) {
    const int err = errno;
    close(fd);
    return ErrnoStatus(err, "write pid to", path);
  }
  return std::make_unique<PosixFileLock>(fd);
}

}  // namespace rill
