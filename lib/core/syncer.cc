#include "core/syncer.h"

#include <map>

#include "core/log_state.h"

namespace rill::core {

Syncer::Syncer() : thread_([this] { Loop(); }) {}

Syncer::~Syncer() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.Signal();
  thread_.join();
}

void Syncer::Submit(std::shared_ptr<Topic> topic, Partition* partition,
                    std::function<void(const absl::Status&)> done) {
  {
    MutexLock lock(&mu_);
    queue_.push_back(Request{std::move(topic), partition, std::move(done)});
  }
  cv_.Signal();
}

void Syncer::Loop() {
  for (;;) {
    std::vector<Request> batch;
    {
      MutexLock lock(&mu_);
      while (!stopping_ && queue_.empty()) cv_.Wait(&mu_);
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
