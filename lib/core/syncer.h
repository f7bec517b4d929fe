// Syncer: makes partitions durable for SendAsync at kPowerLoss, on a thread
// of its own, so that the sender keeps appending while the device syncs.
// Requests that arrive while a sync runs are served together by the next
// one (group commit across producers).
//
// Thread-safety: Submit from any thread; callbacks run on the syncer's.
#ifndef RILL_LIB_CORE_SYNCER_H_
#define RILL_LIB_CORE_SYNCER_H_

#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "util/mutex.h"

namespace rill::core {

class Partition;
class Topic;

class Syncer {
 public:
  Syncer();
  // Serves every request already submitted, then stops.
  ~Syncer();

  // Submit(topic, partition, done): syncs `partition` (kept alive by
  // `topic`) up to at least its end now, then calls done(status).
  void Submit(std::shared_ptr<Topic> topic, Partition* partition,
              std::function<void(const absl::Status&)> done);

 private:
  struct Request {
    std::shared_ptr<Topic> topic;
    Partition* partition;
    std::function<void(const absl::Status&)> done;
  };
  void Loop();

  Mutex mu_;
  CondVar cv_;  // Signalled when a request is queued or stopping_ is set.
  std::vector<Request> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace rill::core

#endif  // RILL_LIB_CORE_SYNCER_H_
