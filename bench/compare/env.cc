#include "env.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rill::bench {

std::string BenchRoot() {
  const char* root = std::getenv("RILL_BENCH_DIR");
  return root != nullptr && root[0] != '\0' ? root : "/tmp";
}

absl::StatusOr<std::string> MakeScratchDir(const std::string& parent, const std::string& prefix) {
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) return absl::InternalError(absl::StrCat("mkdir ", parent, ": ", ec.message()));
  std::string path = absl::StrCat(parent, "/", prefix, "-XXXXXX");
  if (mkdtemp(path.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", path, ": ", std::strerror(errno)));
  }
  return path;
}

absl::Status RemoveTree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return absl::InternalError(absl::StrCat("remove ", path, ": ", ec.message()));
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> DiskBytes(const std::string& path) {
  std::error_code ec;
  uint64_t total = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st;
    if (lstat(it->path().c_str(), &st) != 0) continue;  // Removed under us (a peer's temp file).
    if (S_ISREG(st.st_mode)) total += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  if (ec) return absl::InternalError(absl::StrCat("walk ", path, ": ", ec.message()));
  return total;
}

namespace {

std::string FirstLineWith(const char* file, std::string_view prefix) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) {
      const size_t colon = line.find(':');
      std::string value = colon == std::string::npos ? line : line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  }
  return "unknown";
}

std::string FileSystemOf(const std::string& path) {
  // The longest mount point that is a prefix of the path names its type.
  char real[PATH_MAX];
  const std::string target = realpath(path.c_str(), real) != nullptr ? real : path;
  std::ifstream in("/proc/self/mounts");
  std::string device, mount, type, best_type = "unknown";
  size_t best = 0;
  std::string rest;
  while (in >> device >> mount >> type && std::getline(in, rest)) {
    const bool prefix =
        target.rfind(mount, 0) == 0 &&
        (target.size() == mount.size() || mount == "/" || target[mount.size()] == '/');
    if (prefix && mount.size() >= best) {
      best = mount.size();
      best_type = type;
    }
  }
  return best_type;
}

int CountCompilers() {
  int n = 0;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return 0;
  while (dirent* e = readdir(proc)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream comm(absl::StrCat("/proc/", e->d_name, "/comm"));
    std::string name;
    if (std::getline(comm, name) && (name == "cc1plus" || name == "cc1")) ++n;
  }
  closedir(proc);
  return n;
}

// CpuTimes(): idle and total jiffies of all CPUs, from /proc/stat.
std::pair<uint64_t, uint64_t> CpuTimes() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  uint64_t total = 0, idle = 0, v;
  for (int i = 0; i < 8 && in >> v; ++i) {
    total += v;
    if (i == 3 || i == 4) idle += v;  // idle, iowait
  }
  return {idle, total};
}

}  // namespace

Machine DescribeMachine() {
  Machine m;
  m.cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  m.cpu_model = FirstLineWith("/proc/cpuinfo", "model name");
  utsname u;
  if (uname(&u) == 0) m.kernel = absl::StrCat(u.sysname, " ", u.release, " ", u.machine);
  m.filesystem = FileSystemOf(BenchRoot());
  const std::string mem_kb = FirstLineWith("/proc/meminfo", "MemTotal");
  m.memory = absl::StrFormat("%.0f GiB", std::atof(mem_kb.c_str()) / (1 << 20));
  std::ifstream load("/proc/loadavg");
  load >> m.load1 >> m.load5 >> m.load15;
  m.compilers_running = CountCompilers();
  const auto [idle0, total0] = CpuTimes();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const auto [idle1, total1] = CpuTimes();
  if (total1 > total0) {
    m.busy_percent =
        100.0 * (1.0 - static_cast<double>(idle1 - idle0) / static_cast<double>(total1 - total0));
  }
  return m;
}

std::string DateNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

}  // namespace rill::bench
