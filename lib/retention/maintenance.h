// Maintenance: the log's housekeeping pass. For every topic, in turn:
//
//  1. roll each active segment that reached segment.ms (or whose records are
//     all past retention.ms), so that a quiet topic ages out too;
//  2. cleanup.policy delete: delete the segments past retention.ms and
//     retention.bytes (retention_rules.h);
//  3. cleanup.policy compact: run a CleaningJob on each partition;
//  4. quota.policy drop-oldest: delete the oldest segments while the topic
//     is over its quota.bytes;
// then, for the log, delete the oldest segments of drop-oldest topics while
// it is over its disk budget, and measure every file again (st_blocks) to
// correct the counts that appends rely on.
//
// A pass runs either now, on the calling thread (RunNow, which
// Log::RunMaintenance calls), or every `interval` on the log's background
// threads (Start), in steps of bounded work that re-queue themselves, so the
// prefaulting and syncing tasks that keep appends fast run in between. One
// pass runs at a time.
//
// Thread-safety: every method may be called from any thread.
#ifndef RILL_LIB_RETENTION_MAINTENANCE_H_
#define RILL_LIB_RETENTION_MAINTENANCE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "util/mutex.h"
#include "retention/disk_account.h"
#include "rill/clock.h"
#include "rill/log_sink.h"
#include "rill/options.h"
#include "rill/retention.h"
#include "storage/file_system.h"
#include "storage/partition_log.h"
#include "util/task_runner.h"
#include "util/timer.h"

namespace rill::retention {

// TopicView: a topic as maintenance sees it.
struct TopicView {
  std::string name;
  TopicConfig config;
  std::vector<PartitionLog*> partitions;
  std::shared_ptr<TopicAccount> account;
  // The topic's settings file, counted in its disk usage.
  std::string settings_path;
  // Keeps `partitions` alive.
  std::shared_ptr<const void> keep_alive;
};

class Maintenance : public std::enable_shared_from_this<Maintenance> {
 public:
  struct Options {
    FileSystem* fs = nullptr;
    std::string dir;  // The log's directory.
    Clock* clock = nullptr;
    LogSink sink;
    std::shared_ptr<LogAccount> account;
    // The live topics, when a pass starts.
    std::function<std::vector<TopicView>()> topics;
  };

  static std::shared_ptr<Maintenance> Create(Options options);
  ~Maintenance();

  // RunNow(only_topic): a whole pass on the calling thread, after any pass
  // under way. With `only_topic`, the per-topic steps (1-4) run for that
  // topic alone; the log's budget and the measuring run as always.
  MaintenanceReport RunNow(std::string_view only_topic = {});

  // Start(runner, timer, interval_us): a pass every interval_us, on
  // `runner`, timed by `timer`; both must outlive Stop().
  void Start(TaskRunner* runner, Timer* timer, int64_t interval_us);

  // Stop(): no pass starts any more; one under way stops at its next step.
  // Returns once none runs.
  void Stop();

  // running(): whether a pass is under way (for benchmarks and tests).
  bool running() {
    MutexLock lock(&mu_);
    return busy_;
  }

  // Remeasure(topics): measures every file of the log and corrects the
  // disk counts; returns the log's total.
  absl::StatusOr<uint64_t> Remeasure(const std::vector<TopicView>& topics);

 private:
  class Pass;
  explicit Maintenance(Options options);
  void Arm() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void BackgroundStep();

  const Options options_;
  Mutex mu_;
  CondVar idle_;  // Signalled (all) when busy_ turns false or stopping_ true.
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::unique_ptr<Pass> background_pass_ ABSL_GUARDED_BY(mu_);
  TaskRunner* runner_ ABSL_GUARDED_BY(mu_) = nullptr;
  Timer* timer_ ABSL_GUARDED_BY(mu_) = nullptr;
  int64_t interval_us_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace rill::retention

#endif  // RILL_LIB_RETENTION_MAINTENANCE_H_
