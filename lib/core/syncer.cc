#include "core/syncer.h"

#include <map>

#include "core/log_state.h"

namespace rill::core {

Syncer::Syncer() : thread_([this] { Loop(); }) {}

Syncer::~Syncer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void Syncer::Submit(std::shared_ptr<Topic> topic, Partition* partition,
                    std::function<void(const absl::Status&)> done) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(Request{std::move(topic), partition, std::move(done)});
}

void Syncer::Loop() {
  for (;;) {
    std::vector<Request> batch;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Syncer* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
            return s->stopping_ || !s->queue_.empty();
          },
          this));
      if (queue_.empty()) return;
      batch.swap(queue_);
    }
    // One sync per partition covers every request taken.
    std::map<Partition*, absl::Status> results;
    for (const Request& r : batch) {
      if (results.count(r.partition) == 0) results[r.partition] = r.partition->log().Sync();
    }
    for (Request& r : batch) r.done(results[r.partition]);
  }
}

}  // namespace rill::core
