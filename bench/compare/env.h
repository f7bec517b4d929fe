// What the harness needs from the machine: time, scratch directories, disk
// usage, and a description of the machine for the report.
//
// Thread-safety: all functions may be called from any thread.
#ifndef RILL_BENCH_COMPARE_ENV_H_
#define RILL_BENCH_COMPARE_ENV_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace rill::bench {

// NowNs(): steady_clock, in nanoseconds.
inline int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline void CpuRelax() { __builtin_ia32_pause(); }

// BenchRoot(): $RILL_BENCH_DIR, or /tmp.
std::string BenchRoot();

// MakeScratchDir(parent, prefix): a new, empty directory under `parent`.
absl::StatusOr<std::string> MakeScratchDir(const std::string& parent, const std::string& prefix);

// RemoveTree(path): removes `path` and everything under it.
absl::Status RemoveTree(const std::string& path);

// DiskBytes(path): bytes allocated on the device for the files under
// `path` (st_blocks), which counts neither holes nor unused preallocation
// beyond what the file system reserved.
absl::StatusOr<uint64_t> DiskBytes(const std::string& path);

// Machine: how the report describes where it ran.
struct Machine {
  int cpus = 0;
  std::string cpu_model;
  std::string kernel;
  std::string filesystem;  // Of BenchRoot().
  std::string memory;
  double load1 = 0, load5 = 0, load15 = 0;
  // Share of all CPUs busy (not idle) over one second, in percent: other
  // users' work counts even where their processes are not visible here.
  double busy_percent = 0;
  int compilers_running = 0;  // cc1plus / cc1 processes seen.
};
// DescribeMachine(): takes a second (it samples CPU use).
Machine DescribeMachine();

// TimeNow(): the local date and time, "2026-11-21 06:13 UTC".
std::string DateNow();

}  // namespace rill::bench

#endif  // RILL_BENCH_COMPARE_ENV_H_
