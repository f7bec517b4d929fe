#include "storage/fast_writers.h"

#include <sched.h>

#include <algorithm>
#include <thread>

namespace rill {

bool FastWriters::Report(const void* writer, int64_t now_ms) {
  MutexLock lock(&mu_);
  bool found = false;
  for (auto& [who, when] : recent_) {
    if (who == writer) {
      when = std::max(when, now_ms);
      found = true;
    }
  }
  if (!found) recent_.emplace_back(writer, now_ms);
  std::erase_if(recent_, [&](const auto& e) { return now_ms - e.second > kRecentMillis; });
  return static_cast<int>(recent_.size()) < cores_;
}

int FastWriters::AvailableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(CPU_COUNT(&set), 1);
  return std::max(static_cast<int>(std::thread::hardware_concurrency()), 1);
}

}  // namespace rill
